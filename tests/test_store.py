"""The store on SQLite and PostgreSQL: state round trips, atomicity, keys, queries."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.dialects import sqlite
from store_support import record_send

from optline.domain import consent, decisions
from optline.domain.consent import ContactState, Event, Trigger
from optline.domain.consent_codes import EventType, Status
from optline.domain.contact_filter import ContactFilter
from optline.domain.policy import SenderKind
from optline.domain.profiles import get_profile
from optline.store import Conflict, DuplicateDelivery, Store
from optline.store.migrate import head_revision
from optline.store.schema import UTCDateTime, metadata

AT = datetime(2025, 4, 11, 9, 30, 0, 123456, tzinfo=UTC)
S1, S2, S3 = "+15550000001", "+15550000002", "+15550000003"


def _account(store: Store, name: str = "acme") -> int:
    with store.transaction() as tx:
        return tx.accounts.create(name, "default").id


def _save(store: Store, account_id: int, *states: ContactState) -> None:
    with store.transaction() as tx:
        for state in states:
            tx.contacts.save(account_id, state, datetime.now(UTC))


def _read(store: Store, account_id: int, phone: str) -> ContactState | None:
    with store.read() as tx:
        return tx.contacts.get(account_id, phone)


# -- schema and migrations -------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no tables at all (db_url's are migrated already)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'blank.db'}"
    server = request.getfixturevalue("postgres_server")
    name = server.create_database()
    request.addfinalizer(lambda: server.drop_database(name))
    url: str = server.url(name)
    return url


def test_migrations_build_exactly_the_schema(blank_url: str) -> None:
    store = Store.open(blank_url)
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn)
            assert context.get_current_revision() == head_revision()
            assert compare_metadata(context, metadata) == []
    finally:
        store.close()
    Store.open(blank_url).close()  # opening again is a no-op


def test_sqlite_settings(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'x.db'}", synchronous="normal")
    try:
        with store.engine.connect() as conn:
            pragma = conn.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert pragma("PRAGMA busy_timeout").scalar() == 30000
    finally:
        store.close()
    with pytest.raises(ValueError, match="synchronous"):
        Store.open(f"sqlite:///{tmp_path / 'y.db'}", synchronous="sometimes")


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-11)), timezone(timedelta(hours=13, minutes=45))]
        ),
    )
)
def test_timestamps_are_stored_on_sqlite_as_sqlalchemy_writes_them(at: datetime) -> None:
    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    theirs = sa.DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None and theirs is not None
    expected = theirs(at.astimezone(UTC).replace(tzinfo=None))
    assert ours(at) == expected
    # The last value's text is kept; another value, even of the same moment, is its own.
    assert ours(at) == expected and ours(at.astimezone(UTC)) == expected
    later = at + timedelta(microseconds=1)
    assert ours(later) == theirs(later.astimezone(UTC).replace(tzinfo=None)) != expected
    assert ours(at) == expected
    assert ours(None) is None
    with pytest.raises(ValueError, match="no time zone"):
        ours(at.replace(tzinfo=None))


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database"):
        Store.open("mysql://localhost/x")


def test_read_transactions_refuse_writes(store: Store) -> None:
    with store.read() as tx, pytest.raises(RuntimeError, match="read-only"):
        tx.accounts.create("acme", "default")


# -- accounts, senders, lists, triggers ------------------------------------------------


def test_accounts_round_trip(store: Store) -> None:
    with store.transaction() as tx:
        acme = tx.accounts.create("acme", "twilio", {"scope": "sender", "nested": {"a": [1]}})
        zeta = tx.accounts.create("zeta", "default")
    with store.transaction() as tx:
        assert tx.accounts.by_name("acme") == acme
        assert tx.accounts.get(zeta.id) == zeta
        assert tx.accounts.by_name("nobody") is None and tx.accounts.get(999) is None
        assert [a.name for a in tx.accounts.all()] == ["acme", "zeta"]
        assert acme.overrides == {"scope": "sender", "nested": {"a": [1]}}
        tx.accounts.set_policy(zeta.id, "salesmsg", {"implicit_opt_in": True})
    with store.read() as tx:
        changed = tx.accounts.by_name("zeta")
        assert changed is not None
        assert (changed.profile, changed.overrides) == ("salesmsg", {"implicit_opt_in": True})


def test_json_columns_keep_what_the_fast_encoder_refuses(store: Store) -> None:
    # orjson writes JSON columns; an integer past 64 bits is written by json instead.
    overrides = {"limit": 2**70, "text": "ARRÊT 🛑", "nested": {"n": -(2**64)}}
    with store.transaction() as tx:
        created = tx.accounts.create("acme", "default", overrides)
    with store.read() as tx:
        stored = tx.accounts.get(created.id)
    assert stored is not None and stored.overrides == overrides


def test_senders_lists_triggers_round_trip(store: Store) -> None:
    account_id = _account(store)
    trigger = Trigger("deals", "Deals on Fridays!", unsubscribe_list=None, subscribe_list="deals")
    with store.transaction() as tx:
        tx.senders.add(account_id, S2, SenderKind.TOLL_FREE)
        tx.senders.add(account_id, S1, SenderKind.SHORT_CODE)
        tx.senders.create_list(account_id, "marketing", "optout")
        tx.senders.create_list(account_id, "notices", None)
        tx.senders.add_trigger(account_id, trigger)
    with store.read() as tx:
        assert [(s.number, s.kind) for s in tx.senders.of_account(account_id)] == [
            (S1, SenderKind.SHORT_CODE),
            (S2, SenderKind.TOLL_FREE),
        ]
        found = tx.senders.get(S2)
        assert found is not None and found.account_id == account_id
        assert tx.senders.get(S3) is None
        assert [(x.name, x.opt_out_keyword) for x in tx.senders.lists(account_id)] == [
            ("marketing", "optout"),
            ("notices", None),
        ]
        assert tx.senders.triggers(account_id) == [trigger]


@pytest.mark.parametrize(
    "duplicate",
    [
        lambda tx, a, b: tx.accounts.create("acme", "default"),
        lambda tx, a, b: tx.senders.add(b, S1, SenderKind.LONG_CODE),  # another account
        lambda tx, a, b: tx.senders.add(a, S1, SenderKind.TOLL_FREE),
        lambda tx, a, b: tx.senders.create_list(a, "marketing", None),
        lambda tx, a, b: tx.senders.create_list(a, "other", "optout"),
        lambda tx, a, b: tx.senders.add_trigger(a, Trigger("deals", "again")),
    ],
    ids=["account", "sender-elsewhere", "sender", "list", "list-keyword", "trigger"],
)
def test_conflicts(store: Store, duplicate: object) -> None:
    with store.transaction() as tx:
        a = tx.accounts.create("acme", "default").id
        b = tx.accounts.create("other", "default").id
        tx.senders.add(a, S1, SenderKind.LONG_CODE)
        tx.senders.create_list(a, "marketing", "optout")
        tx.senders.add_trigger(a, Trigger("deals", "Deals!"))
    with store.transaction() as tx:
        with pytest.raises(Conflict, match="already exists"):
            duplicate(tx, a, b)  # type: ignore[operator]
        # The transaction is still usable after a conflict, also on PostgreSQL.
        tx.senders.create_list(b, "marketing", "optout")
        tx.senders.create_list(a, "third", None)
    with store.read() as tx:
        assert [x.name for x in tx.senders.lists(b)] == ["marketing"]
        assert [x.name for x in tx.senders.lists(a)] == ["marketing", "third"]
        sender = tx.senders.get(S1)
        assert sender is not None and (sender.account_id, sender.kind) == (a, SenderKind.LONG_CODE)


# -- contacts --------------------------------------------------------------------------


FULL = ContactState(
    "+15551230001",
    blocked=False,
    account_status=Status.OPTED_OUT,
    sender_status={S1: Status.OPTED_IN, S2: Status.OPTED_OUT},
    lists={"marketing": False, "notices": True},
    texted=True,
    clarified=True,
)


def test_contact_round_trip_and_changes(store: Store) -> None:
    account_id = _account(store)
    assert _read(store, account_id, FULL.phone) is None
    _save(store, account_id, FULL)
    assert _read(store, account_id, FULL.phone) == FULL
    # Read-modify-write in one transaction writes only what changed.
    changed = ContactState(
        FULL.phone,
        blocked=True,
        account_status=Status.OPTED_OUT,
        sender_status={S2: Status.OPTED_IN, S3: Status.OPTED_OUT},
        lists={"notices": False, "deals": True},
    )
    with store.transaction() as tx:
        assert tx.contacts.get(account_id, FULL.phone, for_update=True) == FULL
        tx.contacts.save(account_id, changed, datetime.now(UTC))
        assert tx.contacts.get(account_id, FULL.phone) == changed
    assert _read(store, account_id, FULL.phone) == changed
    # A save without a read in the same transaction rewrites everything.
    _save(store, account_id, FULL)
    assert _read(store, account_id, FULL.phone) == FULL
    _save(store, account_id, ContactState(FULL.phone))
    assert _read(store, account_id, FULL.phone) == ContactState(FULL.phone)


def test_new_contact_with_lock_then_save(store: Store) -> None:
    account_id = _account(store)
    with store.transaction() as tx:
        assert tx.contacts.get(account_id, FULL.phone, for_update=True) is None
        tx.contacts.save(account_id, FULL, datetime.now(UTC))
    assert _read(store, account_id, FULL.phone) == FULL


def test_contacts_are_per_account(store: Store) -> None:
    a, b = _account(store, "a"), _account(store, "b")
    _save(store, a, FULL)
    assert _read(store, b, FULL.phone) is None
    with store.read() as tx:
        assert tx.contacts.find(b) == []


def _population() -> list[ContactState]:
    opted_in = Status.OPTED_IN
    return [
        ContactState("+15550100001", account_status=opted_in),
        ContactState("+15550100002", account_status=Status.OPTED_OUT),
        ContactState("+15550100003", blocked=True, account_status=Status.OPTED_OUT),
        ContactState("+15550100004", account_status=opted_in, lists={"marketing": False}),
        ContactState(
            "+15550100005", account_status=opted_in, lists={"marketing": True, "notices": True}
        ),
        ContactState("+15550100006", account_status=opted_in, sender_status={S1: Status.OPTED_OUT}),
        ContactState("+15550100007", blocked=True, lists={"marketing": True}),
        ContactState("+15550100008"),
    ]


@pytest.mark.parametrize(
    ("status", "list_name", "expected"),
    [
        (None, None, [1, 2, 3, 4, 5, 6, 7, 8]),
        (Status.BLOCKED, None, [3, 7]),
        # Opted out of the account or of any sender.
        (Status.OPTED_OUT, None, [2, 6]),
        (Status.OPTED_IN, None, [1, 4, 5, 6]),
        (Status.NO_CONSENT, None, [8]),
        (None, "marketing", [4, 5, 7]),
        (Status.OPTED_IN, "marketing", [4, 5]),
        (None, "nothing", []),
    ],
)
def test_contacts_filters(
    store: Store, status: Status | None, list_name: str | None, expected: list[int]
) -> None:
    account_id = _account(store)
    people = _population()
    _save(store, account_id, *reversed(people))
    with store.read() as tx:
        query = ContactFilter(status, list_name)
        found = tx.contacts.find(account_id, query)
        counted = tx.contacts.count(account_id, query)
    assert found == [people[i - 1] for i in expected]
    assert counted == len(expected)


def test_contacts_pagination(store: Store) -> None:
    account_id = _account(store)
    people = _population()
    _save(store, account_id, *people)
    pages: list[list[ContactState]] = []
    after: str | None = None
    with store.read() as tx:
        while page := tx.contacts.find(account_id, after=after, limit=3):
            pages.append(page)
            after = page[-1].phone
    assert [len(p) for p in pages] == [3, 3, 2]
    assert [c for p in pages for c in p] == people


def test_concurrent_first_writers_of_a_contact_take_turns(store: Store) -> None:
    """Read-modify-write races on a contact nobody has saved yet: no update is lost.

    Each writer names the list it adds after the number of lists it read, so two
    writers that read the same state would both add the same list.
    """
    account_id = _account(store)
    phone = "+15551239999"
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(10):
                with store.transaction() as tx:
                    state = tx.contacts.get(account_id, phone, for_update=True) or ContactState(
                        phone
                    )
                    name = f"list{len(state.lists)}"
                    tx.contacts.save(
                        account_id, consent.subscribe(state, name).state, datetime.now(UTC)
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    final = _read(store, account_id, phone)
    assert final is not None and len(final.lists) == 30


# -- atomicity -------------------------------------------------------------------------


def test_exception_inside_a_transaction_writes_nothing(store: Store) -> None:
    account_id = _account(store)
    event = Event(EventType.OPTED_OUT, FULL.phone, {"source": "keyword"})
    with store.transaction() as tx:
        tx.ledger.append(account_id, [event], AT)
    with pytest.raises(ZeroDivisionError), store.transaction() as tx:
        tx.contacts.get(account_id, FULL.phone, for_update=True)
        tx.contacts.save(account_id, FULL, datetime.now(UTC))
        tx.ledger.append(account_id, [event, event], AT)
        tx.messages.record_inbound(
            account_id,
            provider_id="SM1",
            phone=FULL.phone,
            sender=S1,
            body="STOP",
            hidden=False,
            at=AT,
            outcome={"reply": "bye"},
        )
        tx.senders.create_list(account_id, "marketing", None)
        _ = 1 / 0
    with store.read() as tx:
        assert tx.contacts.get(account_id, FULL.phone) is None
        assert tx.contacts.find(account_id) == []
        assert [e.seq for e in tx.ledger.events(account_id)] == [1]
        assert tx.messages.of_contact(account_id, FULL.phone) == []
        assert tx.messages.inbound_outcome(account_id, "SM1", FULL.phone, S1) is None
        assert tx.senders.lists(account_id) == []
        result = tx.ledger.verify(account_id)
        assert (result.ok, result.checked) == (True, 1)
    with store.transaction() as tx:
        (after,) = tx.ledger.append(account_id, [event], AT)
    # SQLite numbers on from the top seq stored; PostgreSQL's sequence keeps the numbers
    # a rolled-back transaction took unused.
    assert after.seq == (2 if store.dialect == "sqlite" else 4)


# -- messages --------------------------------------------------------------------------


def _inbound(store: Store, account_id: int, provider_id: str | None, body: str = "STOP") -> int:
    with store.transaction() as tx:
        return tx.messages.record_inbound(
            account_id,
            provider_id=provider_id,
            phone=FULL.phone,
            sender=S1,
            body=body,
            hidden=False,
            at=AT,
            outcome={"intent": "opt_out", "events": ["opted_out"], "reply": body.lower()},
        )


def test_duplicate_delivery(store: Store) -> None:
    a, b = _account(store, "a"), _account(store, "b")
    _inbound(store, a, "SM1", "STOP")
    with pytest.raises(DuplicateDelivery):
        _inbound(store, a, "SM1", "START")
    _inbound(store, b, "SM1", "START")  # provider ids are unique per account
    _inbound(store, a, None)
    _inbound(store, a, None)  # no provider id: never a duplicate
    with store.read() as tx:
        assert tx.messages.inbound_outcome(a, "SM1", FULL.phone, S1) == {
            "intent": "opt_out",
            "events": ["opted_out"],
            "reply": "stop",
        }
        assert tx.messages.inbound_outcome(b, "SM1", FULL.phone, S1) == {
            "intent": "opt_out",
            "events": ["opted_out"],
            "reply": "start",
        }
        assert tx.messages.inbound_outcome(a, "SM2", FULL.phone, S1) is None
        # The id of a text from someone else, or to another sender, is no repeat of it.
        assert tx.messages.inbound_outcome(a, "SM1", "+14155550199", S1) is None
        assert tx.messages.inbound_outcome(a, "SM1", FULL.phone, "+14155550177") is None
        assert [m.body for m in tx.messages.of_contact(a, FULL.phone)] == ["STOP", "STOP", "STOP"]


def test_duplicate_delivery_leaves_the_transaction_usable(store: Store) -> None:
    account_id = _account(store)
    _inbound(store, account_id, "SM1")
    with store.transaction() as tx:
        with pytest.raises(DuplicateDelivery):
            tx.messages.record_inbound(
                account_id,
                provider_id="SM1",
                phone=FULL.phone,
                sender=S1,
                body="again",
                hidden=True,
                at=AT,
                outcome={},
            )
        tx.senders.create_list(account_id, "marketing", None)
    with store.read() as tx:
        assert [x.name for x in tx.senders.lists(account_id)] == ["marketing"]


def test_messages_are_stored_as_sqlalchemy_itself_stores_them(store: Store) -> None:
    """The hot writes run prepared on the driver (booleans unprocessed on SQLite, one
    shared timestamp text): the stored values are those of a SQLAlchemy insert."""
    account_id = _account(store)
    values: dict[str, Any] = {
        "direction": "out",
        "provider_id": None,
        "phone": FULL.phone,
        "sender": S1,
        "body": "Big sale",
        "hidden": False,
        "status": "failed",
        "reason": "opted_out",
        "list_name": "marketing",
        "campaign": True,
        "reply": True,
        "outcome": None,
        "created_at": AT,
    }
    with store.transaction() as tx:
        ours = tx.messages.record_outbound(
            account_id,
            **{k: values[k] for k in ("phone", "sender", "body", "status", "reason")},
            list_name="marketing",
            campaign=True,
            reply=True,
            at=AT.astimezone(timezone(timedelta(hours=13, minutes=45))),
        )
        (theirs,) = tx.messages.new_ids(account_id, 1) if store.dialect == "sqlite" else [ours + 1]
    table = metadata.tables["messages"]
    columns = ", ".join(c for c in values if c != "direction")
    with store.engine.begin() as conn:
        conn.execute(sa.insert(table).values(account_id=account_id, id=theirs, **values))
        rows = conn.exec_driver_sql(
            f"SELECT {columns} FROM messages WHERE account_id = {account_id} ORDER BY id"
        ).all()
    assert len(rows) == 2 and tuple(rows[0]) == tuple(rows[1])
    assert rows[0][-1] == ("2025-04-11 09:30:00.123456" if store.dialect == "sqlite" else AT)


def test_messages_round_trip(store: Store) -> None:
    account_id = _account(store)
    later = AT + timedelta(seconds=1)
    with store.transaction() as tx:
        first = tx.messages.record_inbound(
            account_id,
            provider_id="SM9",
            phone=FULL.phone,
            sender=S1,
            body="hello?",
            hidden=True,
            at=AT.astimezone(timezone(timedelta(hours=-5))),
            outcome={},
        )
        second = tx.messages.record_outbound(
            account_id,
            phone=FULL.phone,
            sender=S2,
            body="Big sale",
            status="failed",
            reason="opted_out",
            list_name="marketing",
            campaign=True,
            at=later,
        )
        tx.messages.record_outbound(
            account_id,
            phone="+15559999999",
            sender=S2,
            body="elsewhere",
            status="sent",
            reason=None,
            list_name=None,
            campaign=False,
            at=later,
        )
    assert second > first
    with store.read() as tx:
        inbound, outbound = tx.messages.of_contact(account_id, FULL.phone)
    assert (inbound.id, inbound.direction, inbound.provider_id, inbound.body) == (
        first,
        "in",
        "SM9",
        "hello?",
    )
    assert (inbound.hidden, inbound.status, inbound.campaign, inbound.created_at) == (
        True,
        "received",
        False,
        AT,
    )
    assert inbound.created_at.tzinfo is not None
    assert (outbound.direction, outbound.sender, outbound.status, outbound.reason) == (
        "out",
        S2,
        "failed",
        "opted_out",
    )
    assert (outbound.list_name, outbound.campaign, outbound.hidden, outbound.created_at) == (
        "marketing",
        True,
        False,
        later,
    )


# -- suppressed() agrees with consent.decide -------------------------------------------

_statuses = st.sampled_from([Status.OPTED_IN, Status.OPTED_OUT])
_contact = st.builds(
    lambda blocked, status, senders, lists: (blocked, status, senders, lists),
    st.booleans(),
    _statuses,
    st.dictionaries(st.sampled_from([S1, S2]), _statuses, max_size=2),
    st.dictionaries(st.sampled_from(["marketing", "notices"]), st.booleans(), max_size=2),
)
_runs = iter(range(10**9))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(people=st.lists(_contact, min_size=1, max_size=12))
def test_suppressed_agrees_with_decide(store: Store, people: list[tuple]) -> None:  # type: ignore[type-arg]
    account_id = _account(store, f"acct{next(_runs)}")
    states = [
        ContactState(f"+1555020{i:04d}", blocked, status, senders, lists)
        for i, (blocked, status, senders, lists) in enumerate(people)
    ]
    _save(store, account_id, *states)
    policy = get_profile("default")
    for sender in (S1, S2, S3):
        for list_name in (None, "marketing", "notices", "other"):
            expected = {}
            for state in states:
                decision = decisions.decide(state, sender, policy, "Hi", list_name)
                if decision.reason is not None:
                    expected[state.phone] = decision.reason.value
            with store.read() as tx:
                assert tx.contacts.suppressed(account_id, sender, list_name) == expected


def test_notifications_follow_subscriptions_added_by_another_process(db_url: str) -> None:
    """A process keeps an account's subscriptions between changes; one added by another
    process still gets the next change's notification, in the change's transaction."""
    mine, theirs = Store.open(db_url), Store.open(db_url)
    try:
        account_id = _account(mine)

        def change(phone: str) -> None:
            with mine.transaction() as tx:
                stored = tx.ledger.append(account_id, [Event(EventType.OPTED_OUT, phone, {})], AT)
                tx.outbox.enqueue(account_id, stored, AT)

        def queued() -> list[tuple[int, int]]:
            with mine.read() as tx:
                rows = tx.outbox.notifications(account_id)
            return [(r["subscription_id"], r["event_seq"]) for r in rows]

        change(S1)
        change(S2)  # the account's (empty) subscriptions are known by now
        assert queued() == []
        with theirs.transaction() as tx:
            first = tx.outbox.add_subscription(
                account_id, "https://a.example/h", "s1", ["opted_out"]
            )
        change(S3)
        assert queued() == [(first, 3)]
        with mine.transaction() as tx:
            second = tx.outbox.add_subscription(
                account_id, "https://b.example/h", "s2", ["opted_out"]
            )
            stored = tx.ledger.append(account_id, [Event(EventType.OPTED_OUT, S1, {})], AT)
            tx.outbox.enqueue(account_id, stored, AT)
        assert queued() == [(first, 3), (first, 4), (second, 4)]
        with theirs.transaction() as tx:
            third = tx.outbox.add_subscription(
                account_id, "https://c.example/h", "s3", ["opted_in"]
            )
        change(S2)
        assert queued()[-2:] == [(first, 5), (second, 5)]
        assert third == 3
    finally:
        mine.close()
        theirs.close()


def test_migrating_down_and_up_again_keeps_every_row(db_url: str) -> None:
    from alembic import command

    from optline.store.migrate import alembic_config

    store = Store.open(db_url)
    try:
        account_id = _account(store)
        _save(store, account_id, ContactState(S1))
        with store.transaction() as tx:
            stored = tx.ledger.append(account_id, [Event(EventType.OPTED_OUT, S1, {"a": 1})], AT)
        config = alembic_config()
        with store.engine.connect() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "r0002")
            command.upgrade(config, "head")
            conn.commit()
        with store.read() as tx:
            # r0010 rebuilt the consent tables from the ledger: the event's opt-out.
            opted_out = ContactState(S1, account_status=Status.OPTED_OUT)
            assert tx.contacts.get(account_id, S1) == opted_out
            assert tx.ledger.events(account_id) == stored
            assert tx.ledger.verify(account_id).ok
        if store.dialect == "sqlite":
            with store.engine.connect() as conn:
                sql = conn.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'"
                ).scalar_one()
            assert "WITHOUT ROWID" in sql
    finally:
        store.close()


def test_look_ups_on_the_event_loop_reuse_one_connection_and_see_new_commits(
    store: Store,
) -> None:
    account_id = _account(store)
    checkouts: list[int] = []
    event.listen(store.engine, "checkout", lambda *_: checkouts.append(1))

    def status(phone: str) -> Status | None:
        state = _read(store, account_id, phone)
        return None if state is None else state.account_status

    async def scenario() -> list[Status | None]:
        seen = [await store.lookup(status, S1) for _ in range(20)]
        _save(store, account_id, ContactState(S1, account_status=Status.OPTED_OUT))  # committed
        seen.append(await store.lookup(status, S1))
        return seen

    seen = asyncio.run(scenario())

    assert seen == [None] * 20 + [Status.OPTED_OUT]
    if store.dialect == "sqlite":
        # Look-ups run on the loop on one kept connection; the write took its own.
        assert len(checkouts) <= 2


def test_message_numbers_taken_ahead_are_the_ones_recorded(store: Store) -> None:
    with store.transaction() as tx:
        account_id = tx.accounts.create("acme", "default", {}).id
        before = record_send(tx, account_id, "+14155550123", "+14155550100", "hi", "sent")
        text_id, reply_id = tx.messages.new_ids(account_id, 2)
        tx.messages.record_inbound(
            account_id,
            provider_id="SM1",
            phone="+14155550123",
            sender="+14155550100",
            body="STOP",
            hidden=False,
            at=AT,
            outcome={"reply_message_id": reply_id},
            message_id=text_id,
        )
        record_send(
            tx,
            account_id,
            "+14155550123",
            "+14155550100",
            "You are unsubscribed.",
            "sent",
            reply=True,
            message_id=reply_id,
        )
        after = record_send(tx, account_id, "+14155550123", "+14155550100", "bye", "sent")
    assert before < text_id < reply_id < after
    with store.read() as tx:
        assert [m.id for m in tx.messages.of_contact(account_id, "+14155550123")] == [
            before,
            text_id,
            reply_id,
            after,
        ]
        assert tx.messages.inbound_outcome(account_id, "SM1", "+14155550123", "+14155550100") == {
            "reply_message_id": reply_id
        }
        reply = tx.messages.get(account_id, reply_id)
        assert reply is not None and reply.reply and reply.body == "You are unsubscribed."


def test_texts_left_unsettled_are_read_through_their_partial_index(store: Store) -> None:
    # Inbound texts and settled sends are not in the index: the webhook pays nothing for
    # it, and the look-up reads only the rows it lists.
    with store.transaction() as tx:
        account_id = tx.accounts.create("acme", "default", {}).id
        queued = [
            record_send(tx, account_id, "+14155550123", "+14155550100", f"text {n}", status)
            for n, status in enumerate(["queued", "sent", "queued", "sending"])
        ]
    statements: list[tuple[str, Any]] = []
    event.listen(
        store.engine,
        "before_cursor_execute",
        lambda _conn, _cursor, sql, params, _ctx, _many: statements.append((sql, params)),
    )
    with store.read() as tx:
        found = tx.messages.unsettled(account_id, "queued", 0, 10)
        assert [m.id for m in found] == [queued[0], queued[2]]
        assert [m.id for m in tx.messages.unsettled(account_id, "queued", queued[0], 10)] == [
            queued[2]
        ]
        sql, params = statements[-1]
        if store.dialect == "sqlite":
            prefix = "EXPLAIN QUERY PLAN "
        else:  # on a handful of rows PostgreSQL would rather scan: can it use the index?
            prefix = "EXPLAIN "
            tx.conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = " ".join(str(r) for r in tx.conn.exec_driver_sql(prefix + sql, params))
    assert "ix_messages_unsettled" in plan


def test_unsettled_texts_are_counted_and_cut_off_by_age_through_their_index(
    store: Store,
) -> None:
    now = datetime.now(UTC)
    with store.transaction() as tx:
        account_id = tx.accounts.create("acme", "default", {}).id
        ids = [
            record_send(tx, account_id, "+14155550123", "+14155550100", f"text {n}", status)
            for n, status in enumerate(["queued", "sending", "sent", "queued"])
        ]
    later = now + timedelta(minutes=1)
    with store.read() as tx:
        assert tx.messages.count_unsettled(account_id, later) == {"queued": 2, "sending": 1}
        # Queued ones recorded since the cut-off are left out; sending ones never are.
        assert tx.messages.count_unsettled(account_id, now - timedelta(minutes=1)) == {"sending": 1}
        assert tx.messages.unsettled(account_id, "queued", 0, 10, now - timedelta(minutes=1)) == []
        recent = tx.messages.unsettled(account_id, "queued", 0, 10, later)
        assert [m.id for m in recent] == [ids[0], ids[3]]
        statements: list[tuple[str, Any]] = []
        event.listen(
            store.engine,
            "before_cursor_execute",
            lambda _conn, _cursor, sql, params, _ctx, _many: statements.append((sql, params)),
        )
        tx.messages.count_unsettled(account_id, later)
        sql, params = statements[-1]
        if store.dialect == "sqlite":
            prefix = "EXPLAIN QUERY PLAN "
        else:
            prefix = "EXPLAIN "
            tx.conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = " ".join(str(r) for r in tx.conn.exec_driver_sql(prefix + sql, params))
    assert "ix_messages_unsettled" in plan


def test_a_transaction_is_freed_without_the_garbage_collector(store: Store) -> None:
    # Its repositories hold it weakly: no reference cycle per transaction that only a
    # collector run would free.
    gc.disable()
    try:
        with store.transaction() as tx:
            repositories = (tx.accounts, tx.senders, tx.contacts, tx.messages, tx.ledger)
            assert tx.outbox is not None and len(repositories) == 5
            freed = weakref.ref(tx)
        del tx, repositories
        assert freed() is None
    finally:
        gc.enable()
