"""Confusion matrices of the default profile on the held-out replies in
``tests/data/holdout.csv``: a set labelled apart from the classifier's rules, so its
figures are a fairer estimate than the corpus the rules were written against.

Run: ``python benchmarks/classify_holdout.py`` (``--misses`` also lists every reply
classified differently from its label).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from classify_corpus import Row, load, matrix, predictions, render

HOLDOUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "holdout.csv"


def misses(rows: list[Row], predicted: list[str]) -> list[str]:
    """One Markdown table row per reply whose classification differs from its label."""
    lines = [
        "| language | label | classified | text | note |",
        "|---|---|---|---|---|",
    ]
    for row, got in zip(rows, predicted, strict=True):
        if got != row.label:
            text = repr(row.text).replace("|", "\\|")
            note = row.note.replace("|", "\\|")
            lines.append(f"| {row.language} | {row.label} | {got} | {text} | {note} |")
    return lines


def main(argv: list[str]) -> None:
    rows = load(HOLDOUT)
    predicted = predictions(rows)
    print(render(matrix(rows, predicted), f"Held-out, all languages ({len(rows)} replies)"))
    for language in sorted({row.language for row in rows}):
        pairs = [(r, p) for r, p in zip(rows, predicted, strict=True) if r.language == language]
        subset = [r for r, _ in pairs]
        print()
        print(render(matrix(subset, [p for _, p in pairs]), f"{language} ({len(subset)})"))
    wrong = sum(got != row.label for row, got in zip(rows, predicted, strict=True))
    print()
    print(f"{len(rows) - wrong} of {len(rows)} replies classified as labelled; {wrong} misses.")
    if "--misses" in argv:
        print()
        print("\n".join(misses(rows, predicted)))


if __name__ == "__main__":
    main(sys.argv[1:])
