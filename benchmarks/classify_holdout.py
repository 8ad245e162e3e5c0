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

from classify_corpus import load, report

HOLDOUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "holdout.csv"

if __name__ == "__main__":
    report(load(HOLDOUT), "Held-out, all languages", sys.argv[1:])
