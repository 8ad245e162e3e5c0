"""Sends in doubt: listed, reconciled with the provider's own record, or settled by an
operator.

Belongs here: the sends left ``queued`` or ``sending`` (a crash between claim and
answer), how each is settled (from the provider's record, or by hand with a reason),
and the ``send_settled`` event and consent follow-up of a settled send. The rules of
settling (statuses, reasons, the event) are :mod:`optline.domain.messages`'.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from optline.domain import consent, decisions
from optline.domain.actors import attributed
from optline.domain.consent import ContactState
from optline.domain.consent_codes import Source
from optline.domain.messages import (
    QUEUED_TOO_LONG,
    UNSETTLED,
    FailureReason,
    MessageStatus,
    Reconciled,
    Reconciliation,
    SettledAs,
    Via,
    operator_reason,
    provider_failure,
    settled_event,
)
from optline.engine.context import AccountRef, LookUp, message_ref
from optline.engine.directory import Directory
from optline.errors import AlreadySettled, BadInput, UnknownMessage
from optline.providers.base import CannotAsk, ProviderError, ProviderRecord, SentText
from optline.store import AccountRow, MessageRow, Tx
from optline.store.schema import UNSETTLED_STATUSES


class Unsettled(Directory):
    """Sends in doubt: listed, reconciled, settled."""

    def unsettled_messages(
        self,
        account: AccountRef,
        status: str,
        after_id: int = 0,
        limit: int = 100,
        older_than: timedelta = timedelta(0),
    ) -> list[MessageRow]:
        """The account's texts still ``queued`` or ``sending``, oldest first, after
        ``after_id`` (and recorded more than ``older_than`` ago): after a crash, the
        sends whose hand-over to the provider never started or never got an answer
        (their clients got none either)."""
        if status not in UNSETTLED_STATUSES:
            raise BadInput(f"status must be one of {', '.join(UNSETTLED_STATUSES)}")
        before = self._clock() - older_than if older_than else None
        with self.store.read() as tx:
            account_id = self._account(tx, account).id
            return tx.messages.unsettled(account_id, status, after_id, limit, before)

    def unsettled_sends(
        self, account: AccountRef, queued_for: timedelta = QUEUED_TOO_LONG, limit: int = 1000
    ) -> list[MessageRow]:
        """The account's sends whose outcome nobody knows, oldest first: every one left
        ``sending``, and those ``queued`` for longer than ``queued_for`` (at most
        ``limit`` of each)."""
        before = self._clock() - self._wait(queued_for)
        with self.store.read() as tx:
            account_id = self._account(tx, account).id
            sending = tx.messages.unsettled(account_id, MessageStatus.SENDING.value, 0, limit)
            queued = tx.messages.unsettled(account_id, MessageStatus.QUEUED.value, 0, limit, before)
        return sorted([*sending, *queued], key=lambda m: m.id)

    def unsettled_counts(
        self, account: AccountRef, queued_for: timedelta = QUEUED_TOO_LONG
    ) -> dict[MessageStatus, int]:
        """How many sends :meth:`unsettled_sends` would list, by status."""
        before = self._clock() - self._wait(queued_for)
        with self.store.read() as tx:
            counts = tx.messages.count_unsettled(self._account(tx, account).id, before)
        return {status: counts.get(status.value, 0) for status in UNSETTLED}

    @staticmethod
    def _wait(queued_for: timedelta) -> timedelta:
        if queued_for < timedelta(0):
            raise BadInput("the time a send has been queued cannot be negative")
        return queued_for

    def settle(
        self,
        account: AccountRef,
        message_id: int,
        settled_as: SettledAs,
        reason: str,
        by: str,
        via: Via,
    ) -> MessageRow:
        """An operator settles a send left ``queued`` or ``sending``: recorded
        ``settled_as`` (reason code ``settled_by_operator``), with a ``send_settled``
        event on the contact's ledger naming who (``by``, through ``via``) and why
        (``reason``, required). Any other message raises :class:`AlreadySettled`."""
        try:
            why = operator_reason(reason)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        if not by.strip():
            raise BadInput("who settles the send must be named")
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            message = tx.messages.get(row.id, message_id)
            if message is None:
                raise UnknownMessage(f"no message {message_id} in account {row.name!r}")
            code = FailureReason.SETTLED_BY_OPERATOR.value
            if (
                message.direction != "out"
                or message.status not in UNSETTLED
                or not tx.messages.move(row.id, message.id, message.status, settled_as.value, code)
            ):
                current = tx.messages.get(row.id, message.id) or message  # it may have moved on
                raise AlreadySettled(
                    f"message {message_id} is {current.status}: only a send still queued or"
                    " sending can be settled"
                )
            event = settled_event(
                message.phone,
                message.sender,
                message.id,
                message.status,
                settled_as,
                Source.MANUAL,
                by.strip(),
                via,
                reason=why,
            )
            self._record_settled(tx, row, message, settled_as, event, None, now)
            settled = tx.messages.get(row.id, message.id)
        assert settled is not None
        return settled

    def reconcile(
        self,
        look_up: LookUp,
        account: AccountRef | None = None,
        by: str = "cli",
        via: Via = Via.CLI,
    ) -> list[Reconciliation]:
        """Settle each send left ``sending`` (of ``account``, or of every account) from
        its provider's own record of it: taken (queued, sent, delivered, ...) -> sent
        with the provider's id; failed or undelivered -> failed with the provider's
        error (an opted-out refusal opts the contact out here too). A text the provider
        has no record of, or whose provider cannot be asked, is left for an operator
        (:meth:`settle`). ``queued`` sends were never handed over: nothing to ask."""
        with self.store.read() as tx:
            rows = [self._account(tx, account)] if account is not None else tx.accounts.all()
            stuck = [(row, message) for row in rows for message in self._all_sending(tx, row.id)]
        return [self._reconcile(row, message, look_up, by, via) for row, message in stuck]

    @staticmethod
    def _all_sending(tx: Tx, account_id: int) -> list[MessageRow]:
        found: list[MessageRow] = []
        while page := tx.messages.unsettled(
            account_id, MessageStatus.SENDING.value, found[-1].id if found else 0, 500
        ):
            found += page
        return found

    def _reconcile(
        self, account: AccountRow, message: MessageRow, look_up: LookUp, by: str, via: Via
    ) -> Reconciliation:
        left = partial(Reconciliation, account.name, message.id, message.phone, message.sender)
        sender = self.sender(message.sender)
        if sender is None or sender.account_id != account.id:
            detail = f"{message.sender} is no longer a sender of the account"
            return left(Reconciled.CANNOT_ASK, detail=detail)
        text = SentText(
            message.sender, message.phone, message.body, message.created_at, message.provider_id
        )
        try:
            records = look_up(sender, text)
        except CannotAsk as exc:
            return left(Reconciled.CANNOT_ASK, detail=f"{exc}: settle it by hand")
        except ProviderError as exc:
            return left(Reconciled.UNREACHABLE, detail=str(exc))
        now = self._clock()
        with self.store.transaction() as tx:
            # A record another message carries already (the same text sent twice) is its.
            record = next(
                (
                    r
                    for r in records
                    if (owner := tx.messages.by_provider_id(account.id, r.provider_id)) is None
                    or owner.id == message.id
                ),
                None,
            )
            if record is None:
                detail = f"{sender.provider} has no record of this text: settle it by hand"
                return left(Reconciled.NOT_FOUND, detail=detail)
            found = partial(left, provider_id=record.provider_id, provider_status=record.status)
            if record.outcome is None:
                detail = f"{sender.provider} says {record.status!r}: settle it by hand"
                return found(Reconciled.UNREADABLE, detail=detail)
            settled_as = SettledAs(record.outcome.value)
            failed = settled_as is SettledAs.FAILED
            reason = provider_failure(record.error_code, record.opted_out) if failed else None
            if not tx.messages.move(
                account.id, message.id, MessageStatus.SENDING.value, settled_as.value
            ):
                return found(Reconciled.ALREADY_SETTLED, detail="settled meanwhile")
            tx.messages.set_status(
                account.id, message.id, settled_as.value, reason, record.provider_id
            )
            event = settled_event(
                message.phone,
                message.sender,
                message.id,
                MessageStatus.SENDING.value,
                settled_as,
                Source.PROVIDER,
                by,
                via,
                provider=record.provider,
                provider_id=record.provider_id,
                provider_status=record.status,
                code=record.error_code,
                error=record.error_message and record.error_message[:200],
            )
            self._record_settled(tx, account, message, settled_as, event, record, now)
        return found(Reconciled(settled_as.value), reason=reason)

    def _record_settled(
        self,
        tx: Tx,
        account: AccountRow,
        message: MessageRow,
        settled_as: SettledAs,
        event: consent.Event,
        record: ProviderRecord | None,
        now: datetime,
    ) -> None:
        """A settled send's event, and the contact as it follows: a text that never went
        did not tell them the first-text disclosure (the next one carries it), and a
        provider's opted-out refusal opts them out here too."""
        policy = self._policy_of(account)
        state = tx.contacts.get(account.id, message.phone, for_update=True)
        before = state or ContactState(message.phone)
        after, events = before, [event]
        if settled_as is SettledAs.FAILED:
            after = decisions.never_sent(after, policy, message.body)
        if record is not None and record.opted_out:
            opted_out = self._provider_outcome(
                after, policy, message.sender, record.provider, record.error_code or ""
            )
            after, events = opted_out.state, [*events, *opted_out.events]
        if after != before:
            tx.contacts.save(account.id, after, now)
        self._append(tx, account.id, attributed(events, message=message_ref(message)), now, after)
