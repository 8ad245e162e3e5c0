"""The review queue of possible opt-outs: a flag, how a reviewer resolves it, and which
flags a consent change closes. Pure, as the consent state machine it reads.

A ``revocation_flagged`` event opens a flag on its contact. A flag is open while the
contact may still be texted from the flag's sender: an opt-out or a block that covers
that sender resolves it as ``opted_out`` (the reviewer's opt-out names the flag; a
later STOP of the contact's own closes it too), and a reviewer who reads the reply as
no revocation dismisses it with a ``flag_dismissed`` event saying who and why. Under
a policy with ``hold_campaigns_on_review`` an open flag holds campaign texts to its
contact (47 CFR 64.1200(a)(10): a reply a reasonable person may read as "stop" must
not be met with more marketing while nobody has looked at it); 1:1 texts go on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from optline.domain.consent import ContactState, Event, Outcome, new_event
from optline.domain.consent_codes import EventType, Source, Status
from optline.domain.projection import Recorded


class Resolution(StrEnum):
    OPTED_OUT = "opted_out"  # it was a revocation: the contact is opted out
    DISMISSED = "dismissed"  # not a revocation: consent stays as it was


@dataclass(frozen=True, slots=True)
class Flag:
    """One flagged reply: the seq of its ``revocation_flagged`` event, and how it ended."""

    seq: int
    phone: str
    sender: str | None
    reason: str
    flagged_at: datetime
    resolution: Resolution | None = None
    resolved_seq: int | None = None

    @property
    def open(self) -> bool:
        return self.resolution is None

    def as_dict(self) -> dict[str, Any]:
        """As the API and the CLI's JSON give it."""
        return {
            "seq": self.seq,
            "phone": self.phone,
            "sender": self.sender,
            "reason": self.reason,
            "flagged_at": self.flagged_at.isoformat(),
            "resolution": None if self.resolution is None else self.resolution.value,
            "resolved_seq": self.resolved_seq,
        }


def covered(state: ContactState, flags: Iterable[Flag]) -> list[Flag]:
    """The open ``flags`` that ``state`` no longer lets anyone text from their sender:
    an opt-out or a block that covers it resolves each one."""
    closed = (Status.OPTED_OUT, Status.BLOCKED)
    return [f for f in flags if f.open and state.status_from(f.sender) in closed]


def dismiss(state: ContactState, flag: Flag, why: str) -> Outcome:
    """A reviewer reads the flagged reply as no revocation: consent stays as it was."""
    event = new_event(
        EventType.FLAG_DISMISSED, state, Source.MANUAL, flag.sender, flag=flag.seq, note=why
    )
    return Outcome(state, (event,))


def opened(event: Event, seq: int, at: datetime) -> Flag | None:
    """The flag an event opens, once stored as ``seq`` (None for any other event)."""
    if event.type is not EventType.REVOCATION_FLAGGED:
        return None
    return Flag(seq, event.phone, event.data.get("sender"), str(event.data.get("reason", "")), at)


def replay(events: Iterable[Recorded]) -> dict[int, Flag]:
    """Every flag of an account's events (oldest first), by seq, resolved as the engine
    resolves them when the events are appended: the queue is a projection of the
    ledger, rebuilt from it by ``ledger repair``. A ``flag_dismissed`` event dismisses
    the flag it names; an opt-out or a block closes the contact's open flags it covers
    (a per-sender opt-out only those from its sender)."""
    flags: dict[int, Flag] = {}
    open_of: dict[str, list[int]] = {}
    for event in events:
        if event.phone is None:
            continue
        kind, data = event.type, event.data
        if kind == EventType.REVOCATION_FLAGGED:
            sender, reason = data.get("sender"), str(data.get("reason", ""))
            flags[event.seq] = Flag(event.seq, event.phone, sender, reason, event.occurred_at)
            open_of.setdefault(event.phone, []).append(event.seq)
        elif kind == EventType.FLAG_DISMISSED:
            seq = int(data["flag"])
            if seq in flags and flags[seq].open:
                flags[seq] = replace(
                    flags[seq], resolution=Resolution.DISMISSED, resolved_seq=event.seq
                )
                open_of[event.phone] = [s for s in open_of.get(event.phone, []) if s != seq]
        elif kind in (EventType.OPTED_OUT, EventType.BLOCKED):
            whole = kind == EventType.BLOCKED or data.get("scope") != "sender"
            still_open = []
            for seq in open_of.get(event.phone, []):
                if whole or flags[seq].sender == data.get("sender"):
                    flags[seq] = replace(
                        flags[seq], resolution=Resolution.OPTED_OUT, resolved_seq=event.seq
                    )
                else:
                    still_open.append(seq)
            open_of[event.phone] = still_open
    return flags
