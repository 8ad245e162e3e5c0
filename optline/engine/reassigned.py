"""The reassigned-numbers check in the engine (:mod:`optline.domain.reassigned`): asked
before the first text to a contact after a long silence, and its "reassigned" applied.

Belongs here: :class:`Reassigned` (the look-up read in its own short read transaction,
the check asked outside any transaction, so a slow service holds no lock, and the
consent ended in the send's transaction), and :func:`load` for the configured check.
"""

from __future__ import annotations

import importlib
from datetime import datetime

from optline.domain import consent, reassigned
from optline.domain.consent import ContactState
from optline.domain.consent_codes import Method, Source, Status
from optline.domain.policy import Policy
from optline.domain.projection import Mark
from optline.domain.reassigned import ReassignedNumbers
from optline.engine.context import AccountRef
from optline.engine.directory import Directory
from optline.store import Tx


def load(spec: str) -> ReassignedNumbers:
    """The check named by ``OPTLINE_REASSIGNED_NUMBERS``: ``module:factory``, the
    factory called with no arguments. ValueError names what is wrong."""
    module_name, sep, name = spec.partition(":")
    if not sep or not module_name or not name:
        raise ValueError(f"OPTLINE_REASSIGNED_NUMBERS must be module:factory, not {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"OPTLINE_REASSIGNED_NUMBERS: cannot load {spec!r}: {exc}") from None
    check = factory()
    if not callable(getattr(check, "reassigned_since", None)):
        raise ValueError(f"OPTLINE_REASSIGNED_NUMBERS: {spec!r} has no reassigned_since")
    return check  # type: ignore[no-any-return]


def _mark(tx: Tx, account_id: int, to: str, sender: str) -> Mark | None:
    """The consent a text from ``sender`` to ``to`` goes on (the sender's own, else the
    account's), as the projection records it."""
    found = tx.projections.read(account_id, [to])
    if not found:
        return None
    record = found[0]
    return record.senders.get(sender, record.account)


class Reassigned(Directory):
    """The reassigned-numbers check before a text."""

    def _reassigned_since(
        self, account: AccountRef, to: str, sender: str, now: datetime
    ) -> datetime | None:
        """When the check is configured and due (the policy's silence has passed since
        the last text either way) and reports ``to`` reassigned since its consent was
        given: that consent's time; else None."""
        check = self._reassigned
        if check is None:
            return None
        with self.store.read() as tx:
            row = self._account(tx, account)
            days = self._policy_of(row).reassigned_check_after_days
            mark = _mark(tx, row.id, to, sender) if days is not None else None
            if mark is None or mark.status is not Status.OPTED_IN:
                return None
            last = tx.messages.last_text(row.id, to)
        if not reassigned.due(days, mark.since, last, now):
            return None
        return mark.since if check.reassigned_since(to, mark.since.date()) else None

    def _end_reassigned(
        self,
        tx: Tx,
        account_id: int,
        policy: Policy,
        state: ContactState | None,
        to: str,
        sender: str,
        since: datetime,
        now: datetime,
    ) -> ContactState | None:
        """End the consent given at ``since``, reported reassigned since, unless it
        changed meanwhile; the contact's state after it, or None where nothing ended."""
        mark = _mark(tx, account_id, to, sender)
        if state is None or mark is None or mark.since != since:
            return None
        outcome = consent.end_consent(
            state,
            policy,
            Source.LOOKUP,
            Method.NUMBER_REASSIGNED,
            sender,
            consent_since=since.isoformat(),
        )
        self._apply(tx, account_id, state, outcome, now)
        return outcome.state
