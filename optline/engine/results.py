"""The values the engine's use cases return: an inbound text's outcome, a send's pending
half and result, a policy change, a contact's location, a broadcast's decisions, an
import's rows.

Belongs here: frozen dataclasses with no behaviour beyond presenting themselves
(``as_dict``); nothing that reads or writes the store.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from optline.domain.consent_codes import Reason, Status
from optline.domain.decisions import Decision
from optline.domain.location import Location
from optline.domain.policy import Policy
from optline.domain.review import Flag
from optline.store import MessageRow, SenderRow


@dataclass(frozen=True, slots=True)
class InboundResult:
    intent: str
    keyword: str | None
    reason: str
    reply: str | None
    status: str
    events: tuple[str, ...]
    # True when this provider message id was seen before; everything else is the
    # outcome of the first delivery.
    duplicate: bool = False
    # The recorded reply: sent through the provider's API (Telnyx), or named in the
    # status callback of a reply answered in TwiML (Twilio).
    reply_message_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "keyword": self.keyword,
            "reason": self.reason,
            "reply": self.reply,
            "status": self.status,
            "events": list(self.events),
            "reply_message_id": self.reply_message_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], duplicate: bool) -> InboundResult:
        return cls(
            intent=data["intent"],
            keyword=data["keyword"],
            reason=data["reason"],
            reply=data["reply"],
            status=data["status"],
            events=tuple(data["events"]),
            duplicate=duplicate,
            # Outcomes stored before replies were numbered have no id.
            reply_message_id=data.get("reply_message_id"),
        )


@dataclass(frozen=True, slots=True)
class FlagPage:
    """One page of the review queue: open flags newest first, the cursor of the next
    page (None on the last), and how many flags are open in all."""

    flags: list[Flag]
    next: int | None
    open: int


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """A policy change as applied: the new policy and how many contacts it changed."""

    policy: Policy
    contacts_changed: int


@dataclass(frozen=True, slots=True)
class PendingSend:
    """An outbound text decided and recorded, not yet handed to a provider."""

    sender: SenderRow
    to: str
    decision: Decision
    message_id: int
    # The message an earlier request with the same idempotency key recorded, as it is
    # now: this request sends nothing new.
    earlier: MessageRow | None = None
    # The first-text notice recorded as a text of its own, handed over first (seed 004).
    notice_id: int | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """What became of one outbound text."""

    to: str
    decision: Decision
    status: str  # sent or failed (or sending: another caller is handing it over)
    message_id: int
    provider_id: str | None = None
    error: str | None = None
    replayed: bool = False  # the outcome of an earlier request with the same idempotency key
    # The first-text notice sent as a text of its own just before this one (seed 004).
    notice_message_id: int | None = None

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def reason(self) -> Reason | None:
        return self.decision.reason

    @property
    def body(self) -> str:
        return self.decision.body

    def as_dict(self) -> dict[str, Any]:
        return {
            "to": self.to,
            **self.decision.as_dict(),
            "status": self.status,
            "message_id": self.message_id,
            "provider_id": self.provider_id,
            "error": self.error,
            "notice_message_id": self.notice_message_id,
        }


@dataclass(frozen=True, slots=True)
class ContactLocation:
    """A contact's stored time zone and state (None: from the number) and where the
    send windows place it."""

    phone: str
    time_zone: str | None
    state: str | None
    located: Location

    def as_dict(self) -> dict[str, Any]:
        return {
            "phone": self.phone,
            "time_zone": self.time_zone,
            "state": self.state,
            "located": self.located.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One validated row of a contacts import."""

    line: int
    phone: str
    status: Status
    lists: tuple[str, ...] = ()
    evidence: str | None = None


@dataclass(frozen=True, slots=True)
class BroadcastDecisions:
    """A broadcast decided: who a send would reach and who it would refuse, and why.

    Iterating gives (phone, refusal reason or None) for each recipient, in order.
    """

    recipients: Sequence[str]
    allowed: list[str]  # in order, as given
    refused: dict[str, str]  # phone -> reason

    def __iter__(self) -> Iterator[tuple[str, str | None]]:
        get = self.refused.get
        return ((recipient, get(recipient)) for recipient in self.recipients)

    def __len__(self) -> int:
        return len(self.recipients)


@dataclass(frozen=True, slots=True)
class LogReport:
    """What ``verify_log`` found: the log's size, how many positions it checked, the
    events waiting to be sequenced (and the oldest's age, seconds), and the problem with
    the position, contact or text it concerns."""

    ok: bool
    size: int
    checked: int
    pending: int
    oldest_pending_age: float | None
    problem: str | None = None
    position: int | None = None
    contact: str | None = None
    message: int | None = None


@dataclass(frozen=True, slots=True)
class LogStatus:
    """The transparency log at a glance: its size, the size ``verify`` last found
    sound, the events waiting to be sequenced (and the oldest's age, seconds), and the
    newest signed checkpoint."""

    size: int
    verified_size: int
    pending: int
    oldest_pending_age: float | None
    checkpoint: str | None
