"""The application service: one method per use case, one transaction each.

This is the only module that joins the pure domain (classification, policy, the consent
state machine) with the store. Every method validates its input first, so a bad request
raises an :class:`~optline.errors.OptlineError` before anything is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from optline.domain import consent
from optline.domain.classify import classify
from optline.domain.consent import ContactState, Decision, Outcome, Refused, Sender, Status, Trigger
from optline.domain.phone import InvalidPhoneNumber, to_e164
from optline.domain.policy import (
    RESERVED_KEYWORDS,
    BadOverride,
    Policy,
    SenderKind,
    UnknownProfile,
    with_overrides,
)
from optline.domain.profiles import get_profile
from optline.domain.text import normalise_keyword
from optline.errors import (
    AlreadyExists,
    BadInput,
    NotAllowed,
    UnknownAccount,
    UnknownList,
    UnknownSender,
)
from optline.store import (
    AccountRow,
    Conflict,
    DuplicateDelivery,
    MessageRow,
    SenderRow,
    Store,
    StoredEvent,
    Tx,
    VerifyResult,
)

#: Inbound bodies longer than this are refused: ten concatenated SMS segments is
#: already more than any carrier delivers as one message.
MAX_BODY_CHARS = 1600
_SHORT_CODE = re.compile(r"^\d{3,8}$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def phone(raw: str) -> str:
    """A contact's number in E.164, or :class:`BadInput` naming what is wrong."""
    try:
        return to_e164(raw)
    except InvalidPhoneNumber as exc:
        raise BadInput(str(exc)) from None


def sender_number(raw: str) -> str:
    """A sender: a short code (digits only) as given, anything else in E.164."""
    text = raw.strip()
    return text if _SHORT_CODE.match(text) else phone(text)


def _body(text: str) -> str:
    if len(text) > MAX_BODY_CHARS:
        raise BadInput(f"message body is longer than {MAX_BODY_CHARS} characters")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise BadInput("message body contains unpaired UTF-16 surrogates")
    return text


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "keyword": self.keyword,
            "reason": self.reason,
            "reply": self.reply,
            "status": self.status,
            "events": list(self.events),
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
        )


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One validated row of a contacts import."""

    line: int
    phone: str
    status: Status
    lists: tuple[str, ...] = ()
    evidence: str | None = None


class Engine:
    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self._clock = clock
        self._policies: dict[tuple[str, str], Policy] = {}

    @classmethod
    def open(cls, database_url: str, **store_options: Any) -> Engine:
        return cls(Store.open(database_url, **store_options))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- accounts, senders, policy -------------------------------------------------

    def create_account(
        self, name: str, profile: str = "default", overrides: dict[str, Any] | None = None
    ) -> AccountRow:
        name = name.strip()
        if not name:
            raise BadInput("account name is empty")
        self._build_policy(profile, overrides or {})
        with self.store.transaction() as tx:
            try:
                return tx.create_account(name, profile, overrides or {})
            except Conflict:
                raise AlreadyExists(f"account {name!r} already exists") from None

    def policy(self, account: str) -> Policy:
        with self.store.read() as tx:
            return self._policy_of(self._account(tx, account))

    def set_policy(
        self, account: str, profile: str | None = None, overrides: dict[str, Any] | None = None
    ) -> Policy:
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            new_profile = profile or row.profile
            new_overrides = row.overrides if overrides is None else overrides
            policy = self._build_policy(new_profile, new_overrides)
            tx.set_policy(row.id, new_profile, new_overrides)
            return policy

    def add_sender(
        self, account: str, number: str, kind: SenderKind | str = SenderKind.LONG_CODE
    ) -> SenderRow:
        try:
            kind = SenderKind(kind)
        except ValueError:
            raise BadInput(f"unknown sender kind {kind!r}") from None
        number = sender_number(number)
        if (kind is SenderKind.SHORT_CODE) != bool(_SHORT_CODE.match(number)):
            raise BadInput(f"{number} is not a {kind.value.replace('_', ' ')} number")
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            try:
                return tx.add_sender(row.id, number, kind)
            except Conflict:
                raise AlreadyExists(f"sender {number} is already registered") from None

    # -- inbound --------------------------------------------------------------------

    def receive(
        self,
        account: str,
        from_: str,
        to: str,
        body: str,
        provider_id: str | None = None,
    ) -> InboundResult:
        """Apply one inbound text: classify, change consent, record, decide the reply.

        The same ``provider_id`` delivered twice gets the first delivery's outcome back,
        with no second event and no second reply.
        """
        try:
            return self._receive(account, from_, to, body, provider_id)
        except _Replay as replay:
            with self.store.read() as tx:
                earlier = tx.inbound_outcome(replay.account_id, replay.provider_id)
            assert earlier is not None
            return InboundResult.from_dict(earlier, duplicate=True)

    def _receive(
        self, account: str, from_: str, to: str, body: str, provider_id: str | None
    ) -> InboundResult:
        contact_phone = phone(from_)
        to_number = sender_number(to)
        body = _body(body)
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            sender = self._sender(tx, row, to_number)
            if provider_id is not None:
                earlier = tx.inbound_outcome(row.id, provider_id)
                if earlier is not None:
                    return InboundResult.from_dict(earlier, duplicate=True)
            policy = self._policy_of(row)
            triggers = {t.keyword: t for t in tx.triggers(row.id)}
            list_keywords = {
                lst.opt_out_keyword: lst.name for lst in tx.lists(row.id) if lst.opt_out_keyword
            }
            classification = classify(body, policy, triggers.keys() | list_keywords.keys())
            state = tx.contact(row.id, contact_phone, for_update=True)
            before = state or ContactState(contact_phone)
            outcome = consent.receive(
                before,
                classification,
                Sender(sender.number, sender.kind),
                policy,
                triggers,
                list_keywords,
            )
            self._apply(tx, row.id, state, outcome, now)
            result = InboundResult(
                intent=classification.intent.value,
                keyword=classification.keyword,
                reason=classification.reason,
                reply=outcome.reply,
                status=outcome.state.status_from(sender.number).value,
                events=tuple(e.type.value for e in outcome.events),
            )
            try:
                tx.record_inbound(
                    row.id,
                    provider_id=provider_id,
                    phone=contact_phone,
                    sender=sender.number,
                    body=body,
                    hidden=outcome.hidden,
                    at=now,
                    outcome=result.as_dict(),
                )
            except DuplicateDelivery:
                # A concurrent delivery of the same message won the race: this
                # transaction rolls back, so nothing is applied twice.
                assert provider_id is not None
                raise _Replay(row.id, provider_id) from None
            if outcome.reply is not None:
                tx.record_outbound(
                    row.id,
                    phone=contact_phone,
                    sender=sender.number,
                    body=outcome.reply,
                    status="sent",
                    reason=None,
                    list_name=None,
                    campaign=False,
                    at=now,
                )
            return result

    # -- outbound -------------------------------------------------------------------

    def check(
        self,
        account: str,
        sender: str,
        to: str,
        body: str = "",
        list_name: str | None = None,
        campaign: bool = False,
    ) -> Decision:
        """Would this text be allowed? Reads only; records nothing."""
        contact_phone = phone(to)
        from_number = sender_number(sender)
        body = _body(body)
        with self.store.read() as tx:
            row = self._account(tx, account)
            self._sender(tx, row, from_number)
            self._known_list(tx, row, list_name)
            state = tx.contact(row.id, contact_phone)
            return consent.decide(
                state, from_number, self._policy_of(row), body, list_name, campaign
            )

    def send(
        self,
        account: str,
        sender: str,
        to: str,
        body: str,
        list_name: str | None = None,
        campaign: bool = False,
    ) -> Decision:
        """Decide and record an outbound text: sent, or failed with its reason code.

        The contact row is locked for the decision, so an opt-out committed before this
        transaction is always seen, and one committed after it waits for it.
        """
        contact_phone = phone(to)
        from_number = sender_number(sender)
        body = _body(body)
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            self._sender(tx, row, from_number)
            self._known_list(tx, row, list_name)
            state = tx.contact(row.id, contact_phone, for_update=True)
            decision = consent.decide(
                state, from_number, self._policy_of(row), body, list_name, campaign
            )
            current = state or ContactState(contact_phone)
            if decision.allowed:
                tx.save_contact(row.id, consent.sent(current))
            else:
                tx.append(row.id, [consent.refused_event(current, from_number, decision)], now)
            tx.record_outbound(
                row.id,
                phone=contact_phone,
                sender=from_number,
                body=decision.body,
                status="sent" if decision.allowed else "failed",
                reason=decision.reason.value if decision.reason else None,
                list_name=list_name,
                campaign=campaign,
                at=now,
            )
            return decision

    def decide_broadcast(
        self,
        account: str,
        sender: str,
        recipients: Iterable[str],
        list_name: str | None = None,
    ) -> Iterator[tuple[str, str | None]]:
        """(phone, refusal reason or None) for each recipient, in order.

        One set-based query finds every contact a send would refuse; recipients are
        then checked against it in memory, so a million recipients cost one pass.
        Recipients must already be in E.164 (contacts from the store, or numbers
        normalised with :func:`phone`).
        """
        from_number = sender_number(sender)
        with self.store.read() as tx:
            row = self._account(tx, account)
            self._sender(tx, row, from_number)
            self._known_list(tx, row, list_name)
            refused = tx.suppressed(row.id, from_number, list_name)
        get = refused.get
        return ((recipient, get(recipient)) for recipient in recipients)

    # -- manual changes -------------------------------------------------------------

    def opt_out(
        self, account: str, number: str, sender: str | None = None, note: str | None = None
    ) -> ContactState:
        return self._change(
            account, number, lambda s, p: consent.opt_out(s, p, self._opt(sender), note)
        )

    def opt_in(
        self,
        account: str,
        number: str,
        evidence: str | None,
        sender: str | None = None,
    ) -> ContactState:
        return self._change(
            account, number, lambda s, p: consent.opt_in(s, p, evidence, self._opt(sender))
        )

    def block(self, account: str, number: str, note: str | None = None) -> ContactState:
        return self._change(account, number, lambda s, p: consent.block(s, note))

    def unblock(self, account: str, number: str, note: str | None = None) -> ContactState:
        return self._change(account, number, lambda s, p: consent.unblock(s, note))

    def subscribe(self, account: str, list_name: str, number: str) -> ContactState:
        return self._change(
            account, number, lambda s, p: consent.subscribe(s, list_name), list_name
        )

    def unsubscribe(self, account: str, list_name: str, number: str) -> ContactState:
        return self._change(
            account, number, lambda s, p: consent.unsubscribe(s, list_name), list_name
        )

    def provider_opt_out(
        self, account: str, sender: str, number: str, provider: str, code: str
    ) -> ContactState:
        """A provider refused a send because the recipient opted out there (21610...)."""
        from_number = sender_number(sender)
        return self._change(
            account,
            number,
            lambda s, p: consent.provider_opt_out(s, p, from_number, provider, code),
        )

    # -- lists and triggers ---------------------------------------------------------

    def create_list(self, account: str, name: str, opt_out_keyword: str | None = None) -> None:
        name = name.strip()
        if not name:
            raise BadInput("list name is empty")
        keyword = self._account_keyword(opt_out_keyword) if opt_out_keyword else None
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            if keyword is not None:
                self._keyword_free(tx, row, keyword)
            try:
                tx.create_list(row.id, name, keyword)
            except Conflict:
                raise AlreadyExists(f"list {name!r} already exists") from None

    def add_to_list(self, account: str, list_name: str, numbers: Sequence[str]) -> int:
        phones = [phone(n) for n in numbers]
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            self._known_list(tx, row, list_name)
            for contact_phone in phones:
                state = tx.contact(row.id, contact_phone, for_update=True)
                outcome = consent.subscribe(state or ContactState(contact_phone), list_name)
                self._apply(tx, row.id, state, outcome, now)
        return len(phones)

    def add_trigger(
        self,
        account: str,
        keyword: str,
        reply: str,
        unsubscribe_list: str | None = None,
        subscribe_list: str | None = None,
    ) -> Trigger:
        trigger = Trigger(self._account_keyword(keyword), reply, unsubscribe_list, subscribe_list)
        if not reply.strip():
            raise BadInput("trigger reply is empty")
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            self._keyword_free(tx, row, trigger.keyword)
            for list_name in (unsubscribe_list, subscribe_list):
                self._known_list(tx, row, list_name)
            tx.add_trigger(row.id, trigger)
            return trigger

    # -- reading --------------------------------------------------------------------

    def contact(self, account: str, number: str) -> ContactState | None:
        contact_phone = phone(number)
        with self.store.read() as tx:
            return tx.contact(self._account(tx, account).id, contact_phone)

    def contacts(
        self,
        account: str,
        status: Status | None = None,
        list_name: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[ContactState]:
        with self.store.read() as tx:
            row = self._account(tx, account)
            self._known_list(tx, row, list_name)
            return tx.contacts(row.id, status=status, list_name=list_name, after=after, limit=limit)

    def history(self, account: str, number: str) -> tuple[list[StoredEvent], list[MessageRow]]:
        contact_phone = phone(number)
        with self.store.read() as tx:
            row = self._account(tx, account)
            return tx.events(row.id, contact_phone), tx.messages(row.id, contact_phone)

    def verify(self, account: str | None = None) -> list[VerifyResult]:
        with self.store.read() as tx:
            rows = [self._account(tx, account)] if account else tx.accounts()
            return [tx.verify(row.id) for row in rows]

    # -- import ---------------------------------------------------------------------

    def import_contacts(
        self, account: str, rows: Iterable[ImportRow], progress: Callable[[], None] = lambda: None
    ) -> int:
        """Apply validated rows in one transaction: all of them, or none on any refusal."""
        now = self._clock()
        count = 0
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            policy = self._policy_of(row)
            known_lists = {lst.name for lst in tx.lists(row.id)}
            for item in rows:
                missing = [name for name in item.lists if name not in known_lists]
                if missing:
                    raise BadInput(f"line {item.line}: unknown list {missing[0]!r}")
                state = tx.contact(row.id, item.phone, for_update=True)
                try:
                    outcome = consent.imported(
                        state or ContactState(item.phone),
                        policy,
                        item.status,
                        item.lists,
                        item.evidence,
                        new=state is None,
                    )
                except Refused as exc:
                    raise NotAllowed(f"line {item.line}: {exc}") from None
                self._apply(tx, row.id, state, outcome, now)
                count += 1
                progress()
        return count

    # -- internals --------------------------------------------------------------------

    @staticmethod
    def _opt(sender: str | None) -> str | None:
        return sender_number(sender) if sender else None

    def _change(
        self,
        account: str,
        number: str,
        change: Callable[[ContactState, Policy], Outcome],
        list_name: str | None = None,
    ) -> ContactState:
        contact_phone = phone(number)
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            self._known_list(tx, row, list_name)
            state = tx.contact(row.id, contact_phone, for_update=True)
            try:
                outcome = change(state or ContactState(contact_phone), self._policy_of(row))
            except Refused as exc:
                raise NotAllowed(str(exc)) from None
            self._apply(tx, row.id, state, outcome, now)
            return outcome.state

    @staticmethod
    def _apply(
        tx: Tx, account_id: int, before: ContactState | None, outcome: Outcome, now: datetime
    ) -> None:
        if before is None or outcome.state != before:
            tx.save_contact(account_id, outcome.state)
        if outcome.events:
            tx.append(account_id, outcome.events, now)

    @staticmethod
    def _account(tx: Tx, name: str) -> AccountRow:
        row = tx.account(name)
        if row is None:
            raise UnknownAccount(f"unknown account {name!r}")
        return row

    @staticmethod
    def _sender(tx: Tx, account: AccountRow, number: str) -> SenderRow:
        row = tx.sender(number)
        if row is None or row.account_id != account.id:
            raise UnknownSender(f"{number} is not a sender of account {account.name!r}")
        return row

    @staticmethod
    def _known_list(tx: Tx, account: AccountRow, list_name: str | None) -> None:
        if list_name is not None and list_name not in {lst.name for lst in tx.lists(account.id)}:
            raise UnknownList(f"unknown list {list_name!r} in account {account.name!r}")

    @staticmethod
    def _account_keyword(keyword: str) -> str:
        try:
            form = normalise_keyword(keyword)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        if form in RESERVED_KEYWORDS:
            raise BadInput(f"{form.upper()} is reserved for carrier-wide opt-out, opt-in and help")
        return form

    @staticmethod
    def _keyword_free(tx: Tx, account: AccountRow, keyword: str) -> None:
        taken = {t.keyword for t in tx.triggers(account.id)} | {
            lst.opt_out_keyword for lst in tx.lists(account.id)
        }
        if keyword in taken:
            raise AlreadyExists(f"keyword {keyword.upper()} is already used by this account")

    def _policy_of(self, row: AccountRow) -> Policy:
        # Replies name the brand (CTIA 5.1.2.1); the account name stands in until set.
        return self._build_policy(row.profile, {"brand": row.name, **row.overrides})

    def _build_policy(self, profile: str, overrides: dict[str, Any]) -> Policy:
        key = (profile, json.dumps(overrides, sort_keys=True))
        policy = self._policies.get(key)
        if policy is None:
            try:
                policy = with_overrides(get_profile(profile), overrides)
            except (UnknownProfile, BadOverride) as exc:
                raise BadInput(str(exc)) from None
            self._policies[key] = policy
        return policy


class _Replay(Exception):
    """Internal: a concurrent duplicate delivery; the caller replays the stored outcome."""

    def __init__(self, account_id: int, provider_id: str) -> None:
        super().__init__(provider_id)
        self.account_id = account_id
        self.provider_id = provider_id
