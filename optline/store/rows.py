"""Values the store returns, and the errors it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from optline.domain.policy import SenderKind


class Conflict(Exception):
    """A unique name or number is already taken (account, sender, list, keyword)."""


class DuplicateDelivery(Exception):
    """The same request again: an inbound message whose provider id this account has
    already stored, or a send whose idempotency key it has."""


@dataclass(frozen=True)
class AccountRow:
    id: int
    name: str
    profile: str
    overrides: dict[str, Any]
    # Moves whenever the account's triggers or lists change.
    keywords_version: int = 0


@dataclass(frozen=True)
class SenderRow:
    account_id: int
    number: str
    kind: SenderKind
    provider: str | None = None
    credentials: dict[str, str] = field(default_factory=dict, repr=False)
    provider_replies: bool = False


@dataclass(frozen=True)
class ListRow:
    account_id: int
    name: str
    opt_out_keyword: str | None


@dataclass(frozen=True)
class StoredEvent:
    account_id: int
    seq: int
    type: str
    phone: str | None
    data: dict[str, Any]
    occurred_at: datetime
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class MessageRow:
    id: int
    direction: str  # "in" | "out"
    provider_id: str | None
    phone: str
    sender: str
    body: str
    hidden: bool
    status: str  # received, queued, sending, sent, failed, then the provider's statuses
    reason: str | None
    list_name: str | None
    campaign: bool
    created_at: datetime
    reply: bool = False  # an automatic answer to an inbound text


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    account: str
    checked: int  # events found intact before the first bad one (all of them when ok)
    first_bad_seq: int | None
    problem: str | None


@dataclass(frozen=True)
class SubscriptionRow:
    id: int
    url: str
    events: list[str]


@dataclass(frozen=True)
class Notification:
    """One event-webhook delivery, claimed from the outbox."""

    account_id: int
    subscription_id: int
    event_seq: int
    url: str
    secret: str = field(repr=False)
    payload: dict[str, Any]
    attempts: int

    @property
    def event_id(self) -> str:
        return f"{self.account_id}-{self.event_seq}"

    @property
    def id(self) -> tuple[int, int, int]:
        return (self.account_id, self.subscription_id, self.event_seq)
