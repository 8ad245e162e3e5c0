"""What the rule-based detector finds, and the bounded store of verdicts it reuses.

Holds :class:`Verdict` (one reading of a message, before the classifier turns it into a
Classification) and :class:`Verdicts`, the per-detector store that both the keyword
reading (:mod:`optline.domain.keyword_reading`) and the phrase rules
(:mod:`optline.domain.phrase_rules`) fill. A verdict depends only on what matched, never
on the rest of the message, so each is made once and shared. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from optline.domain.policy import Intent, KeywordMatch

# Verdicts kept per detector; matched phrases are few, but a flood of odd ones must not
# grow memory without bound.
_MAX_VERDICTS = 4096
# Nor may long texts: a verdict on words longer than this is made afresh each time.
_MAX_KEPT_TEXT = 100


# Not frozen and compared by identity: verdicts are shared (see the module docstring),
# and the classifier keys its own results on them, so hashing must be cheap.
@dataclass(slots=True, eq=False)
class Verdict:
    """What the detector found; the classifier turns it into a Classification."""

    intent: Intent
    reason: str
    match: KeywordMatch | None = None
    language: str | None = None


class Verdicts(dict[Hashable, Verdict]):
    """Verdicts by key: what kind of verdict, then the words it is on, then any more."""

    def keep(self, key: tuple[str | int, str, *tuple[Hashable, ...]], verdict: Verdict) -> Verdict:
        """Remember ``verdict`` as the one for ``key``, unless the words it is on are
        long (a long text may make them so): then it is not kept."""
        if len(key[1]) > _MAX_KEPT_TEXT:
            return verdict
        if len(self) >= _MAX_VERDICTS:
            self.clear()
        self[key] = verdict
        return verdict
