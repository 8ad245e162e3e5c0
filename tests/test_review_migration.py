"""Upgrading in place (revision r0011, on SQLite and PostgreSQL): the review queue is
filled from the flags already on the ledger, each already covered by a later opt-out
of its contact stored resolved by it, the others open; the ledger still verifies."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command

from optline.domain.consent import ContactState, Event
from optline.domain.consent_codes import EventType
from optline.domain.review import Resolution
from optline.store import Store
from optline.store.migrate import alembic_config

A = "+14155550100"
B = "+14155550101"
BOB = "+14155552671"
EVE = "+12025550143"
AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _event(kind: EventType, phone: str, **data: object) -> Event:
    return Event(kind, phone, {"source": "keyword", **data})


def test_existing_flags_fill_the_queue_resolved_by_the_opt_outs_that_cover_them(
    db_url: str,
) -> None:
    store = Store.open(db_url)
    try:
        with store.transaction() as tx:
            account_id = tx.accounts.create("acme", "twilio").id
            for phone in (BOB, EVE):
                tx.contacts.save(account_id, ContactState(phone), AT)
            flagged = _event(EventType.REVOCATION_FLAGGED, BOB, sender=A, reason="asks to stop")
            stored = tx.ledger.append(
                account_id,
                [
                    flagged,
                    _event(EventType.REVOCATION_FLAGGED, BOB, sender=B, reason="again"),
                    _event(EventType.REVOCATION_FLAGGED, EVE, sender=A, reason="maybe"),
                    # Covers Bob's flag from A only (per-number opt-outs).
                    _event(EventType.OPTED_OUT, BOB, sender=A, scope="sender", keyword="STOP"),
                ],
                AT,
            )
        config = alembic_config()
        with store.engine.connect() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "r0010")
            command.upgrade(config, "head")
            conn.commit()
        with store.read() as tx:
            bob_a = tx.flags.get(account_id, stored[0].seq)
            assert bob_a is not None
            assert (bob_a.sender, bob_a.reason, bob_a.flagged_at) == (A, "asks to stop", AT)
            assert (bob_a.resolution, bob_a.resolved_seq) == (Resolution.OPTED_OUT, stored[3].seq)
            page = tx.flags.page(account_id, None, 10)
            assert [(f.seq, f.phone) for f in page] == [(stored[2].seq, EVE), (stored[1].seq, BOB)]
            assert tx.flags.count_open(account_id) == 2
            assert tx.ledger.verify(account_id).ok
    finally:
        store.close()
