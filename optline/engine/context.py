"""The context every use case of the engine works in (see the package docstring).

Here: the store, the clock and the dispatcher; the engine's life (open, close); the
protocols of the provider calls it is given; the normalisation of phone numbers; and
the steps of a transaction that several use cases take (the account held, contacts
locked in order, a consent outcome applied, ledger events appended with their
notifications, a refusal recorded, a provider's opt-out read). Nothing here is a use
case of its own, and nothing here keeps state between calls.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, Self

from optline.domain import consent, decisions, inputs, projection, purposes, review
from optline.domain.actors import Actor, MessageRef, attributed
from optline.domain.consent import ContactState, Outcome
from optline.domain.consent_codes import EventType, Status
from optline.domain.decisions import Decision
from optline.domain.phone import InvalidPhoneNumber, to_e164
from optline.domain.policy import Policy
from optline.domain.reassigned import ReassignedNumbers
from optline.domain.review import Resolution
from optline.errors import BadInput, UnknownAccount, UnknownList, UnknownPurpose
from optline.providers.base import BeforeRetry, ProviderRecord, SentText
from optline.providers.registry import PROVIDER_OPT_OUT_SCOPE
from optline.store import AccountRow, MessageRow, SenderRow, Store, Tx
from optline.store.ledger import body_sha256

# Events that may close a contact's open flags (review.covered decides which).
_CLOSING = frozenset({EventType.OPTED_OUT, EventType.BLOCKED})

# ASCII digits only: \d also takes other scripts' digits ("١٢٣٤٥" is not 12345).
SHORT_CODE = re.compile(r"^[0-9]{3,8}$")


#: An account by name (CLI, REST) or by id (webhooks find it from the sender).
AccountRef = str | int


class Dispatch(Protocol):
    """Sends one text through the sender's provider; returns the provider message id.

    Raises ``optline.providers.base.ProviderOptedOut`` when the provider reports the
    recipient opted out, ``ProviderError`` for other failures. ``before_retry`` runs
    before every attempt after the first and may end the send (``SendWithdrawn``).
    """

    def __call__(
        self, sender: SenderRow, to: str, body: str, before_retry: BeforeRetry | None = None
    ) -> str | None: ...


class LookUp(Protocol):
    """Asks the sender's provider about a text handed to it: the provider's records of
    it, earliest first (none when it has no record). Raises
    ``optline.providers.base.CannotAsk`` when the provider cannot be asked,
    ``ProviderError`` when asking fails."""

    def __call__(self, sender: SenderRow, text: SentText) -> list[ProviderRecord]: ...


def key_hash(key: str) -> str:
    """API keys are random 256-bit values, so a plain SHA-256 is a safe stored form."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A new API key (the account's or a user's): shown once, stored by its hash."""
    return "ol_" + secrets.token_urlsafe(32)


def utcnow() -> datetime:
    return datetime.now(UTC)


def phone(raw: str) -> str:
    """A contact's number in E.164, or :class:`BadInput` naming what is wrong."""
    try:
        return to_e164(raw)
    except InvalidPhoneNumber as exc:
        raise BadInput(str(exc)) from None


def checked_actor(actor: Actor | None) -> Actor | None:
    """The actor of a manual change, its name checked (:class:`BadInput` if empty)."""
    return None if actor is None else Actor(inputs.actor(actor.by), actor.via)


def sender_number(raw: str) -> str:
    """A sender: a short code (digits only) as given, anything else in E.164."""
    text = raw.strip()
    return text if SHORT_CODE.match(text) else phone(text)


class Context:
    """What every use case shares: the store, the clock and the dispatcher, and the
    steps of a transaction that several of them take."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime] = utcnow,
        dispatch: Dispatch | None = None,
        reassigned: ReassignedNumbers | None = None,
    ) -> None:
        self.store = store
        self._clock = clock
        # Without a dispatcher, outbound texts are decided and recorded only (the
        # caller sends them); with one, allowed texts go to the sender's provider.
        self._dispatch = dispatch
        # The reassigned-numbers check (optline.engine.reassigned); None: not asked.
        self._reassigned = reassigned

    @classmethod
    def open(
        cls,
        database_url: str,
        dispatch: Dispatch | None = None,
        reassigned: ReassignedNumbers | None = None,
        **store_options: Any,
    ) -> Self:
        store = Store.open(database_url, **store_options)
        return cls(store, dispatch=dispatch, reassigned=reassigned)

    def close(self) -> None:
        close_dispatch = getattr(self._dispatch, "close", None)
        if close_dispatch is not None:
            close_dispatch()  # adapters hold HTTP connections
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sends_through(self, sender: SenderRow) -> bool:
        """Texts from ``sender`` go out through its provider's API (from here)."""
        return self._dispatch is not None and sender.provider is not None

    @staticmethod
    def _account(tx: Tx, account: AccountRef, exclusive: bool = False) -> AccountRow:
        """The account; in a write transaction as committed now, its row held until the
        end (:meth:`Tx.accounts.hold`: before any contact is locked, so every writer
        takes the account first, and a policy change waits for the writers in flight)."""
        if tx.writable:
            row = tx.accounts.hold(account, exclusive)
        elif isinstance(account, int):
            row = tx.accounts.get(account)
        else:
            row = tx.accounts.by_name(account)
        if row is None:
            raise UnknownAccount(f"unknown account {account!r}")
        return row

    @staticmethod
    def _known_list(tx: Tx, account: AccountRow, list_name: str | None) -> None:
        if list_name is not None and list_name not in {
            lst.name for lst in tx.senders.lists(account.id)
        }:
            raise UnknownList(f"unknown list {list_name!r} in account {account.name!r}")

    @staticmethod
    def _send_purpose(
        tx: Tx, account: AccountRow, purpose: str | None, campaign: bool, list_name: str | None
    ) -> tuple[str, bool]:
        """The purpose a send is of and whether it is a campaign text (a ``marketing``
        text is one), its list checked too (optline.domain.purposes.of_send). Reads the
        account's lists only for a list, its purposes only for a purpose of its own."""
        list_purpose = None
        if list_name is not None:
            found = {lst.name: lst for lst in tx.senders.lists(account.id)}
            if list_name not in found:
                raise UnknownList(f"unknown list {list_name!r} in account {account.name!r}")
            list_purpose = found[list_name].purpose
        if purpose is not None and purpose not in purposes.DEFAULT_PURPOSES:
            Context._known_purpose(tx, account, inputs.purpose(purpose))
        chosen = purposes.of_send(purpose, campaign, list_purpose)
        return chosen, campaign or chosen == purposes.MARKETING

    @staticmethod
    def _known_purpose(tx: Tx, account: AccountRow, purpose: str) -> None:
        if purpose not in tx.purposes.names(account.id):
            raise UnknownPurpose(f"unknown purpose {purpose!r} in account {account.name!r}")

    @staticmethod
    def _lock_contacts(
        tx: Tx, account_id: int, phones: Iterable[str]
    ) -> dict[str, ContactState | None]:
        """Lock (and read) every contact a transaction about to change several will
        touch, all of them before any ledger append and in one order (sorted): two such
        transactions, or one and a single change (contact, then ledger head), can then
        never each hold a lock the other waits for (PostgreSQL)."""
        return {p: tx.contacts.get(account_id, p, for_update=True) for p in sorted(set(phones))}

    def _apply(
        self,
        tx: Tx,
        account_id: int,
        before: ContactState | None,
        outcome: Outcome,
        now: datetime,
        actor: Actor | None = None,
        message: MessageRef | None = None,
    ) -> None:
        """Save the outcome's state and append its events, which name ``actor`` (a
        manual change) or ``message`` (the text or report that made the change, with
        the SHA-256 of its body and of the reply to it)."""
        if before is None or outcome.state != before:
            tx.contacts.save(account_id, outcome.state, now)
        if outcome.consent_texts:  # kept before the events that refer to them
            tx.consents.keep_texts(account_id, outcome.consent_texts, now)
        if outcome.events:
            events = attributed(outcome.events, actor, message)
            self._append(tx, account_id, events, now, outcome.state)

    @staticmethod
    def _append(
        tx: Tx,
        account_id: int,
        events: Sequence[consent.Event],
        now: datetime,
        state: ContactState | None = None,
    ) -> None:
        """Append to the ledger and, in the same transaction, queue the event webhooks
        (a change is never committed without its notification, nor notified without
        being committed), mark the scopes the events set (the contact's state saved
        first: the stored projection stays the ledger's replay) and keep the review
        queue: a flag opens with its event, and closes with the dismissal that names it
        or the opt-out (``state``: the contact's after it) that covers it."""
        stored = tx.ledger.append(account_id, events, now)
        for touched in projection.replay(stored).values():
            if touched.account is not None or touched.senders or touched.purposes:
                tx.projections.mark(account_id, touched)
        tx.outbox.enqueue(account_id, stored, now)
        for event, row in zip(events, stored, strict=True):
            flag = review.opened(event, row.seq, row.occurred_at)
            if flag is not None:
                tx.flags.add(account_id, flag)
            elif event.type is EventType.FLAG_DISMISSED:
                flagged = [int(event.data["flag"])]
                tx.flags.resolve(account_id, flagged, Resolution.DISMISSED, row.seq)
            elif event.type in _CLOSING and state is not None:
                closed = review.covered(state, tx.flags.open_of(account_id, event.phone))
                if closed:
                    seqs = [f.seq for f in closed]
                    tx.flags.resolve(account_id, seqs, Resolution.OPTED_OUT, row.seq)

    @staticmethod
    def _held(tx: Tx, account_id: int, policy: Policy, campaign: bool, to: str) -> bool:
        """An open flag holds campaign texts to ``to`` (``hold_campaigns_on_review``)."""
        return campaign and policy.hold_campaigns_on_review and tx.flags.has_open(account_id, to)

    @staticmethod
    def _held_phones(tx: Tx, account_id: int, policy: Policy, campaign: bool) -> frozenset[str]:
        """Every contact :meth:`_held` holds a campaign text from, read once."""
        if not (campaign and policy.hold_campaigns_on_review):
            return frozenset()
        return tx.flags.open_phones(account_id)

    def _record_refusal(
        self,
        tx: Tx,
        account_id: int,
        state: ContactState | None,
        to: str,
        from_number: str,
        decision: Decision,
        now: datetime,
        actor: Actor | None = None,
    ) -> None:
        """Put a refused send on the contact's ledger (``send_refused``), naming who
        sent it (``actor``) where a person or an API key did."""
        refused = decisions.refused_event(state or ContactState(to), from_number, decision)
        self._append(tx, account_id, attributed([refused], actor), now)

    @staticmethod
    def _provider_outcome(
        state: ContactState,
        policy: Policy,
        sender: str,
        provider: str,
        code: str,
        account_ref: str | None = None,
    ) -> Outcome:
        """A provider's opted-out report. Nothing to record when the contact is already
        opted out from that number: a retried callback, a text another system sent, a
        STOP confirmation the provider refused because it saw the STOP too. An opt-out
        the provider keeps wider than the number (Telnyx: the messaging profile) says
        so in its event, with the profile's id where the report named it."""
        if state.status_from(sender) is Status.OPTED_OUT:
            return Outcome(state)
        return consent.provider_opt_out(
            state, policy, sender, provider, code, PROVIDER_OPT_OUT_SCOPE.get(provider), account_ref
        )


def message_ref(message: MessageRow) -> MessageRef:
    """A stored text as an event caused by it names it: its id and, unless its body
    was redacted, the body's SHA-256."""
    return MessageRef(message.id, None if message.redacted_at else body_sha256(message.body))
