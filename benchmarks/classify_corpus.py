"""Confusion matrices of the default profile on the labelled corpus, overall and per
language, as printed into docs/benchmarks.md. Run: ``python benchmarks/classify_corpus.py``
(``--misses`` also lists every message classified differently from its label).
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from optline import classify

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "corpus.csv"
LABELS = ("opt_out", "possible_opt_out", "opt_in", "help", "none")


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    label: str
    language: str
    note: str


def load(path: Path = CORPUS) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as f:
        return [Row(r["text"], r["label"], r["language"], r["note"]) for r in csv.DictReader(f)]


def predictions(rows: list[Row], policy: str = "default") -> list[str]:
    return [classify(row.text, policy).intent.value for row in rows]


def matrix(rows: list[Row], predicted: list[str]) -> Counter[tuple[str, str]]:
    """(label, predicted) -> count."""
    return Counter((row.label, got) for row, got in zip(rows, predicted, strict=True))


def opt_out_recall(counts: Counter[tuple[str, str]]) -> float:
    total = sum(n for (label, _), n in counts.items() if label == "opt_out")
    return counts[("opt_out", "opt_out")] / total if total else 1.0


def false_opt_out_rate(counts: Counter[tuple[str, str]]) -> float:
    """Share of messages labelled none or opt_in that were classified opt_out."""
    negative = sum(n for (label, _), n in counts.items() if label in ("none", "opt_in"))
    wrong = counts[("none", "opt_out")] + counts[("opt_in", "opt_out")]
    return wrong / negative if negative else 0.0


def render(counts: Counter[tuple[str, str]], title: str) -> str:
    """A Markdown table: rows are labels, columns what the classifier said."""
    present = [label for label in LABELS if any(k[0] == label for k in counts)]
    lines = [
        f"**{title}** (rows: label, columns: classified as)",
        "",
        "| label \\ classified | " + " | ".join(LABELS) + " | total |",
        "|---" * (len(LABELS) + 2) + "|",
    ]
    for label in present:
        cells = [str(counts[(label, got)]) for got in LABELS]
        total = sum(counts[(label, got)] for got in LABELS)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {total} |")
    lines += [
        "",
        f"opt_out recall {opt_out_recall(counts):.1%}; "
        f"none/opt_in classified opt_out {false_opt_out_rate(counts):.2%}",
    ]
    return "\n".join(lines)


def misses(rows: list[Row], predicted: list[str]) -> list[str]:
    """One Markdown table row per message whose classification differs from its label."""
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


def report(rows: list[Row], title: str, argv: list[str]) -> None:
    """Print the confusion matrices overall and per language; ``--misses`` lists misses."""
    predicted = predictions(rows)
    print(render(matrix(rows, predicted), f"{title} ({len(rows)} messages)"))
    for language in sorted({row.language for row in rows}):
        pairs = [(r, p) for r, p in zip(rows, predicted, strict=True) if r.language == language]
        subset = [r for r, _ in pairs]
        print()
        print(render(matrix(subset, [p for _, p in pairs]), f"{language} ({len(subset)})"))
    wrong = sum(got != row.label for row, got in zip(rows, predicted, strict=True))
    print()
    print(f"{len(rows) - wrong} of {len(rows)} messages classified as labelled; {wrong} misses.")
    if "--misses" in argv:
        print()
        print("\n".join(misses(rows, predicted)))


if __name__ == "__main__":
    report(load(), "All languages", sys.argv[1:])
