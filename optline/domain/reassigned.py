"""Reassigned numbers: has a number changed hands since its holder consented?

A number whose holder gives it up is disconnected, aged (at least 45 days for a
residential number, 47 CFR 52.15(f)(1)(ii)) and handed to someone new, who never
consented. The FCC Reassigned Numbers Database answers, for a number and a date,
whether the number was permanently disconnected since then; it is a paid service, so
optline does not call it: it defines the check (:class:`ReassignedNumbers`), which a
deployment configures with its own implementation, and asks it before the first text
to a contact after a silence as long as the policy's ``reassigned_check_after_days``
(:func:`due`). A number reported reassigned since the consent was given is refused
(reason ``number_reassigned``) and its consent ends (method ``number_reassigned``).

Belongs here: the check's interface and when it is due. Pure: no I/O.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol


class ReassignedNumbers(Protocol):
    """A reassigned-numbers lookup, such as one over the FCC Reassigned Numbers
    Database. Configured by ``OPTLINE_REASSIGNED_NUMBERS`` (``module:factory``)."""

    def reassigned_since(self, phone: str, since: date) -> bool | None:
        """Was ``phone`` (E.164) permanently disconnected, so possibly given to someone
        new, on or after ``since``? True, False, or None where the lookup has no data
        (which sends the text: nothing says the number changed hands)."""
        ...


def due(
    after_days: int | None, consented: datetime, last_text: datetime | None, now: datetime
) -> bool:
    """Is the check due before a text at ``now`` to a contact who consented at
    ``consented`` and last exchanged a text (either way) at ``last_text`` (None:
    never)? Only after ``after_days`` (the policy's) of silence; None: never."""
    if after_days is None:
        return False
    quiet_since = consented if last_text is None else max(last_text, consented)
    return now - quiet_since >= timedelta(days=after_days)
