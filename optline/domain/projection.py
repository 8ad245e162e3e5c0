"""The consent on record, as the ledger says it: a pure replay of an account's events.

The consent tables are a projection of the ledger. Each contact's projection is its
blocked flag, its list memberships, the purposes of its written consent and, per
scope (the account, and each sender with a consent of its own), the status with the
method, time and event that set it last.
:func:`replay` rebuilds it from the events alone; the store keeps the same values as
each change is committed (the replay of the events it appends), and ``ledger
verify`` compares the two (:func:`first_difference`). Also here: what a contact's
events say of the provider opt-outs still in force (:func:`provider_blocks`).

Pure: no I/O. Events are read as stored (type and data as plain JSON values).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol

from optline.domain.consent_codes import (
    SOURCE_METHODS,
    EventType,
    Method,
    ProviderScope,
    Source,
    Status,
)
from optline.domain.policy import Scope

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class Recorded(Protocol):
    """An event as the ledger stores it (``optline.store.StoredEvent``)."""

    @property
    def seq(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def occurred_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Mark:
    """One scope's consent: its status, and how, when and by which event it was set."""

    status: Status
    method: Method | None
    since: datetime
    event_seq: int


@dataclass(frozen=True, slots=True)
class Projection:
    """One contact's consent on record. ``account`` None: no consent on record."""

    phone: str
    blocked: bool = False
    account: Mark | None = None
    senders: Mapping[str, Mark] = field(default_factory=lambda: _EMPTY)
    lists: Mapping[str, bool] = field(default_factory=lambda: _EMPTY)
    # Purposes with written consent on record, not since revoked (written_consent).
    written: frozenset[str] = frozenset()
    # Purpose -> the consent of that purpose's own (optline.domain.purposes).
    purposes: Mapping[str, Mark] = field(default_factory=lambda: _EMPTY)

    @property
    def account_status(self) -> Status:
        return Status.NO_CONSENT if self.account is None else self.account.status

    def rows(self) -> list[ScopeRow]:
        """Every scope of the contact: the account's (blocked, where the contact is),
        then each sender with a consent of its own, in number order, then each purpose
        with a consent of its own (account-wide), in name order."""
        account = Status.BLOCKED if self.blocked else self.account_status
        found = [ScopeRow(ACCOUNT_SCOPE, account, self.account)]
        found.extend(ScopeRow(s, m.status, m) for s, m in sorted(self.senders.items()))
        found.extend(
            ScopeRow(ACCOUNT_SCOPE, Status.BLOCKED if self.blocked else m.status, m, purpose)
            for purpose, m in sorted(self.purposes.items())
        )
        return found


#: The scope column's value for the account's consent (a sender's is its number).
ACCOUNT_SCOPE = "account"


@dataclass(frozen=True, slots=True)
class ScopeRow:
    """One scope of a contact as the views and the export show it."""

    scope: str  # ACCOUNT_SCOPE or a sender's number
    status: Status
    mark: Mark | None  # None: nothing on record
    purpose: str | None = None  # the purpose of a consent of its own; None: every purpose

    def as_dict(self) -> dict[str, Any]:
        mark = self.mark
        return {
            "scope": self.scope,
            "purpose": self.purpose,
            "status": self.status.value,
            "since": None if mark is None or mark.since is None else mark.since.isoformat(),
            "method": None if mark is None or mark.method is None else mark.method.value,
            "event_seq": None if mark is None else mark.event_seq,
        }


def method_of(data: Mapping[str, Any]) -> Method | None:
    """The method an opted_in / opted_out / blocked event records, or, for an event
    written before methods were, what its source and keyword say."""
    named = data.get("method")
    if named is not None:
        return Method(named)
    source = data.get("source")
    if source == Source.KEYWORD and not data.get("keyword"):
        return Method.PLAIN_LANGUAGE
    return SOURCE_METHODS.get(source) if isinstance(source, str) else None


_STATUS_OF: Mapping[str, Status] = {
    EventType.OPTED_OUT: Status.OPTED_OUT,
    EventType.OPTED_IN: Status.OPTED_IN,
}


def apply(projection: Projection, event: Recorded) -> Projection:
    """``projection`` once ``event`` (one of its contact's) has happened.

    The rules are the state machine's (:mod:`optline.domain.consent`), read back
    from what each event says: a change of one purpose (``purpose``) sets that
    purpose's consent; a change for one sender (``scope: sender``) sets that sender's
    consent; any other sets the account's and drops every sender's and purpose's own
    (an account-wide change covers them all); a block opts out of the account too.
    """
    kind, data = event.type, event.data
    status = _STATUS_OF.get(kind)
    if status is not None:
        mark = Mark(status, method_of(data), event.occurred_at, event.seq)
        purpose = data.get("purpose")
        if purpose is not None:
            purposes = MappingProxyType({**projection.purposes, purpose: mark})
            return replace(projection, purposes=purposes)
        sender = data.get("sender")
        if data.get("scope") == Scope.SENDER and sender is not None:
            return replace(
                projection, senders=MappingProxyType({**projection.senders, sender: mark})
            )
        # An opt-out for the whole account revokes the written consent on record.
        written = frozenset() if status is Status.OPTED_OUT else projection.written
        return replace(projection, account=mark, senders=_EMPTY, written=written, purposes=_EMPTY)
    if kind == EventType.CONSENT_RECORDED:
        return replace(projection, written=projection.written | {data["purpose"]})
    if kind == EventType.BLOCKED:
        mark = Mark(Status.OPTED_OUT, method_of(data), event.occurred_at, event.seq)
        return replace(
            projection,
            blocked=True,
            account=mark,
            senders=_EMPTY,
            written=frozenset(),
            purposes=_EMPTY,
        )
    if kind == EventType.UNBLOCKED:
        return replace(projection, blocked=False)
    if kind == EventType.NUMBER_MOVED_OUT:  # the contact moved away: nothing stays here
        return Projection(projection.phone)
    if kind == EventType.NUMBER_MOVED_IN:
        return _moved_in(projection.phone, event)
    if kind in (EventType.LIST_SUBSCRIBED, EventType.LIST_UNSUBSCRIBED):
        subscribed = kind == EventType.LIST_SUBSCRIBED
        lists = {**projection.lists, data["list"]: subscribed}
        return replace(projection, lists=MappingProxyType(lists))
    return projection


def _moved_in(phone: str, event: Recorded) -> Projection:
    """A number's projection once a contact's consent moved onto it
    (:mod:`optline.domain.moves`): each scope as it was on the old number, set by the
    move, which replaces whatever the number held before."""
    data = event.data

    def mark(scope: Mapping[str, Any]) -> Mark:
        method = scope.get("method")
        status = Status(scope["status"])
        return Mark(
            status, None if method is None else Method(method), event.occurred_at, event.seq
        )

    account = data.get("account")
    return Projection(
        phone,
        bool(data.get("blocked")),
        None if account is None else mark(account),
        MappingProxyType({s: mark(m) for s, m in data.get("senders", {}).items()}),
        MappingProxyType({name: bool(on) for name, on in data.get("lists", {}).items()}),
        frozenset(data.get("written", ())),
        MappingProxyType({name: mark(p) for name, p in data.get("purposes", {}).items()}),
    )


def replay(events: Iterable[Recorded]) -> dict[str, Projection]:
    """Every contact's projection from an account's events, oldest first."""
    contacts: dict[str, Projection] = {}
    for event in events:
        if event.phone is None:
            continue
        before = contacts.get(event.phone) or Projection(event.phone)
        contacts[event.phone] = apply(before, event)
    return contacts


def first_difference(
    stored: Iterable[Projection], replayed: Mapping[str, Projection]
) -> tuple[str, str] | None:
    """The first contact (in phone order) whose stored projection is not the replay's,
    and what differs; None when they all agree. A contact with no events replays as
    no consent on record; one replayed but not stored differs too."""
    seen: set[str] = set()
    for kept in sorted(stored, key=lambda p: p.phone):
        seen.add(kept.phone)
        expected = replayed.get(kept.phone) or Projection(kept.phone)
        if kept != expected:
            return kept.phone, _what_differs(kept, expected)
    for phone in sorted(set(replayed) - seen):
        if replayed[phone] != Projection(phone):
            return phone, "its events give it a consent, but it has no stored state"
    return None


def _what_differs(kept: Projection, expected: Projection) -> str:
    if kept.blocked != expected.blocked:
        return f"blocked is {kept.blocked}, its events say {expected.blocked}"
    if kept.account != expected.account:
        return f"account consent is {_said(kept.account)}, its events say {_said(expected.account)}"
    for sender in sorted(set(kept.senders) | set(expected.senders)):
        if kept.senders.get(sender) != expected.senders.get(sender):
            got, want = kept.senders.get(sender), expected.senders.get(sender)
            return f"consent from {sender} is {_said(got)}, its events say {_said(want)}"
    if kept.written != expected.written:
        return (
            f"written consent is for {sorted(kept.written)}, its events say"
            f" {sorted(expected.written)}"
        )
    for purpose in sorted(set(kept.purposes) | set(expected.purposes)):
        if kept.purposes.get(purpose) != expected.purposes.get(purpose):
            got, want = kept.purposes.get(purpose), expected.purposes.get(purpose)
            return f"{purpose} consent is {_said(got)}, its events say {_said(want)}"
    return f"lists are {dict(kept.lists)}, its events say {dict(expected.lists)}"


def _said(mark: Mark | None) -> str:
    if mark is None:
        return Status.NO_CONSENT.value
    method = f" by {mark.method.value}" if mark.method else ""
    return f"{mark.status.value}{method} (event {mark.event_seq})"


@dataclass(frozen=True, slots=True)
class ProviderBlock:
    """A provider's opt-out that covers more than the number it was reported on."""

    provider: str
    scope: ProviderScope
    scope_id: str | None  # the messaging profile's id, where the report named it
    sender: str | None  # the number whose send the provider refused
    code: str
    # optline's own opt-out covered only that sender (SENDER scope): the provider's
    # other numbers in the same scope refuse the contact while optline allows them.
    wider_than_optline: bool


def provider_blocks(events: Iterable[tuple[str, Mapping[str, Any]]]) -> list[ProviderBlock]:
    """The provider opt-outs still in force among a contact's events (type and data,
    oldest first) whose provider scope is wider than a number.

    Only the contact lifts such a block, by texting an opt-in keyword (START) to the
    provider: a later keyword opt-in ends the blocks before it; an opt-in by the
    business does not, since the provider still refuses the texts.
    """
    blocks: list[ProviderBlock] = []
    for kind, data in events:
        if kind == EventType.OPTED_IN and data.get("source") == Source.KEYWORD:
            blocks.clear()
        elif kind == EventType.OPTED_OUT and data.get("provider_scope") in _PROVIDER_SCOPES:
            blocks.append(
                ProviderBlock(
                    provider=str(data.get("provider", "")),
                    scope=ProviderScope(data["provider_scope"]),
                    scope_id=data.get("provider_scope_id"),
                    sender=data.get("sender"),
                    code=str(data.get("code", "")),
                    wider_than_optline=data.get("scope") == Scope.SENDER,
                )
            )
    return blocks


_PROVIDER_SCOPES = frozenset(ProviderScope)
