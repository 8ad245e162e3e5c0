"""The demo account's history (optline.demo_data): made through the engine, the same
for the same date, and what a practice's six weeks of texting look like."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from optline import demo_data
from optline.engine import Engine
from optline.store import Store

END = datetime(2026, 12, 7, 12, 30, tzinfo=UTC)
SENDER = "+14155550100"


def _demo(path: Path) -> Engine:
    url = f"sqlite:///{path}"
    with Engine.open(url) as engine:
        engine.create_account(
            "demo",
            "default",
            {"brand": "Bright Smile Dental", "support_contact": "help@example.com"},
        )
        engine.add_sender("demo", SENDER, "long_code")

    def opened(clock: Callable[[], datetime]) -> Engine:
        return Engine(Store.open(url, synchronous="OFF"), clock=clock)

    demo_data.populate(opened, "demo", SENDER, END)
    return Engine.open(url)


def _everything(engine: Engine) -> list[Any]:
    with engine.store.read() as tx:
        account = engine.account("demo").id
        events = [
            (e.seq, e.type, e.phone, e.data, e.occurred_at, e.hash)
            for e in tx.ledger.events(account)
        ]
        texts = [
            (m.id, m.direction, m.phone, m.body, m.status, m.reason, m.created_at)
            for m in tx.messages.recent(account, 100_000)
        ]
    return [events, texts]


def test_the_demo_history_is_a_practices_weeks_and_the_same_for_a_date(tmp_path: Path) -> None:
    with _demo(tmp_path / "one.db") as engine:
        assert all(result.ok for result in engine.verify())
        contacts = engine.contacts("demo")
        # A few hundred contacts (those the weeks never reached have no row).
        assert 250 <= len(contacts) <= demo_data.CONTACTS
        conversations = engine.conversations("demo", limit=200)
        assert len(conversations) == 200
        month = engine.activity("demo", 30)
        quarter = engine.activity("demo", 90)
        first = _everything(engine)
        flagged = engine.open_flags("demo")
        unread, _ = engine.unread("demo")
    events, texts = first
    # Every event and text lies within the six weeks before the end's date.
    assert all(at < END for *_, at, _hash in events)
    assert min(at for *_, at in texts) >= END - timedelta(weeks=demo_data.WEEKS, days=1)
    # Opt-outs by keyword and in plain words, in three languages; opt-ins by written
    # consent (the web form) and START.
    assert {"keyword", "plain_language"} <= set(quarter.opt_outs.by_method)
    assert {"en", "es", "fr"} <= set(quarter.opt_outs.by_language)
    assert {"written_consent", "keyword"} <= set(quarter.opt_ins.by_method)
    assert quarter.opt_ins.total >= demo_data.CONTACTS // 2
    assert 0 < month.opt_outs.total < quarter.opt_outs.total
    # Refused sends for several reasons; flags waiting; some conversations unread.
    assert {"opted_out", "no_consent", "missing_opt_out_language"} <= set(quarter.refused)
    assert flagged >= 1 and unread > 0
    assert Counter(direction for _, direction, *_ in texts)["in"] > 100
    # A blocked contact's text, kept hidden.
    assert any(c.blocked for c in contacts)

    with _demo(tmp_path / "two.db") as again:
        assert _everything(again) == first
