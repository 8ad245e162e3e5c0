"""Outbound texts: would one be allowed (:meth:`Outbound.check`, :class:`Checker` for a
batch), and one sent as a single operation (:meth:`Outbound.send`: decided and recorded
in one transaction, then handed over).

Belongs here: the decision of an outbound text and its record (failed with its reason,
or queued or sent), idempotency keys, and the two halves of a send for callers that run
them apart (:meth:`Outbound.decide_send`, then ``HandOver.deliver``). The hand-over
itself is ``handover``'s.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from optline.domain import decisions, inputs
from optline.domain.actors import Actor
from optline.domain.consent import ContactState
from optline.domain.consent_codes import Reason
from optline.domain.decisions import Decision
from optline.domain.messages import MessageStatus
from optline.domain.policy import Policy
from optline.engine.context import AccountRef, checked_actor, phone, sender_number
from optline.engine.handover import HandOver
from optline.engine.reassigned import Reassigned
from optline.engine.results import PendingSend, SendResult
from optline.engine.timing import Locating, SendTimes
from optline.errors import IdempotencyKeyReused
from optline.store import DuplicateDelivery, MessageRow, SenderRow, StoredLocation, Tx


class Checker:
    """Decides texts from one sender, recipient after recipient, in one read
    transaction: see :meth:`Engine.checker`."""

    __slots__ = (
        "_campaign",
        "_checked_body",
        "_clock",
        "_held",
        "_list",
        "_policy",
        "_purpose",
        "_sender",
        "_state",
        "_times",
    )

    def __init__(
        self,
        state: Callable[[str], tuple[ContactState | None, StoredLocation]],
        sender: str,
        policy: Policy,
        list_name: str | None,
        campaign: bool,
        times: SendTimes,
        clock: Callable[[], datetime],
        held: frozenset[str] = frozenset(),
        purpose: str | None = None,
    ) -> None:
        self._state = state
        self._purpose = purpose
        # Contacts whose flagged reply holds a campaign text (read once for the batch).
        self._held = held
        self._sender = sender
        self._policy = policy
        self._list = list_name
        self._campaign = campaign
        self._times = times
        self._clock = clock
        self._checked_body: str | None = None

    def check(self, to: str, body: str = "") -> Decision:
        """The decision :meth:`Engine.check` would make for this text."""
        if body is not self._checked_body:
            self._checked_body = inputs.outbound_text(body, required=False)
        state, stored = self._state(to)
        if state is None:
            # Stored numbers are all in E.164: anything else is read (or refused) as
            # Engine.check reads it, and looked up again in its E.164 form.
            number = phone(to)
            if number != to:
                to = number
                state, stored = self._state(number)
        held = state is not None and state.phone in self._held
        decision = decisions.decide(
            state, self._sender, self._policy, body, self._list, self._campaign, held, self._purpose
        )
        return self._times(decision, to, self._clock(), stored)

    __call__ = check

    def _close(self) -> None:
        self._state = _closed_checker


def _closed_checker(to: str) -> tuple[ContactState | None, StoredLocation]:
    raise RuntimeError("this checker's transaction has ended")


class Outbound(HandOver, Locating, Reassigned):
    """Outbound texts checked, and sent: decided, recorded, handed over."""

    def check(
        self,
        account: AccountRef,
        sender: str,
        to: str,
        body: str = "",
        list_name: str | None = None,
        campaign: bool = False,
        purpose: str | None = None,
    ) -> Decision:
        """Would this text be allowed? Reads only; records nothing. ``purpose``: the
        text's (None: ``marketing`` for a campaign text, else ``informational``; a
        ``marketing`` text is a campaign text)."""
        contact_phone = phone(to)
        from_number = sender_number(sender)
        body = inputs.outbound_text(body, required=False)
        with self.store.read() as tx:
            row = self._account(tx, account)
            self._sender(tx, row, from_number)
            purpose, campaign = self._send_purpose(tx, row, purpose, campaign, list_name)
            state = tx.contacts.get(row.id, contact_phone)
            policy = self._policy_of(row)
            held = self._held(tx, row.id, policy, campaign, contact_phone)
            decision = decisions.decide(
                state, from_number, policy, body, list_name, campaign, held, purpose
            )
            times = SendTimes(tx, row.id, policy, campaign, one_to_one=True)
            return times(decision, contact_phone, self._clock())

    @contextmanager
    def checker(
        self,
        account: AccountRef,
        sender: str,
        list_name: str | None = None,
        campaign: bool = False,
        purpose: str | None = None,
    ) -> Iterator[Checker]:
        """Decide many texts from ``sender`` as :meth:`check` would, for a caller
        pre-checking a batch: ``with engine.checker(acct, sender) as check: check(to,
        body)``.

        One read transaction for the whole batch; the account, sender, list and policy
        are resolved once, then each recipient costs one primary-key query. Its
        decisions reflect the store as of the first query, so keep the block short (a
        long one holds back SQLite's checkpoints) and decide the real send with
        :meth:`send`. Reads only; records nothing.
        """
        from_number = sender_number(sender)
        with self.store.read() as tx:
            row = self._account(tx, account)
            self._sender(tx, row, from_number)
            purpose, campaign = self._send_purpose(tx, row, purpose, campaign, list_name)
            state = tx.contacts.send_view(row.id, from_number, list_name, purpose)
            policy = self._policy_of(row)
            held = self._held_phones(tx, row.id, policy, campaign)
            times = SendTimes(tx, row.id, policy, campaign, one_to_one=True)
            checker = Checker(
                state, from_number, policy, list_name, campaign, times, self._clock, held, purpose
            )
            try:
                yield checker
            finally:
                checker._close()

    def send(
        self,
        account: AccountRef,
        sender: str,
        to: str,
        body: str,
        list_name: str | None = None,
        campaign: bool = False,
        idempotency_key: str | None = None,
        purpose: str | None = None,
        actor: Actor | None = None,
    ) -> SendResult:
        """Decide, record and (with a dispatcher) send one text.

        The decision and its record commit in one transaction holding the contact's
        row lock, so an opt-out committed before it is always seen and one committed
        after it waits; a text for the provider is decided again at its hand-over
        (:meth:`_claim`). A refused text is recorded failed with its reason and never
        reaches the provider.

        With an ``idempotency_key``, the same request again (a retry after a timeout)
        sends nothing new: it gets the first request's message as it is now, and one
        whose hand-over never started is decided again and sent. The key with another
        request raises :class:`IdempotencyKeyReused`. ``actor``: who sends it (a
        person or an API key), recorded on the message and on a refusal's event.
        """
        return self.deliver(
            self.decide_send(
                account, sender, to, body, list_name, campaign, idempotency_key, purpose, actor
            )
        )

    def decide_send(
        self,
        account: AccountRef,
        sender: str,
        to: str,
        body: str,
        list_name: str | None = None,
        campaign: bool = False,
        idempotency_key: str | None = None,
        purpose: str | None = None,
        actor: Actor | None = None,
    ) -> PendingSend:
        """The first half of :meth:`send`: decide and record, in one transaction."""
        actor = checked_actor(actor)
        contact_phone = phone(to)
        from_number = sender_number(sender)
        body = inputs.outbound_text(body)
        now = self._clock()
        # Asked before the transaction: the check may be a remote service.
        reassigned_since = self._reassigned_since(account, contact_phone, from_number, now)
        key = idempotency_key
        request = (
            ""
            if key is None
            else _send_fingerprint(from_number, contact_phone, body, list_name, campaign, purpose)
        )
        try:
            with self.store.transaction() as tx:
                row = self._account(tx, account)
                sender_row = self._sender(tx, row, from_number)
                if (
                    key is not None
                    and (earlier := tx.messages.send_request(row.id, key)) is not None
                ):
                    notice = tx.messages.queued_notice(row.id, earlier[2])
                    return _earlier_send(sender_row, key, request, *earlier, notice)
                purpose, campaign = self._send_purpose(tx, row, purpose, campaign, list_name)
                state = tx.contacts.get(row.id, contact_phone, for_update=True)
                policy = self._policy_of(row)
                refuse = None
                if reassigned_since is not None:
                    ended = self._end_reassigned(
                        tx, row.id, policy, state, contact_phone, from_number, reassigned_since, now
                    )
                    if ended is not None:
                        state, refuse = ended, Reason.NUMBER_REASSIGNED
                pending = self._decide_recorded(
                    tx,
                    row.id,
                    policy,
                    sender_row,
                    contact_phone,
                    state,
                    body,
                    list_name,
                    campaign,
                    now,
                    SendTimes(tx, row.id, policy, campaign, one_to_one=True),
                    self._held(tx, row.id, policy, campaign, contact_phone),
                    refuse,
                    purpose,
                    actor,
                )
                if key is not None:
                    tx.messages.record_send_request(
                        row.id,
                        key,
                        message_id=pending.message_id,
                        fingerprint=request,
                        allowed=pending.decision.allowed,
                        at=now,
                    )
        except DuplicateDelivery:
            # A concurrent request with the same key committed first; this one rolled
            # back, so the text is recorded (and sent) once.
            assert key is not None
            with self.store.read() as tx:
                earlier = tx.messages.send_request(sender_row.account_id, key)
                assert earlier is not None
                notice = tx.messages.queued_notice(sender_row.account_id, earlier[2])
            return _earlier_send(sender_row, key, request, *earlier, notice)
        return pending

    def _decide_recorded(
        self,
        tx: Tx,
        account_id: int,
        policy: Policy,
        sender: SenderRow,
        to: str,
        state: ContactState | None,
        body: str,
        list_name: str | None,
        campaign: bool,
        now: datetime,
        times: SendTimes,
        held: bool = False,
        refuse: Reason | None = None,
        purpose: str | None = None,
        actor: Actor | None = None,
    ) -> PendingSend:
        """Decide one text on the contact's state as locked in ``tx`` (consent, then the
        send windows and caps), and record it (``held``: a flagged reply of the
        contact's waits for review): a first-text notice of its own (seed 004) first,
        as a message of its own marked as the disclosure, allowed with the text it
        comes before (a text the windows hold sends no notice); ``refuse``: the reason
        it is refused whatever consent says (a number reassigned since its consent)."""
        decision = decisions.decide(
            state, sender.number, policy, body, list_name, campaign, held, purpose
        )
        if refuse is not None:
            decision = replace(decision, allowed=False, reason=refuse, notice=None)
        decision = times(decision, to, now)
        queued = self._sends_through(sender)
        notice_id = None
        if decision.notice is not None:
            notice_id = tx.messages.record_outbound(
                account_id,
                phone=to,
                sender=sender.number,
                body=decision.notice,
                status=MessageStatus.QUEUED if queued else MessageStatus.SENT,
                reason=None,
                list_name=list_name,
                campaign=False,
                at=now,
                disclosure=True,
            )
        message_id = self._record_decision(
            tx,
            account_id,
            state,
            to,
            sender.number,
            decision,
            list_name,
            campaign,
            now,
            queued=queued,
            purpose=purpose,
            actor=actor,
        )
        return PendingSend(sender, to, decision, message_id, notice_id=notice_id)

    def dispatches(self, pending: PendingSend) -> bool:
        """Whether :meth:`deliver` calls a provider for this text (network I/O)."""
        return pending.decision.allowed and self._sends_through(pending.sender)

    def _record_decision(
        self,
        tx: Tx,
        account_id: int,
        state: ContactState | None,
        contact_phone: str,
        from_number: str,
        decision: Decision,
        list_name: str | None,
        campaign: bool,
        now: datetime,
        queued: bool,
        purpose: str | None = None,
        actor: Actor | None = None,
    ) -> int:
        """Record a send's decision: failed with its reason, or allowed, and then
        ``queued`` for the provider (``dispatch_recorded``) or sent by the caller."""
        if decision.allowed:
            tx.contacts.save(account_id, decisions.sent(state or ContactState(contact_phone)), now)
        else:
            self._record_refusal(
                tx, account_id, state, contact_phone, from_number, decision, now, actor
            )
        return tx.messages.record_outbound(
            account_id,
            phone=contact_phone,
            sender=from_number,
            body=decision.body,
            status=(MessageStatus.QUEUED if queued else MessageStatus.SENT)
            if decision.allowed
            else MessageStatus.FAILED,
            reason=decision.reason.value if decision.reason else None,
            list_name=list_name,
            campaign=campaign,
            at=now,
            purpose=purpose,
            sent_by=None if actor is None else actor.by,
            sent_via=None if actor is None else actor.via.value,
        )


def _send_fingerprint(
    sender: str, to: str, body: str, list_name: str | None, campaign: bool, purpose: str | None
) -> str:
    """What identifies a send request, to tell a retry from another request that
    reuses its idempotency key (its purpose only when named, so a key stored before
    purposes were keeps its fingerprint)."""
    request: list[object] = [sender, to, body, list_name, campaign]
    if purpose is not None:
        request.append(purpose)
    return hashlib.sha256(json.dumps(request, ensure_ascii=False).encode("utf-8")).hexdigest()


def _earlier_send(
    sender: SenderRow,
    key: str,
    request: str,
    fingerprint: str,
    allowed: bool,
    message: MessageRow,
    notice: MessageRow | None,
) -> PendingSend:
    """The send first made with ``key``, for a request that repeats it; ``notice``: its
    first-text notice, if still queued (seed 004: it goes first when the text does)."""
    if fingerprint != request:
        raise IdempotencyKeyReused(
            f"idempotency key {key!r} was first used for another request;"
            " a new text needs a new key"
        )
    reason = None if allowed or message.reason is None else Reason(message.reason)
    decision = Decision(allowed, reason, message.body, notice.body if notice else None)
    notice_id = notice.id if notice else None
    return PendingSend(
        sender, message.phone, decision, message.id, earlier=message, notice_id=notice_id
    )
