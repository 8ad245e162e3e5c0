"""Outbound texts' statuses, and how a send left unsettled is settled. Pure: no I/O.

A send is *unsettled* while nobody knows how it ended with the provider: ``queued``
(recorded, never handed over: the process stopped first) or ``sending`` (claimed for
its hand-over, and the provider's answer never recorded: the process stopped in
between, so it may or may not have gone). Nothing moves such a text on by itself. It
is settled from the provider's own record of it (its status read by the provider's own
names, ``Statuses.message_status``) or by an operator who says why
(:func:`operator_reason`); either way a ``send_settled`` event on the contact's ledger
records who settled it, how, and from what.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from optline.domain.consent import Event
from optline.domain.consent_codes import EventType, Source


class MessageStatus(StrEnum):
    """optline's own statuses of a message; a send's status may later be the
    provider's (``delivered``, ``undelivered``, ...) from its status reports."""

    RECEIVED = "received"  # an inbound text
    QUEUED = "queued"  # allowed and recorded; not yet handed to the provider
    SENDING = "sending"  # claimed for its hand-over; no answer recorded yet
    SENT = "sent"  # the provider took it (or the caller sends it)
    FAILED = "failed"  # refused, or the provider did not take it


#: The statuses of a send whose outcome is not known.
UNSETTLED = (MessageStatus.QUEUED, MessageStatus.SENDING)


def may_replace(old: str, new: str, final: Collection[str]) -> bool:
    """Whether a message's status ``new`` may replace ``old``: the one rule for a status
    reported after the fact. ``final`` holds the statuses after which a send's fate is
    known: optline's ``failed`` and each provider's own final names (the registry's
    ``FINAL_STATUSES``, built from the provider objects). Reports may arrive out of
    order, so a final status is never replaced by one that is not (a late ``sent``
    never undoes ``delivered``); a final status may still be replaced by another final
    one (a ``delivered`` that turns out ``undelivered``), and any other status by
    anything.

    optline's own moves (``queued`` -> ``sending`` -> ``sent`` or ``failed``, and an
    unsettled send settled) are compare-and-set moves from the status they expect,
    which never start from a final status and so all pass this rule too."""
    return old not in final or new in final


#: A send still ``queued`` this long after it was recorded is taken to be stuck: its
#: hand-over (a few seconds, retries included) never started. A broadcast decides all of
#: its texts before it hands them over, so its last ones may wait longer than this.
QUEUED_TOO_LONG_SECONDS = 300
QUEUED_TOO_LONG = timedelta(seconds=QUEUED_TOO_LONG_SECONDS)

#: The longest reason an operator may give.
MAX_REASON_CHARS = 500


class SettledAs(StrEnum):
    """How an unsettled send ends."""

    SENT = "sent"
    FAILED = "failed"


class FailureReason(StrEnum):
    """Reason codes of a send that did not go, beside a refusal's own
    (:class:`optline.domain.consent_codes.Reason`) and a provider's error code
    (:func:`provider_failure`)."""

    PROVIDER_ERROR = "provider_error"  # the provider refused it, without an error code
    SUPERSEDED = "superseded"  # an automatic reply whose moment had passed
    SETTLED_BY_OPERATOR = "settled_by_operator"  # marked by hand, reason on the ledger


class Via(StrEnum):
    """Where a settlement was asked for."""

    API = "api"
    UI = "ui"
    CLI = "cli"


class Reconciled(StrEnum):
    """What asking the provider about one ``sending`` text came to."""

    SENT = "sent"  # settled sent, with the provider's id
    FAILED = "failed"  # settled failed, with the provider's error
    NOT_FOUND = "not_found"  # the provider has no record of it: left for an operator
    CANNOT_ASK = "cannot_ask"  # its provider cannot be asked: left for an operator
    UNREADABLE = "unreadable"  # a status optline does not know: left for an operator
    UNREACHABLE = "unreachable"  # asking failed (network, credentials): try again later
    ALREADY_SETTLED = "already_settled"  # settled by someone else meanwhile

    @property
    def settled(self) -> bool:
        return self in (Reconciled.SENT, Reconciled.FAILED)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """One ``sending`` text after its provider was asked."""

    account: str
    message_id: int
    phone: str
    sender: str
    outcome: Reconciled
    provider_id: str | None = None
    provider_status: str | None = None
    reason: str | None = None  # the failed message's reason code
    detail: str | None = None  # why it was left, for people

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "message_id": self.message_id,
            "phone": self.phone,
            "sender": self.sender,
            "outcome": self.outcome.value,
            "provider_id": self.provider_id,
            "provider_status": self.provider_status,
            "reason": self.reason,
            "detail": self.detail,
        }


def provider_failure(error_code: str | None, opted_out: bool) -> str:
    """A failed send's reason code from the provider's error, as a status report's
    (``opted_out`` for 21610 and its peers, ``provider_<code>``, ``provider_error``)."""
    if opted_out:
        return "opted_out"
    return f"provider_{error_code}" if error_code else FailureReason.PROVIDER_ERROR.value


def operator_reason(text: str) -> str:
    """An operator's reason for settling a send by hand: required, one short text.
    Raises ValueError saying what is wrong."""
    reason = text.strip()
    if not reason:
        raise ValueError("a reason is required: say how you know the text's fate")
    if len(reason) > MAX_REASON_CHARS:
        raise ValueError(f"the reason is longer than {MAX_REASON_CHARS} characters")
    if not reason.isprintable():
        raise ValueError("the reason: printable characters only (no line breaks or controls)")
    return reason


def settled_event(
    phone: str,
    sender: str,
    message_id: int,
    was: str,
    status: SettledAs,
    source: Source,
    by: str,
    via: Via,
    **details: Any,
) -> Event:
    """The ledger event of a send settled after the fact: which text (``message_id``
    from ``sender``), what it was and is now, who settled it (``by``, through ``via``)
    and from what (``source``: manual for an operator, with their reason; provider, with
    the provider's record)."""
    data: dict[str, Any] = {
        "source": source.value,
        "sender": sender,
        "message_id": message_id,
        "was": was,
        "status": status.value,
        "by": by,
        "via": via.value,
    }
    data.update({key: value for key, value in details.items() if value is not None})
    return Event(EventType.SEND_SETTLED, phone, MappingProxyType(data))
