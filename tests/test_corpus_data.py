"""Every labelled reply set under tests/data/ is well formed (see tests/data/README.md):
the same four columns, labels the classifier can answer, ISO 639-1 language codes, and
no text in two places, so a model trained on all of them never sees a row twice.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from classify_corpus import LABELS, Row, load

DATA = Path(__file__).resolve().parent / "data"
COLUMNS = ["text", "label", "language", "note"]
LANGUAGES = frozenset({"en", "es", "fr", "de", "pt", "it", "zh"})
# The first three sets were written apart as independent measurements, so the commonest
# short replies ("STOP", "Cancel") recur between them; every other file adds only texts
# found nowhere else.
INDEPENDENT_SETS = frozenset({"corpus.csv", "holdout.csv", "holdout2.csv"})


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return next(csv.reader(f))


def key(text: str) -> str:
    """Texts that differ only in case or spacing count as the same reply."""
    return " ".join(text.split()).casefold()


def problems(root: Path) -> list[str]:
    """Everything wrong with the CSV files under ``root``, one line per problem."""
    found: list[str] = []
    files: dict[str, set[str]] = defaultdict(set)
    for path in sorted(root.rglob("*.csv")):
        name = str(path.relative_to(root))
        if header(path) != COLUMNS:
            found.append(f"{name}: columns {header(path)}")
            continue
        rows: list[Row] = load(path)
        texts = [row.text for row in rows]
        found += [f"{name}: {t!r} twice" for t in sorted({t for t in texts if texts.count(t) > 1})]
        found += [f"{name}: label {r.label!r}" for r in rows if r.label not in LABELS]
        found += [f"{name}: language {r.language!r}" for r in rows if r.language not in LANGUAGES]
        found += [f"{name}: empty text" for r in rows if not r.text.strip()]
        for text in texts:
            files[key(text)].add(name)
    for text, names in sorted(files.items()):
        if len(names) > 1 and not names <= INDEPENDENT_SETS:
            found.append(f"{text!r} in {sorted(names)}")
    return found


def test_every_data_file_is_well_formed_and_adds_only_new_texts() -> None:
    assert len(list(DATA.rglob("*.csv"))) > len(INDEPENDENT_SETS)
    assert problems(DATA) == []


def test_the_data_holds_at_least_3000_replies_in_every_label() -> None:
    rows = [row for path in DATA.rglob("*.csv") for row in load(path)]
    assert len(rows) >= 3000
    assert {row.label for row in rows} == set(LABELS)


def write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["text,label", "STOP,opt_out"], "a.csv: columns ['text', 'label']"),
        (["text,label,language,note", "STOP,stop,en,x"], "a.csv: label 'stop'"),
        (["text,label,language,note", "STOP,opt_out,english,x"], "a.csv: language 'english'"),
        (["text,label,language,note", "STOP,opt_out,en,x", "STOP,opt_out,en,y"], "twice"),
        (["text,label,language,note", "Remove me,opt_out,en,x"], "'remove me' in"),
    ],
)
def test_each_problem_is_reported(tmp_path: Path, lines: list[str], expected: str) -> None:
    write(tmp_path / "a.csv", lines)
    write(tmp_path / "replies" / "b.csv", ["text,label,language,note", "REMOVE  ME,opt_out,en,x"])
    assert any(expected in problem for problem in problems(tmp_path))


def test_the_independent_sets_may_share_texts_but_no_other_file_may(tmp_path: Path) -> None:
    for name in INDEPENDENT_SETS:
        write(tmp_path / name, ["text,label,language,note", "STOP,opt_out,en,keyword"])
    assert problems(tmp_path) == []
    write(tmp_path / "replies" / "extra.csv", ["text,label,language,note", "stop,opt_out,en,x"])
    assert problems(tmp_path) == [
        "'stop' in ['corpus.csv', 'holdout.csv', 'holdout2.csv', 'replies/extra.csv']"
    ]
