"""Train the learned stage's model: ``python -m optline.train [--data DIR] [--out FILE]``.

Belongs here: reading the labelled replies, fitting the character n-gram logistic
regression, choosing its thresholds by cross-validation and writing the model file
that :mod:`optline.domain.learned` reads. Needs scikit-learn (``pip install
optline[train]``); the run time does not.

Deterministic: fixed seed, one thread, sorted inputs and a file written with sorted
keys and rounded numbers, so the same data and library versions give the same bytes.
Every CSV under the data folder is read (columns ``text,label,language,note``); a text
met twice keeps its first row. The file records the data's SHA-256, the library
versions, the thresholds and the cross-validated figures per class and per language.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import platform
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from optline.domain import learned
from optline.domain.classify import classify
from optline.domain.detect import detector_for
from optline.domain.profiles import get_profile
from optline.domain.text import join_spelled_out

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
OUT = Path(__file__).resolve().parent / "domain" / "data" / learned.MODEL_FILE
SEED = 18
FOLDS = 5
# Inverse regularisation strength of the logistic regression: of 8, 30, 100 and 1000,
# 100 gave the best cross-validated recall at the same false opt-outs.
C = 100.0
# A gram enters the vocabulary when at least this many training texts have it.
MIN_DF = 2
# Caps: auto opt-outs the model adds, as a share of the none and opt_in replies the
# rules leave as none or possible; possible opt-outs of the model alone, as a share of
# all none and opt_in replies.
MAX_FALSE_OPT_OUT = 0.0025
MAX_FALSE_POSSIBLE = 0.02
# Caps of each head (help, opt-in): replies of another label it reads as its own, as a
# share of them, and of the replies that may ask to stop among them (an opt-out read
# as an opt-in would keep texting someone who asked to stop). A possible opt-out read
# as help gets the HELP reply, which says how to stop, as the rules answer "who is
# this?" (CTIA 5.1.2.1), so only opt-outs count against the help head.
MAX_FALSE_HEAD = {"help": 0.005, "opt_in": 0.0025}
MAX_OPT_OUT_AS_HEAD = 0.001
_STOPPING = {"help": ("opt_out",), "opt_in": ("opt_out", "possible_opt_out")}
_HEAD_GRID = [round(0.50 + 0.01 * i, 2) for i in range(50)]
_GRID = [round(0.30 + 0.01 * i, 2) for i in range(70)]
# A labelled example under 0.4 alike is no neighbour: with small changes to the data
# the cross-validation chose 0.3 twice, and then opted out chat nothing like an
# opt-out ("Excellent! Wish we were together right now!", 0.34 alike to "remove me
# right now").
_NEIGHBOUR_GRID = [0.4, 0.45, 0.5, 0.55, 0.6]
# Similarities of a nearly identical opt-out example tried for the possible band's own
# opt-outs (learned.Model.opts_out); _NEVER turns that route off.
_NEVER = 2.0
_SURE_GRID = [0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, _NEVER]
NEGATIVE = ("none", "opt_in")
_DIGITS = 5


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    label: str
    language: str


def data_files(data: Path) -> list[Path]:
    """Every CSV under ``data``, in a fixed order."""
    return sorted(data.rglob("*.csv"), key=lambda p: p.relative_to(data).as_posix())


def data_hash(data: Path) -> str:
    """SHA-256 over each CSV's path (relative to ``data``) and bytes, in order."""
    digest = hashlib.sha256()
    for path in data_files(data):
        digest.update(path.relative_to(data).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def load(data: Path) -> list[Row]:
    rows: dict[str, Row] = {}
    for path in data_files(data):
        with path.open(encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                text = r["text"]
                if text.strip() and text not in rows:
                    rows[text] = Row(text, r["label"], r["language"] or "?")
    return list(rows.values())


def fit(rows: Sequence[Row], label: str = "opt_out") -> tuple[dict[str, float], float]:
    """Weights by gram and intercept of the model of ``label`` against the rest. For
    opt-outs a possible opt-out counts as half an opt-out and half not."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    gram_sets = [learned.grams(learned.model_form(row.text)) for row in rows]
    counts: Counter[str] = Counter(g for found in gram_sets for g in found)
    vocabulary = sorted(g for g, n in counts.items() if n >= MIN_DF)
    column = {g: i for i, g in enumerate(vocabulary)}
    data: list[float] = []
    indices: list[int] = []
    indptr = [0]
    targets: list[int] = []
    weights: list[float] = []
    for row, found in zip(rows, gram_sets, strict=True):
        cols = sorted(column[g] for g in found if g in column)
        value = 1.0 / math.sqrt(len(cols)) if cols else 0.0
        sides = [(1, 1.0)] if row.label == label else [(0, 1.0)]
        if label == "opt_out" and row.label == "possible_opt_out":
            sides = [(1, 0.5), (0, 0.5)]
        for target, weight in sides:
            indices.extend(cols)
            data.extend([value] * len(cols))
            indptr.append(len(indices))
            targets.append(target)
            weights.append(weight)
    matrix = csr_matrix(
        (np.array(data), np.array(indices), np.array(indptr)), shape=(len(targets), len(column))
    )
    model = LogisticRegression(C=C, solver="liblinear", random_state=SEED, max_iter=2000)
    model.fit(matrix, np.array(targets), sample_weight=np.array(weights))
    coef = model.coef_[0]
    table = {g: round(float(coef[i]), _DIGITS) for g, i in column.items()}
    return table, round(float(model.intercept_[0]), _DIGITS)


def as_model(
    rows: Sequence[Row],
    table: dict[str, float],
    intercept: float,
    at: dict[str, float],
    heads: dict[str, tuple[dict[str, float], float]] | None = None,
) -> learned.Model:
    return learned.Model(
        weights=table,
        intercept=intercept,
        opt_out_at=at["opt_out"],
        possible_at=at["possible_opt_out"],
        neighbour_at=at["neighbour"],
        sure_at=at.get("sure_neighbour", _NEVER),
        examples=learned.examples_of((row.text, row.label) for row in rows),
        heads=tuple(
            learned.Head(label, weights, bias, at.get(label, 1.0))
            for label, (weights, bias) in (heads or {}).items()
        ),
    )


@dataclass(frozen=True, slots=True)
class _Scored:
    """A held-out row: the rules' intent, the model's probability and nearest example."""

    row: Row
    rules: str
    probability: float
    neighbour: tuple[str, float]
    # learned.may_read and learned.may_opt_out of the row's words.
    read: bool = True
    alone_opts_out: bool = True
    # Each head's probability, where the text is short enough for the heads to read.
    heads: tuple[tuple[str, float], ...] = ()


def cross_validate(rows: Sequence[Row]) -> list[_Scored]:
    """Each row scored by the model trained on the other folds (stratified by label)."""
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    labels = [row.label for row in rows]
    scored: list[_Scored | None] = [None] * len(rows)
    unset = {"opt_out": 1.0, "possible_opt_out": 1.0, "neighbour": 1.0}
    for train, test in folds.split(labels, labels):
        part = [rows[i] for i in train]
        heads = {label: fit(part, label) for label in learned.HEAD_LABELS}
        model = as_model(part, *fit(part), unset, heads)
        for i in test:
            row = rows[i]
            form = learned.model_form(row.text)
            near = model.nearest(form)
            words = words_of(form)
            scored[i] = _Scored(
                row,
                classify(row.text, use_model=False).intent.value,
                model.probability(form),
                ("none", 0.0) if near is None else (near.example.label, near.similarity),
                learned.may_read(words),
                learned.may_opt_out(words),
                head_probabilities(model, form),
            )
    return [s for s in scored if s is not None]


def words_of(form: str) -> list[str]:
    """The words classify reads ``form`` as for learned.may_read and may_opt_out: a text
    spelled out letter by letter ("s t 0 p") is one word, as the keyword stage joins it,
    and its "t" is no negation."""
    return join_spelled_out(form.replace("?", "").split())


def head_probabilities(model: learned.Model, form: str) -> tuple[tuple[str, float], ...]:
    """Each head's probability for the text of ``form``, where the heads read it under
    the default profile (learned.heads_read)."""
    if not learned.heads_read(form, detector_for(get_profile("default")).keyword_words):
        return ()
    found = learned.grams(form)
    return tuple((head.label, head.probability(found)) for head in model.heads)


def _combined(s: _Scored, at: dict[str, float]) -> str:
    """The rules and then the model at thresholds ``at``, as classify.learned_stage
    combines them (test_learned checks that the two agree): the reading, where an
    opt-in of the model's is only noted in the classification's ``detected``."""
    if s.rules not in ("none", "possible_opt_out") or not s.read:
        return s.rules
    if s.probability < at["possible_opt_out"]:
        return _head(s, at) if s.rules == "none" else s.rules
    label, similarity = s.neighbour
    if (
        s.alone_opts_out
        and label == "opt_out"
        and (
            similarity >= at.get("sure_neighbour", _NEVER)
            or (s.probability >= at["opt_out"] and similarity >= at["neighbour"])
        )
    ):
        return "opt_out"
    return "possible_opt_out"


def _head(s: _Scored, at: dict[str, float]) -> str:
    """The heads' reading of a text the rules and the opt-out model leave as none: the
    surest head at or above its threshold in ``at``, with a nearest example of its
    class (classify._head_stage)."""
    best: tuple[str, float] | None = None
    for label, probability in s.heads:
        if label in at and probability >= at[label] and (best is None or probability > best[1]):
            best = (label, probability)
    if best is None:
        return "none"
    label, similarity = s.neighbour
    return label if label == best[0] and similarity >= at["neighbour"] else "none"


def _alone(s: _Scored, at: dict[str, float]) -> str:
    """The model's own reading at thresholds ``at``, whatever the rules said."""
    return _combined(
        _Scored(s.row, "none", s.probability, s.neighbour, True, s.alone_opts_out, s.heads), at
    )


def choose_thresholds(scored: Sequence[_Scored]) -> dict[str, float]:
    """Thresholds from the held-out readings of the rules then the model, as
    classify() combines them: the opt-out threshold and neighbour floor that catch the
    most opt-outs while the model adds at most MAX_FALSE_OPT_OUT of the none and
    opt_in replies the rules leave as none or possible as opt-outs (a false opt-out
    of the rules' own is not the model's to cap; ties: the higher threshold); then the
    lowest possible threshold under which the model alone reads at most
    MAX_FALSE_POSSIBLE of all none and opt_in replies as possible opt-outs; then the
    similarity of a nearly identical opt-out example that opts out in that band
    (:func:`sure_threshold`)."""
    negatives = [s for s in scored if s.row.label in NEGATIVE]
    left = [s for s in negatives if s.rules in ("none", "possible_opt_out")]
    positives = [s for s in scored if s.row.label == "opt_out"]
    best: tuple[int, float, float] | None = None
    for t in _GRID:
        for n in _NEIGHBOUR_GRID:
            at = {"opt_out": t, "possible_opt_out": t, "neighbour": n}
            wrong = sum(_combined(s, at) == "opt_out" for s in left)
            if wrong > MAX_FALSE_OPT_OUT * len(left):
                continue
            caught = sum(_combined(s, at) == "opt_out" for s in positives)
            if best is None or caught >= best[0]:
                best = (caught, t, n)
    assert best is not None, "no threshold keeps false opt-outs under the cap"
    _, opt_out_at, neighbour_at = best
    possible_at = opt_out_at
    for t in reversed([t for t in _GRID if t <= opt_out_at]):
        at = {"opt_out": opt_out_at, "possible_opt_out": t, "neighbour": neighbour_at}
        flagged = sum(_alone(s, at) != "none" for s in negatives)
        if flagged > MAX_FALSE_POSSIBLE * len(negatives):
            break
        possible_at = t
    at = {"opt_out": opt_out_at, "possible_opt_out": possible_at, "neighbour": neighbour_at}
    at["sure_neighbour"] = sure_threshold(left, positives, at)
    return {**at, **{label: head_threshold(scored, at, label) for label in learned.HEAD_LABELS}}


def sure_threshold(
    left: Sequence[_Scored], positives: Sequence[_Scored], at: dict[str, float]
) -> float:
    """The lowest similarity of _SURE_GRID at which a nearly identical opt-out example
    opts out a text in the possible band (learned.Model.opts_out) while the model's
    opt-outs stay within MAX_FALSE_OPT_OUT of ``left`` (the none and opt_in replies the
    rules leave), and the route catches more opt-outs than it is off; else _NEVER."""
    best = (sum(_combined(s, at) == "opt_out" for s in positives), _NEVER)
    for sure in reversed(_SURE_GRID[:-1]):
        trial = {**at, "sure_neighbour": sure}
        if sum(_combined(s, trial) == "opt_out" for s in left) > MAX_FALSE_OPT_OUT * len(left):
            break
        caught = sum(_combined(s, trial) == "opt_out" for s in positives)
        if caught > best[0]:
            best = (caught, sure)
    return best[1]


def head_threshold(scored: Sequence[_Scored], at: dict[str, float], label: str) -> float:
    """The threshold of the ``label`` head (read alone, behind the rules and the opt-out
    model at ``at``) that finds the most replies of that label with at most
    MAX_FALSE_HEAD of the others, and MAX_OPT_OUT_AS_HEAD of those that may ask to stop
    (_STOPPING), read as ``label`` (ties: the higher threshold); 1.0 where none does."""
    others = [s for s in scored if s.row.label != label]
    stopping = [s for s in others if s.row.label in _STOPPING[label]]
    mine = [s for s in scored if s.row.label == label]
    best = (0, 1.0)
    for t in _HEAD_GRID:
        trial = {**at, label: t}
        wrong = sum(_combined(s, trial) == label for s in others)
        stopped = sum(_combined(s, trial) == label for s in stopping)
        if wrong > MAX_FALSE_HEAD[label] * len(others):
            continue
        if stopped > MAX_OPT_OUT_AS_HEAD * len(stopping):
            continue
        found = sum(_combined(s, trial) == label for s in mine)
        if found >= best[0]:
            best = (found, t)
    return best[1]


def figures(scored: Sequence[_Scored], at: dict[str, float]) -> dict[str, Any]:
    """Cross-validated figures of the rules alone and of rules then model: per class
    (label -> classified as -> count) and per language (opt-out recall, false opt-outs)."""

    def summary(items: Sequence[_Scored], predict: Callable[[_Scored], str]) -> dict[str, Any]:
        classes: dict[str, Counter[str]] = {}
        for s in items:
            classes.setdefault(s.row.label, Counter())[predict(s)] += 1
        out = classes.get("opt_out", Counter())
        negative = sum(sum(classes.get(label, Counter()).values()) for label in NEGATIVE)
        wrong = sum(classes.get(label, Counter())["opt_out"] for label in NEGATIVE)
        return {
            "rows": len(items),
            "opt_out_recall": round(out["opt_out"] / sum(out.values()), 4) if out else None,
            "false_opt_out_rate": round(wrong / negative, 4) if negative else None,
            "classes": {label: dict(sorted(c.items())) for label, c in sorted(classes.items())},
        }

    def rules(s: _Scored) -> str:
        return s.rules

    def combined(s: _Scored) -> str:
        return _combined(s, at)

    def alone(s: _Scored) -> str:
        return _alone(s, at)

    languages = sorted({s.row.language for s in scored})
    return {
        "folds": FOLDS,
        "rules": summary(scored, rules),
        "model_alone": summary(scored, alone),
        "rules_then_model": summary(scored, combined),
        "per_language": {
            code: summary([s for s in scored if s.row.language == code], combined)
            for code in languages
        },
    }


def _versions() -> dict[str, str]:
    found = {name: metadata.version(name) for name in ("scikit-learn", "numpy", "scipy")}
    return {"python": platform.python_version(), **found}


def train(data: Path = DATA) -> str:
    """The model file's text for the replies under ``data``."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        rows = load(data)
        scored = cross_validate(rows)
        at = choose_thresholds(scored)
        table, intercept = fit(rows)
        heads = {label: fit(rows, label) for label in learned.HEAD_LABELS}
    document = {
        "format": learned.FORMAT,
        "version": learned.FORMAT_VERSION,
        "training": {
            "data_sha256": data_hash(data),
            "files": [p.relative_to(data).as_posix() for p in data_files(data)],
            "rows": len(rows),
            "seed": SEED,
            "c": C,
            "min_df": MIN_DF,
            "ngram_sizes": list(learned.NGRAM_SIZES),
            "caps": {"false_opt_out": MAX_FALSE_OPT_OUT, "false_possible": MAX_FALSE_POSSIBLE},
            "libraries": _versions(),
        },
        "thresholds": at,
        "cross_validation": figures(scored, at),
        "intercept": intercept,
        "weights": table,
        "heads": {
            label: {"intercept": bias, "weights": weights}
            for label, (weights, bias) in heads.items()
        },
        "examples": [[row.text, row.label] for row in rows],
        "neighbour_index": learned.index_of([learned.model_form(row.text) for row in rows]),
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def report(document: dict[str, Any]) -> str:
    """The cross-validated figures of a model file as Markdown (docs/benchmarks.md)."""
    cv = document["cross_validation"]
    lines = [
        f"Cross-validated ({cv['folds']} folds, {document['training']['rows']} distinct "
        f"replies), thresholds {document['thresholds']}.",
        "",
        "| reading | opt-out recall | none/opt_in read as opt-out |",
        "|---|---:|---:|",
    ]
    for name in ("rules", "model_alone", "rules_then_model"):
        part = cv[name]
        lines.append(
            f"| {name.replace('_', ' ')} | {part['opt_out_recall']:.1%} | "
            f"{part['false_opt_out_rate']:.2%} |"
        )
    labels = ("opt_out", "possible_opt_out", "opt_in", "help", "none")
    lines += ["", "Rules then model, per class (rows: label, columns: classified as):", ""]
    lines += ["| label | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for label, got in cv["rules_then_model"]["classes"].items():
        lines.append(f"| {label} | " + " | ".join(str(got.get(k, 0)) for k in labels) + " |")
    lines += ["", "Rules then model, per language:", ""]
    lines += ["| language | replies | opt-out recall | none/opt_in read as opt-out |"]
    lines += ["|---|---:|---:|---:|"]
    for code, part in cv["per_language"].items():
        recall, wrong = part["opt_out_recall"], part["false_opt_out_rate"]
        lines.append(
            f"| {code} | {part['rows']} | {'-' if recall is None else f'{recall:.1%}'} | "
            f"{'-' if wrong is None else f'{wrong:.2%}'} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--report", action="store_true", help="print the shipped model's figures; train nothing"
    )
    args = parser.parse_args(argv)
    if args.report:
        print(report(json.loads(learned.model_text())))
        return
    text = train(args.data)
    args.out.write_text(text, encoding="utf-8")
    document = json.loads(text)
    cv = document["cross_validation"]
    print(f"wrote {args.out} ({len(text.encode()):,} bytes)")
    print(f"thresholds: {document['thresholds']}")
    for name in ("rules", "model_alone", "rules_then_model"):
        print(
            f"{name}: opt-out recall {cv[name]['opt_out_recall']}, "
            f"false opt-outs {cv[name]['false_opt_out_rate']}"
        )


if __name__ == "__main__":
    main()
