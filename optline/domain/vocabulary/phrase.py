"""The phrase rule shared by every language: :class:`Phrase`, the :func:`phrase`
constructor the language modules write their rules with, and :func:`last_words`, which
derives a rule's ``needs`` from a group of words. No words of any language here."""

from __future__ import annotations

from dataclasses import dataclass

from optline.domain.policy import Intent


def last_words(group: str) -> str:
    """Every word that can end a match of ``group``, a ``(?:...)`` of plain words where
    a final ``s?`` makes a plural optional: "(?:texts?|text messages?)" -> "text texts
    message messages". For :class:`Phrase` ``needs``."""
    words: list[str] = []
    for alternative in group.removeprefix("(?:").removesuffix(")").split("|"):
        last = alternative.split()[-1]
        words += [last[:-2], last[:-1]] if last.endswith("s?") else [last]
    if not all(word.isalpha() for word in words):
        raise ValueError(f"not a group of plain words: {group}")
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class Phrase:
    """One phrase rule: a regular expression and what a match means.

    ``anchors`` are words the message must contain for the rule to be tried at all,
    so most texts are dismissed with one set intersection; where ``needs`` is given, the
    message must also contain one of its words (every match of the pattern holds one
    of them as a whole word), which spares the regular expression on most messages
    that merely use an anchor word ("stop by", "the end"). ``negatable`` rules do not
    count when the word right before them is a negation ("don't stop the reminders")
    and count only as possible when the clause asks how ("how do I unsubscribe?");
    where a rule is ``after_object``, its match follows a verb and its object, and a
    negation before those counts too ("don't remove me from the list").

    A rule's intent may also be help (a question about the program) or none: a none
    rule states what the message keeps ("... but keep the texts"), is listed first,
    and when it matches no rule after it is tried.

    A rule whose two parts may stand anywhere in the message, words or clauses apart,
    gives the second as ``then``: a match of ``pattern`` with a match of ``then`` after
    it (with ``either_order``, or before it). The detector finds each part once, so a
    long message costs a pass over it; one expression with ``.*`` between the parts
    would be tried again from every match of the first, and a long text full of them
    would cost the square of its length. The match runs from the first part to the
    first match of the second after it, or with ``to_last`` to the last one.
    """

    name: str
    intent: Intent
    pattern: str
    anchors: frozenset[str]
    negatable: bool = True
    needs: frozenset[str] = frozenset()
    after_object: bool = False
    then: str = ""
    either_order: bool = False
    to_last: bool = False


def phrase(
    name: str,
    intent: Intent,
    pattern: str,
    anchors: str,
    negatable: bool = True,
    needs: str = "",
    after_object: bool = False,
    then: str = "",
    either_order: bool = False,
    to_last: bool = False,
) -> Phrase:
    """A :class:`Phrase` with its ``anchors`` and ``needs`` written as space-separated
    words."""
    return Phrase(
        name,
        intent,
        pattern,
        frozenset(anchors.split()),
        negatable,
        frozenset(needs.split()),
        after_object,
        then,
        either_order,
        to_last,
    )
