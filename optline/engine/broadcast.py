"""One text to many recipients: a broadcast decided and recorded in chunks and handed
over a few at a time, and a broadcast decided up front without recording anything.

Belongs here: what only a broadcast does (chunking, concurrency, the set-based
decision); each text is decided, recorded and handed over as ``outbound`` and
``handover`` do for one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from operator import setitem

from optline.domain import inputs, written_consent
from optline.domain.actors import Actor
from optline.domain.consent_codes import Reason
from optline.engine.context import AccountRef, checked_actor, phone, sender_number
from optline.engine.outbound import Outbound
from optline.engine.reading import Reading
from optline.engine.results import BroadcastDecisions, PendingSend, SendResult
from optline.engine.timing import SendTimes
from optline.errors import BadInput

# Broadcast recipients decided and recorded per transaction: a SQLite transaction of
# this many holds the write lock for tens of milliseconds, not the whole broadcast.
BROADCAST_CHUNK = 200


# Texts of one broadcast handed to the provider at once (each a network round trip).
BROADCAST_CONCURRENCY = 8


class Broadcasting(Outbound, Reading):
    """A text to many recipients (see the module docstring)."""

    def broadcast(
        self,
        account: AccountRef,
        sender: str,
        body: str,
        list_name: str | None = None,
        numbers: Sequence[str] | None = None,
        campaign: bool = True,
        purpose: str | None = None,
        actor: Actor | None = None,
    ) -> list[SendResult]:
        """One text to every member of ``list_name`` (subscribed) or to ``numbers``; the
        results in the recipients' order. ``purpose``: the texts' (as :meth:`send`
        reads it); ``actor``: who sends them (recorded as :meth:`send` records it).

        Every recipient is decided and recorded as :meth:`send` does, ``BROADCAST_CHUNK``
        of them to a transaction; the allowed texts then go to the provider
        ``BROADCAST_CONCURRENCY`` at a time.
        """
        if (list_name is None) == (numbers is None):
            raise BadInput("a broadcast goes to a list or to numbers: give exactly one")
        body = inputs.outbound_text(body)
        if numbers is not None:
            recipients = list(dict.fromkeys(phone(n) for n in numbers))
        else:
            assert list_name is not None
            members = self.contacts(account, list_name=list_name)
            recipients = [c.phone for c in members if c.lists.get(list_name)]
        from_number = sender_number(sender)
        actor = checked_actor(actor)
        pending: list[PendingSend] = []
        for start in range(0, len(recipients), BROADCAST_CHUNK):
            chunk = recipients[start : start + BROADCAST_CHUNK]
            pending += self._decide_chunk(
                account, from_number, chunk, body, list_name, campaign, purpose, actor
            )
        if not any(self.dispatches(p) for p in pending):
            return [self.deliver(p) for p in pending]
        with ThreadPoolExecutor(BROADCAST_CONCURRENCY, thread_name_prefix="broadcast") as pool:
            return list(pool.map(self.deliver, pending))

    def _decide_chunk(
        self,
        account: AccountRef,
        from_number: str,
        recipients: Sequence[str],
        body: str,
        list_name: str | None,
        campaign: bool,
        purpose: str | None,
        actor: Actor | None = None,
    ) -> list[PendingSend]:
        """Decide and record texts to ``recipients`` in one transaction."""
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            sender_row = self._sender(tx, row, from_number)
            purpose, campaign = self._send_purpose(tx, row, purpose, campaign, list_name)
            policy = self._policy_of(row)
            states = self._lock_contacts(tx, row.id, recipients)
            held = self._held_phones(tx, row.id, policy, campaign)
            # A broadcast is never a reply: its texts keep to the windows whoever wrote.
            times = SendTimes(tx, row.id, policy, campaign, one_to_one=False)
            return [
                self._decide_recorded(
                    tx,
                    row.id,
                    policy,
                    sender_row,
                    to,
                    states[to],
                    body,
                    list_name,
                    campaign,
                    now,
                    times,
                    to in held,
                    purpose=purpose,
                    actor=actor,
                )
                for to in recipients
            ]

    def decide_broadcast(
        self,
        account: AccountRef,
        sender: str,
        recipients: Iterable[str],
        list_name: str | None = None,
        campaign: bool = True,
        purpose: str | None = None,
    ) -> BroadcastDecisions:
        """The recipients a send would reach (in order) and those it would refuse for
        consent (a campaign, as :meth:`broadcast` sends by default, also where a
        flagged reply waits for review).

        One set-based query finds every contact a send would refuse; recipients are
        then checked against it in memory, so a million recipients cost one pass.
        Where the policy's ``no_consent`` refuses texts to contacts with no consent on
        record (the default profile), a second one finds those with consent, and
        every other recipient is refused ``no_consent``, as :meth:`check` refuses
        them. Recipients must already be in E.164 (contacts from the store, or
        numbers normalised with :func:`phone`).
        """
        from_number = sender_number(sender)
        given = recipients if isinstance(recipients, Sequence) else list(recipients)
        with self.store.read() as tx:
            row = self._account(tx, account)
            self._sender(tx, row, from_number)
            purpose, campaign = self._send_purpose(tx, row, purpose, campaign, list_name)
            suppressed = tx.contacts.suppressed(row.id, from_number, list_name, purpose)
            policy = self._policy_of(row)
            rule = policy.no_consent
            if not rule.allows(campaign, contact_texted_first=False):
                with_inbound = rule.allows(campaign, contact_texted_first=True)
                consenting = tx.contacts.consenting(row.id, from_number, with_inbound, purpose)
                # decide's order: blocked, opted out, unsubscribed; then no consent.
                no_consent = Reason.NO_CONSENT.value
                suppressed = {
                    **{to: no_consent for to in given if to not in consenting},
                    **suppressed,
                }
            if campaign and policy.written_consent_required:
                # decide's order: then no written consent on record (64.1200(a)(2)).
                written = tx.contacts.with_written(row.id, written_consent.MARKETING)
                no_written = Reason.NO_WRITTEN_CONSENT.value
                suppressed = {
                    **{to: no_written for to in given if to not in written},
                    **suppressed,
                }
            held = self._held_phones(tx, row.id, policy, campaign)
        # Refused for consent first, as decisions.decide orders its checks.
        pending_review = Reason.REVOCATION_PENDING_REVIEW.value
        suppressed = {**dict.fromkeys(held, pending_review), **suppressed} if held else suppressed
        refused: dict[str, str] = {}
        # One pass: a recipient not suppressed is kept; a suppressed one is entered in
        # ``refused`` with its reason (setitem returns None, so it is left out).
        allowed = [
            to for to in given if to not in suppressed or setitem(refused, to, suppressed[to])
        ]
        return BroadcastDecisions(given, allowed, refused)
