"""A recorded text handed to its provider, and what the provider says of it after.

Belongs here: claiming a queued text (``queued`` -> ``sending``, decided again on the
contact as it is now), its hand-over with the re-decision before each retry, its status
recorded from the provider's answer, the hand-over of a send repeated with its
idempotency key, the reply worker (replies still queued after ``REPLY_GRACE``), and the
provider's status reports (:meth:`HandOver.delivery_report`). Deciding and recording a
send is ``outbound``'s.
"""

from __future__ import annotations

from datetime import timedelta

from optline.domain import decisions, purposes
from optline.domain.actors import sender_of
from optline.domain.consent import ContactState
from optline.domain.consent_codes import Reason
from optline.domain.decisions import Decision
from optline.domain.messages import FailureReason, MessageStatus, may_replace
from optline.engine.changes import Changes
from optline.engine.context import AccountRef, message_ref, phone, sender_number
from optline.engine.results import PendingSend, SendResult
from optline.errors import ProviderIdConflict
from optline.providers.base import ProviderError, ProviderOptedOut, SendWithdrawn
from optline.providers.registry import FINAL_STATUSES
from optline.store import MessageRow, SenderRow, Tx

# A reply to be sent through the provider's API that is still queued this long after
# it was recorded had its own send never start: the reply worker sends it.
REPLY_GRACE = timedelta(seconds=30)


class HandOver(Changes):
    """Claims and hand-overs; a provider opt-out met there is recorded as ``Changes`` does."""

    def deliver(self, pending: PendingSend) -> SendResult:
        """The second half of :meth:`send`, outside any transaction: an allowed text
        to the provider; a refused one is already recorded failed."""
        to, decision, message_id = pending.to, pending.decision, pending.message_id
        if pending.earlier is not None:
            return self._deliver_again(pending, pending.earlier)
        if not decision.allowed:
            return SendResult(to, decision, MessageStatus.FAILED, message_id)
        self._hand_over_notice(pending)
        refusal, status, provider_id, error = self._claim_and_hand_over(
            pending.sender, to, decision.body, message_id
        )
        return SendResult(
            to,
            refusal or decision,
            status,
            message_id,
            provider_id,
            error,
            notice_message_id=pending.notice_id,
        )

    def _hand_over_notice(self, pending: PendingSend) -> None:
        """Seed 004: the first-text notice goes first, as a text of its own, claimed and
        decided again as any text; the text itself follows whatever became of it."""
        notice = pending.decision.notice
        if pending.notice_id is not None and notice is not None:
            self._claim_and_hand_over(pending.sender, pending.to, notice, pending.notice_id)

    def _deliver_again(self, pending: PendingSend, message: MessageRow) -> SendResult:
        """A request repeated with its idempotency key: its first message as it is now;
        one still queued (its hand-over never started: the process stopped, say) is
        decided again, as consent may have changed since, and sent."""
        sender, to, decision = pending.sender, pending.to, pending.decision
        if (
            decision.allowed
            and message.status == MessageStatus.QUEUED
            and self._sends_through(sender)
        ):
            self._hand_over_notice(pending)
            refusal, status, provider_id, error = self._claim_and_hand_over(
                sender, to, message.body, message.id
            )
            return SendResult(
                to,
                refusal or decision,
                status,
                message.id,
                provider_id,
                error,
                replayed=True,
                notice_message_id=pending.notice_id,
            )
        # A failure after an allowed decision was the provider's: its reason stands in
        # for the error message, which was not kept.
        error = (
            message.reason if decision.allowed and message.status == MessageStatus.FAILED else None
        )
        return SendResult(
            to, decision, message.status, message.id, message.provider_id, error, replayed=True
        )

    def dispatch_recorded(
        self, sender: SenderRow, to: str, body: str, message_id: int
    ) -> tuple[str, str | None, str | None]:
        """Send a text recorded as queued (message ``message_id``); returns its status,
        the provider's id and the failure, and records them.

        The text is first claimed (queued -> sending, :meth:`_claim`) in a transaction
        of its own, so it reaches the provider once even when the reply worker looks at
        it too, and never after an opt-out committed since it was decided; a crash
        after the claim leaves it ``sending``: handed over or not, nobody knows, and it
        is not sent again."""
        _, status, provider_id, error = self._claim_and_hand_over(sender, to, body, message_id)
        return status, provider_id, error

    def _claim_and_hand_over(
        self, sender: SenderRow, to: str, body: str, message_id: int
    ) -> tuple[Decision | None, str, str | None, str | None]:
        """:meth:`dispatch_recorded`, with the decision that refused the text at its
        claim (None when it was not decided again, or is still allowed)."""
        if not self._sends_through(sender):
            return None, MessageStatus.SENT, None, None
        status, reason, refusal = self._claim(sender.account_id, message_id)
        if status is None:
            return None, MessageStatus.SENDING, None, "already being sent"
        if status == MessageStatus.FAILED:
            return refusal, MessageStatus.FAILED, None, reason
        return self._hand_over(sender, to, body, message_id)

    def send_queued_replies(self, limit: int = 50) -> int:
        """Send replies still queued ``REPLY_GRACE`` after they were recorded: their
        webhook's own send never started (the process stopped, say). Returns how many
        this call sent or failed."""
        with self.store.read() as tx:
            queued = tx.messages.queued_replies(self._clock() - REPLY_GRACE, limit)
        handled = 0
        for account_id, message in queued:
            sender = self.sender(message.sender)
            if sender is None or sender.account_id != account_id or not self._sends_through(sender):
                continue  # the sender was removed, or has no provider: nothing to send through
            moved_to, _, _ = self._claim(account_id, message.id)
            if moved_to == MessageStatus.SENDING:
                self._hand_over(sender, message.phone, message.body, message.id)
            handled += moved_to is not None
        return handled

    def _claim(
        self, account_id: int, message_id: int
    ) -> tuple[str | None, str | None, Decision | None]:
        """Claim a queued text for its hand-over to the provider: its new status, the
        reason and the decision that refused it (if decided again and refused), or
        (None, None, None) when someone else has taken it meanwhile."""
        with self.store.transaction() as tx:
            # The claim first: of two claimants, the one that waited for this row finds
            # it taken, and decides and records nothing. Lock order: the message, the
            # contact, the account (as a delivery report takes them).
            if not tx.messages.move(
                account_id, message_id, MessageStatus.QUEUED, MessageStatus.SENDING
            ):
                return None, None, None
            return self._decide_again(tx, account_id, message_id)

    def _recheck(self, account_id: int, message_id: int) -> None:
        """Before each retry of a hand-over: the text, still ``sending``, is decided
        again as at its claim (each attempt is a hand-over of its own: a STOP may have
        come while the provider was failing). Raises :class:`SendWithdrawn` when it may
        no longer go, with it recorded ``failed`` (and ``send_refused``)."""
        with self.store.transaction() as tx:
            message = tx.messages.get(account_id, message_id, for_update=True)
            if message is None or message.status != MessageStatus.SENDING:
                # Settled by someone else meanwhile (an operator, say): not ours to send.
                raise _Withdrawn(None, message.status if message else "missing")
            status, reason, refusal = self._decide_again(tx, account_id, message_id)
        if status == MessageStatus.FAILED:
            raise _Withdrawn(refusal, reason)

    def _decide_again(
        self, tx: Tx, account_id: int, message_id: int
    ) -> tuple[str, str | None, Decision | None]:
        """Decide a ``sending`` text again on the contact as locked in ``tx`` now: its
        status (``sending`` to go on, or ``failed``), the reason and the refusal.

        Consent may have changed since the text was decided (a broadcast's later
        texts, a retried request, a reply sent late): a text now refused is recorded
        ``failed`` with the decision's reason (and ``send_refused``), never handed
        over. An automatic reply is not decided again (a STOP's confirmation goes to
        an opted-out contact), but once the contact's ledger has moved on (a STOP
        after a trigger's reply, say) it answers a moment that has passed: ``failed``,
        reason ``superseded``."""
        now = self._clock()
        message = tx.messages.get(account_id, message_id)
        assert message is not None
        if message.reply:
            if not tx.ledger.changed_since(account_id, message.phone, message.created_at):
                return MessageStatus.SENDING, None, None
            tx.messages.move(
                account_id,
                message_id,
                MessageStatus.SENDING,
                MessageStatus.FAILED,
                FailureReason.SUPERSEDED,
            )
            return MessageStatus.FAILED, FailureReason.SUPERSEDED, None
        policy = self._policy_of(self._account(tx, account_id))
        state = tx.contacts.get(account_id, message.phone, for_update=True)
        decision = decisions.decide(
            state,
            message.sender,
            policy,
            message.body,
            message.list_name,
            message.campaign,
            self._held(tx, account_id, policy, message.campaign, message.phone),
            purposes.of_send(message.purpose, message.campaign),
        )
        if decision.allowed:
            return MessageStatus.SENDING, None, None
        sender = sender_of(message.sent_by, message.sent_via)
        self._record_refusal(
            tx, account_id, state, message.phone, message.sender, decision, now, sender
        )
        untold = None if state is None else decisions.never_sent(state, policy, message.body)
        if untold is not None and untold is not state:
            tx.contacts.save(account_id, untold, now)
        reason = decision.reason.value if decision.reason else None
        tx.messages.move(
            account_id, message_id, MessageStatus.SENDING, MessageStatus.FAILED, reason
        )
        return MessageStatus.FAILED, reason, decision

    def _hand_over(
        self, sender: SenderRow, to: str, body: str, message_id: int
    ) -> tuple[Decision | None, str, str | None, str | None]:
        """Hand a claimed text to the provider: the refusal that withdrew it before a
        retry (or None), its status, the provider's id and the failure."""
        assert self._dispatch is not None and sender.provider is not None
        account_id = sender.account_id
        try:
            provider_id = self._dispatch(
                sender, to, body, before_retry=lambda: self._recheck(account_id, message_id)
            )
        except _Withdrawn as exc:
            return exc.refusal, MessageStatus.FAILED, None, exc.reason
        except ProviderOptedOut as exc:
            # The provider knows an opt-out we did not: take it over so the two agree.
            self.provider_opt_out(
                account_id, sender.number, to, sender.provider, exc.code or "", None, message_id
            )
            self._set_status(account_id, message_id, MessageStatus.FAILED, Reason.OPTED_OUT, None)
            return None, MessageStatus.FAILED, None, str(exc)
        except ProviderError as exc:
            self._set_status(
                account_id, message_id, MessageStatus.FAILED, FailureReason.PROVIDER_ERROR, None
            )
            return None, MessageStatus.FAILED, None, str(exc)
        self._set_status(account_id, message_id, MessageStatus.SENT, None, provider_id)
        return None, MessageStatus.SENT, provider_id, None

    def _set_status(
        self,
        account_id: int,
        message_id: int,
        status: str,
        reason: str | None,
        provider_id: str | None,
    ) -> None:
        with self.store.transaction() as tx:
            tx.messages.set_status(account_id, message_id, status, reason, provider_id)

    def delivery_report(
        self,
        account: AccountRef,
        sender: str,
        provider_id: str,
        to: str,
        status: str,
        error_code: str | None,
        opted_out: bool,
        reply_id: int | None = None,
        account_ref: str | None = None,
    ) -> None:
        """A provider's status report on an outbound text. An opted-out report (21610,
        40300, ...) opts the recipient out here too, so provider and optline agree.

        ``reply_id``: the report is on that automatic reply (answered in TwiML, so sent
        without optline learning the provider's id), which takes ``provider_id`` now.
        ``account_ref``: the provider's account or service the text went out on (a
        Telnyx messaging profile's id), recorded with an opt-out that covers it.
        """
        recipient = phone(to)
        from_number = sender_number(sender)
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            sender_row = self._sender(tx, row, from_number)
            message = tx.messages.by_provider_id(row.id, provider_id)
            if message is not None and message.direction != "out":
                # An inbound text's id: no report is about it, and no reply can take it.
                if reply_id is not None:
                    raise ProviderIdConflict(
                        f"message id {provider_id!r} is already another message's"
                    )
                message = None
            elif message is None and reply_id is not None:
                message = tx.messages.unreported_reply(row.id, reply_id, from_number, recipient)
            already = message is not None and message.reason == Reason.OPTED_OUT
            # Callbacks may arrive out of order: a final status is kept (may_replace).
            if message is not None and may_replace(message.status, status, FINAL_STATUSES):
                reason = (
                    Reason.OPTED_OUT if opted_out else (error_code and f"provider_{error_code}")
                )
                tx.messages.set_status(row.id, message.id, status, reason, provider_id)
            if opted_out and not already:
                state = tx.contacts.get(row.id, recipient, for_update=True)
                outcome = self._provider_outcome(
                    state or ContactState(recipient),
                    self._policy_of(row),
                    from_number,
                    sender_row.provider or "provider",
                    error_code or "",
                    account_ref,
                )
                self._apply(
                    tx,
                    row.id,
                    state,
                    outcome,
                    now,
                    message=message_ref(message) if message else None,
                )


class _Withdrawn(SendWithdrawn):
    """A hand-over ended before a retry: the refusal (None when the text was settled
    by someone else meanwhile) and the reason it was recorded with."""

    def __init__(self, refusal: Decision | None, reason: str | None) -> None:
        super().__init__(reason)
        self.refusal = refusal
        self.reason = reason
