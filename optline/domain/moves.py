"""A contact's number change: their consent and lists moved to the new number.

The consent on record belongs to the person, not to the digits: when a contact tells
the business their number changed, the business may move it, with the evidence of the
change (who told whom, when, how). The old number keeps nothing: it is ``no_consent``
from then on (whoever gets it next never consented). Each number's ledger says what
happened: ``number_moved_out`` on the old one, ``number_moved_in`` on the new one with
the consent and lists it took over, both naming the other number, the evidence and
(by :func:`optline.domain.actors.attributed`) the business's actor.

Belongs here: the move as a pure change of two states (:func:`move`) and what counts
as a number's consent history (:func:`has_history`). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from optline.domain.consent import ContactState, Outcome, new_event
from optline.domain.consent_codes import EventType, Source, Status
from optline.domain.projection import Mark, Projection

_EMPTY: Mapping[str, Any] = MappingProxyType({})

#: Events that make a number's consent history: a move onto it would overwrite them.
HISTORY = frozenset(
    {
        EventType.OPTED_IN,
        EventType.OPTED_OUT,
        EventType.BLOCKED,
        EventType.UNBLOCKED,
        EventType.LIST_SUBSCRIBED,
        EventType.LIST_UNSUBSCRIBED,
        EventType.NUMBER_MOVED_IN,
        EventType.NUMBER_MOVED_OUT,
    }
)


def has_history(event_types: Iterable[str]) -> bool:
    """Do a number's events (their types) hold any consent history?"""
    return any(kind in HISTORY for kind in event_types)


@dataclass(frozen=True, slots=True)
class Move:
    """Both sides of a move: the old number's outcome, then the new number's."""

    old: Outcome
    new: Outcome


def move(
    old: ContactState,
    old_record: Projection,
    new: ContactState,
    evidence: str,
) -> Move:
    """Move ``old``'s consent, written consent, lists and block (``old_record``: its
    projection, for how each scope's consent was given) onto ``new``, which they
    replace, and leave ``old`` with nothing on record. ``evidence``: the proof the
    number changed (checked by the caller)."""
    moved_in = replace(
        new,
        blocked=old.blocked,
        account_status=old.account_status,
        sender_status=old.sender_status,
        lists=old.lists,
        written=old.written,
        purposes=old.purposes,
        clarified=False,
    )
    moved_out = replace(
        old,
        blocked=False,
        account_status=Status.NO_CONSENT,
        sender_status=_EMPTY,
        lists=_EMPTY,
        written=frozenset(),
        purposes=_EMPTY,
        choice_until=None,
        choice_purposes=(),
        clarified=False,
    )
    out_event = new_event(
        EventType.NUMBER_MOVED_OUT, moved_out, Source.MANUAL, None, to=new.phone, evidence=evidence
    )
    in_event = new_event(
        EventType.NUMBER_MOVED_IN,
        moved_in,
        Source.MANUAL,
        None,
        evidence=evidence,
        blocked=old.blocked,
        account=_scope(old_record.account),
        senders={number: _scope(mark) for number, mark in sorted(old_record.senders.items())},
        purposes={name: _scope(mark) for name, mark in sorted(old_record.purposes.items())},
        lists=dict(sorted(old.lists.items())),
        # The purposes of the written consent the person gave (written_consent.py).
        written=sorted(old.written),
        **{"from": old.phone},
    )
    return Move(Outcome(moved_out, (out_event,)), Outcome(moved_in, (in_event,)))


def _scope(mark: Mark | None) -> dict[str, Any] | None:
    """A scope's consent as a moved-in event records it: status, how it was given, and
    the event on the old number that set it."""
    if mark is None:
        return None
    return {
        "status": mark.status.value,
        "method": None if mark.method is None else mark.method.value,
        "event_seq": mark.event_seq,
    }
