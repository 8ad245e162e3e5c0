"""Send windows and caps in the engine: the facts :func:`optline.domain.windows.held`
decides on, read in the send's own transaction, and a contact's stored location.

Belongs here: :class:`SendTimes` (the rules applied to the texts of one transaction,
reading only what a decision needs: the stored location, then the recent texts where a
rule caps them, then the contact's last text where a reply would be exempt) and the
use cases that read and set a contact's location.
"""

from __future__ import annotations

from datetime import datetime

from optline.domain import location, windows
from optline.domain.decisions import Decision
from optline.domain.policy import Policy
from optline.engine.context import AccountRef, phone
from optline.engine.directory import Directory
from optline.engine.results import ContactLocation
from optline.errors import BadInput
from optline.store import StoredLocation, Tx


class SendTimes:
    """The policy's send windows and caps for texts decided in ``tx``: call it with a
    decision that consent allows, to hold it back where the rules say.

    ``one_to_one``: the texts are 1:1 (a send, a check), not a broadcast, so a text to
    a contact who wrote in the last 24 hours is a reply (exempt unless the policy's
    ``send_windows_on_replies``)."""

    __slots__ = ("_account_id", "_campaign", "_exempt_replies", "_located", "_table", "_tx")

    def __init__(
        self, tx: Tx, account_id: int, policy: Policy, campaign: bool, one_to_one: bool
    ) -> None:
        self._tx = tx
        self._account_id = account_id
        self._campaign = campaign
        self._table: windows.Table | None = None
        if windows.windowed(policy.send_windows, campaign, policy.send_windows_informational):
            self._table = windows.table(policy.send_windows)
            self._located = tx.contacts.locations(account_id)
        self._exempt_replies = one_to_one and not policy.send_windows_on_replies

    def __call__(
        self, decision: Decision, to: str, now: datetime, stored: StoredLocation | None = None
    ) -> Decision:
        """``decision`` held where the rules say; ``stored``: the contact's stored
        location when the caller has read it already (else it is read here)."""
        table = self._table
        if table is None or not decision.allowed or not table.may_apply(to):
            return decision
        schedule = table.for_number(to, *(stored or self._located(to)))
        if schedule is None:
            return decision
        tx, account_id = self._tx, self._account_id
        sent = (
            ()
            if schedule.cap is None
            else tx.messages.sent_since(account_id, to, self._campaign, now - windows.DAY)
        )
        why = schedule.hold(now, sent)
        if why is None:
            return decision
        if self._exempt_replies and windows.replied_recently(
            tx.messages.last_inbound(account_id, to), now
        ):
            return decision
        return windows.hold(decision, why)


class Locating(Directory):
    """A contact's location: stored, or read from the number."""

    def contact_location(self, account: AccountRef, number: str) -> ContactLocation:
        """Where the send windows place ``number``: the stored time zone and state, and
        the location they and the number give."""
        contact_phone = phone(number)
        with self.store.read() as tx:
            row = self._account(tx, account)
            time_zone, state = tx.contacts.locations(row.id)(contact_phone)
        return _located(contact_phone, time_zone, state)

    def set_contact_location(
        self, account: AccountRef, number: str, time_zone: str | None, state: str | None
    ) -> ContactLocation:
        """Store the contact's time zone (IANA) and US state (USPS code); None leaves
        that part to the number. Both are replaced."""
        contact_phone = phone(number)
        try:
            time_zone = None if time_zone is None else location.check_time_zone(time_zone)
            state = None if state is None else location.check_state(state)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            tx.contacts.set_location(row.id, contact_phone, time_zone, state, self._clock())
        return _located(contact_phone, time_zone, state)


def _located(contact_phone: str, time_zone: str | None, state: str | None) -> ContactLocation:
    return ContactLocation(
        contact_phone, time_zone, state, location.locate(contact_phone, time_zone, state)
    )
