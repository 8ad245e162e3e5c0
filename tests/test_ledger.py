"""The ledger: hashing rules, appends (unchained, with no account-wide head), and tamper
detection by verify, of the hash chains sealed before the transparency log and of the
events recorded since (the log's own checks are tests/test_log.py's)."""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from enum import IntEnum, StrEnum
from types import MappingProxyType

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from optline.domain.consent import ContactState, Event
from optline.domain.consent_codes import EventType
from optline.store import Store
from optline.store.ledger import GENESIS, UNCHAINED, canonical, event_hash, plain, timestamp
from optline.store.rows import stamp_value
from optline.store.schema import accounts, events

AT = datetime(2025, 4, 11, 9, 30, 0, 5, tzinfo=UTC)
PHONE = "+15551230001"


# -- pure hashing ----------------------------------------------------------------------


def test_canonical_form_is_sorted_compact_utf8() -> None:
    at = datetime(2025, 4, 11, 5, 30, tzinfo=timezone(timedelta(hours=-4)))
    data = MappingProxyType({"b": "ARRÊT", "a": {"z": 1, "y": [True, None]}})
    assert (
        canonical(7, 3, "opted_out", PHONE, data, at)
        == (
            '{"account_id":7,"data":{"a":{"y":[true,null],"z":1},"b":"ARRÊT"},'
            '"occurred_at":"2025-04-11T09:30:00.000000Z","phone":"+15551230001",'
            '"seq":3,"type":"opted_out"}'
        ).encode()
    )


def test_hash_chains_from_the_previous_hash() -> None:
    body = canonical(1, 1, "blocked", None, {}, AT)
    assert event_hash(GENESIS, 1, 1, "blocked", None, {}, AT) == (
        hashlib.sha256(GENESIS.encode() + body).hexdigest()
    )
    assert GENESIS == "0" * 64
    assert event_hash("1" * 64, 1, 1, "blocked", None, {}, AT) != event_hash(
        GENESIS, 1, 1, "blocked", None, {}, AT
    )


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-11)), timezone(timedelta(0))]),
    )
)
def test_timestamps_are_written_as_strftime_writes_them(at: datetime) -> None:
    # The canonical text is hashed into the chain: it must never change.
    assert timestamp(at) == at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_a_stored_timestamp_reads_as_its_canonical_text(at: datetime) -> None:
    """SQLite's stored text (rearranged, not parsed) and PostgreSQL's datetime give the
    text the hash was made with."""
    stored = at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    assert stamp_value(stored) == timestamp(at) == stamp_value(at)


def test_timestamps_must_carry_a_zone() -> None:
    assert timestamp(AT) == "2025-04-11T09:30:00.000005Z"
    with pytest.raises(ValueError, match="no time zone"):
        timestamp(datetime(2025, 4, 11, 9, 30))


class _Kind(StrEnum):
    KEYWORD = "keyword"


class _Count(IntEnum):
    ONE = 1


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([_Kind.KEYWORD, _Count.ONE]),
    st.lists(st.integers(), max_size=3),
    st.frozensets(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
)


_stored_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)


@given(
    st.dictionaries(st.text(max_size=8), _stored_values, max_size=6),
    st.one_of(st.none(), st.text(max_size=16)),
)
def test_the_canonical_form_is_the_reference_encoding_whatever_the_data(
    data: dict[str, object], phone: str | None
) -> None:
    """Flat data takes a faster encoder: the bytes must be the reference JSON's."""
    document = {
        "account_id": 7,
        "seq": 3,
        "type": "opted_out",
        "phone": phone,
        "data": data,
        "occurred_at": timestamp(AT),
    }
    try:
        reference = json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 form
        return
    assert canonical(7, 3, "opted_out", phone, data, AT) == reference


@given(st.dictionaries(st.text(max_size=8), _values, max_size=6))
def test_event_data_is_kept_exactly_as_it_reads_back(data: dict[str, object]) -> None:
    as_stored = json.dumps(data, default=_plain_json, allow_nan=False, ensure_ascii=False)
    # repr tells True from 1, an enum member from its value, a tuple from a list.
    assert repr(plain(data)) == repr(json.loads(as_stored))


def _plain_json(value: object) -> object:
    if isinstance(value, dict):
        return value
    if isinstance(value, frozenset):
        return sorted(value)
    raise TypeError(type(value).__name__)


# -- appending -------------------------------------------------------------------------


def _account(store: Store, name: str = "acme") -> int:
    with store.transaction() as tx:
        return tx.accounts.create(name, "default").id


def _event(n: int, phone: str | None = PHONE) -> Event:
    data = {"source": "keyword", "n": n, "note": "ÿ", "nested": {"k": [n, 1.5]}}
    return Event(EventType.OPTED_OUT, phone, MappingProxyType(data))  # type: ignore[arg-type]


def _append(store: Store, account_id: int, count: int, start: int = 0) -> None:
    with store.transaction() as tx:
        for n in range(start, start + count):
            tx.ledger.append(account_id, [_event(n)], AT + timedelta(seconds=n))


def test_append_records_unchained_events_and_reads_them_back(store: Store) -> None:
    a, b = _account(store, "a"), _account(store, "b")
    with store.transaction() as tx:
        assert tx.ledger.append(a, [], AT) == []
        first = tx.ledger.append(a, [_event(1), _event(2, "+15550000009")], AT)
        second = tx.ledger.append(a, [_event(3)], AT.astimezone(timezone(timedelta(hours=2))))
        other = tx.ledger.append(b, [_event(1)], AT)
    stored = first + second
    seqs = [e.seq for e in stored]
    assert seqs == sorted(set(seqs)) and len(seqs) == 3  # increasing; gaps allowed
    if store.dialect == "sqlite":
        assert seqs == [1, 2, 3] and other[0].seq == 1
    assert all(e.prev_hash == UNCHAINED for e in stored + other)
    assert other[0].hash != stored[0].hash  # the account id is part of the hash
    assert stored[2].occurred_at == AT and stored[2].occurred_at.tzinfo == UTC
    assert stored[0].data == {"source": "keyword", "n": 1, "note": "ÿ", "nested": {"k": [1, 1.5]}}
    for e in stored:
        assert (
            e.hash == hashlib.sha256(canonical(a, e.seq, e.type, e.phone, e.data, AT)).hexdigest()
        )
    with store.read() as tx:
        assert tx.ledger.events(a) == stored
        assert tx.ledger.events(a, PHONE) == [stored[0], stored[2]]
        assert tx.ledger.events(b) == other
        assert tx.ledger.verify(a).ok and tx.ledger.verify(a).checked == 3


def test_appending_moves_no_account_wide_row(store: Store) -> None:
    """The account's row (its sealed head) is not written by an append: changes to
    different contacts of one account share nothing they would wait for."""
    a = _account(store)
    with store.read() as tx:
        before = tx.conn.execute(sa.text(f"SELECT * FROM accounts WHERE id = {a}")).one()
    _append(store, a, 3)
    with store.read() as tx:
        assert tx.conn.execute(sa.text(f"SELECT * FROM accounts WHERE id = {a}")).one() == before


def test_appends_on_postgresql_take_few_round_trips(store: Store) -> None:
    """A transaction's first append: the shared lock on the subscriptions, then their
    version with the seqs, then each event inserted and queued by one statement; a
    later append numbers and writes its event in two. Counted in libpq's own trace of
    the messages to and from the server (one ReadyForQuery per round trip)."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite has no round trips")
    a = _account(store)
    rounds = []
    with store.transaction() as tx:
        tx.conn.execute(sa.text("SELECT 1"))  # the transaction's BEGIN, not counted
        pgconn = tx.driver.pgconn  # type: ignore[attr-defined]
        for n in range(2):
            with tempfile.TemporaryFile("w+") as trace:
                pgconn.trace(trace.fileno())
                tx.ledger.append(a, [_event(n)], AT)
                pgconn.untrace()  # flushes the trace
                trace.seek(0)
                rounds.append(trace.read().count("ReadyForQuery"))
    assert rounds == [3, 2]
    with store.read() as tx:
        assert len(tx.ledger.events(a)) == 2 and tx.log.pending(a)[0] == 2


def test_append_refuses_naive_timestamps(store: Store) -> None:
    account_id = _account(store)
    with pytest.raises(ValueError, match="no time zone"), store.transaction() as tx:
        tx.ledger.append(account_id, [_event(1)], datetime(2025, 4, 11))


def test_verify_an_empty_ledger(store: Store) -> None:
    account_id = _account(store)
    with store.read() as tx:
        assert tx.ledger.verify(account_id).ok
        assert tx.ledger.verify(account_id).checked == 0
        with pytest.raises(LookupError):
            tx.ledger.verify(account_id + 1)


# -- tampering -------------------------------------------------------------------------


def _sql(store: Store, account_id: int, *statements: str) -> None:
    """Raw SQL, bypassing the store; ``:a`` is the account id."""
    with store.engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement), {"a": account_id})


def _forged_row(store: Store, account_id: int, seq: int, prev_hash: str) -> str:
    """An INSERT of a well-formed event whose hash is right for its own content."""
    digest = event_hash(prev_hash, account_id, seq, "opted_in", PHONE, {}, AT)
    at = AT.isoformat(sep=" ") if store.dialect == "postgresql" else str(AT.replace(tzinfo=None))
    return (
        "INSERT INTO events (account_id, seq, type, phone, data, occurred_at, prev_hash, hash) "
        f"VALUES (:a, {seq}, 'opted_in', '{PHONE}', '{{}}', '{at}', '{prev_hash}', '{digest}')"
    )


def _seal_chain(store: Store, account_id: int, count: int) -> None:
    """A hash chain of ``count`` events as recorded before the transparency log, with
    the account's head on its last event: what an upgraded database holds."""
    prev = GENESIS
    with store.engine.begin() as conn:
        for seq in range(1, count + 1):
            data = {"source": "keyword", "n": seq}
            digest = event_hash(prev, account_id, seq, "opted_out", PHONE, data, AT)
            conn.execute(
                sa.insert(events).values(
                    account_id=account_id,
                    seq=seq,
                    type="opted_out",
                    phone=PHONE,
                    data=data,
                    occurred_at=AT,
                    prev_hash=prev,
                    hash=digest,
                )
            )
            prev = digest
        conn.execute(
            sa.update(accounts)
            .where(accounts.c.id == account_id)
            .values(head_seq=count, head_hash=prev)
        )
        sequence = "SELECT to_regclass('event_seq')"
        if store.dialect == "postgresql" and conn.execute(sa.text(sequence)).scalar():
            # As the upgrade that sealed the chain starts the sequence.
            conn.execute(sa.text("SELECT setval('event_seq', (SELECT max(seq) FROM events))"))


Tamper = Callable[[Store, int, list[str]], None]
TAMPERING: dict[str, tuple[Tamper, int, str]] = {
    "edit-data": (
        lambda s, a, h: _sql(
            s,
            a,
            'UPDATE events SET data = \'{"source": "manual"}\' WHERE seq = 3 AND account_id = :a',
        ),
        3,
        "altered",
    ),
    "edit-type": (
        lambda s, a, h: _sql(
            s, a, "UPDATE events SET type = 'opted_in' WHERE seq = 2 AND account_id = :a"
        ),
        2,
        "altered",
    ),
    "edit-phone": (
        lambda s, a, h: _sql(
            s, a, "UPDATE events SET phone = '+15559999999' WHERE seq = 5 AND account_id = :a"
        ),
        5,
        "altered",
    ),
    "edit-time": (
        lambda s, a, h: _sql(
            s,
            a,
            "UPDATE events SET occurred_at = '2024-01-01 00:00:00'"
            " WHERE seq = 1 AND account_id = :a",
        ),
        1,
        "altered",
    ),
    "edit-and-rehash": (
        # A forger who recomputes the edited event's own hash breaks the next link.
        lambda s, a, h: _sql(
            s,
            a,
            "DELETE FROM events WHERE seq = 3 AND account_id = :a",
            _forged_row(s, a, 3, h[1]),
        ),
        4,
        "does not link",
    ),
    "edit-last-and-rehash": (
        lambda s, a, h: _sql(
            s, a, "DELETE FROM events WHERE seq = 5 AND account_id = :a", _forged_row(s, a, 5, h[3])
        ),
        5,
        "head hash",
    ),
    "delete-middle": (
        lambda s, a, h: _sql(s, a, "DELETE FROM events WHERE seq = 3 AND account_id = :a"),
        3,
        "missing",
    ),
    "delete-first": (
        lambda s, a, h: _sql(s, a, "DELETE FROM events WHERE seq = 1 AND account_id = :a"),
        1,
        "missing",
    ),
    "delete-last": (
        lambda s, a, h: _sql(s, a, "DELETE FROM events WHERE seq = 5 AND account_id = :a"),
        5,
        "missing",
    ),
    "delete-last-two": (
        lambda s, a, h: _sql(s, a, "DELETE FROM events WHERE seq >= 4 AND account_id = :a"),
        4,
        "missing",
    ),
    "insert-past-head": (
        lambda s, a, h: _sql(s, a, _forged_row(s, a, 6, h[4])),
        6,
        "inserted",
    ),
    "insert-middle": (
        lambda s, a, h: _sql(
            s,
            a,
            "UPDATE events SET seq = seq + 100 WHERE seq >= 3 AND account_id = :a",
            "UPDATE events SET seq = seq - 99 WHERE seq >= 100 AND account_id = :a",
            _forged_row(s, a, 3, h[1]),
        ),
        4,
        "does not link",
    ),
    "insert-middle-bad-hash": (
        lambda s, a, h: _sql(
            s,
            a,
            "UPDATE events SET seq = seq + 100 WHERE seq >= 3 AND account_id = :a",
            "UPDATE events SET seq = seq - 99 WHERE seq >= 100 AND account_id = :a",
            _forged_row(s, a, 3, "f" * 64),
        ),
        3,
        "does not link",
    ),
    "reorder": (
        lambda s, a, h: _sql(
            s,
            a,
            "UPDATE events SET seq = 0 WHERE seq = 2 AND account_id = :a",
            "UPDATE events SET seq = 2 WHERE seq = 3 AND account_id = :a",
            "UPDATE events SET seq = 3 WHERE seq = 0 AND account_id = :a",
        ),
        2,
        "does not link",
    ),
    "head-moved-back": (
        lambda s, a, h: _sql(s, a, "UPDATE accounts SET head_seq = 4 WHERE id = :a"),
        5,
        "inserted",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_verify_names_the_first_bad_event(store: Store, case: str) -> None:
    tamper, first_bad, problem = TAMPERING[case]
    account_id = _account(store)
    bystander = _account(store, "bystander")
    _seal_chain(store, account_id, 5)
    _seal_chain(store, bystander, 2)
    with store.read() as tx:
        hashes = [e.hash for e in tx.ledger.events(account_id)]
    tamper(store, account_id, hashes)
    with store.read() as tx:
        result = tx.ledger.verify(account_id)
        assert tx.ledger.verify(bystander).ok
    assert (result.ok, result.account, result.first_bad_seq) == (False, "acme", first_bad)
    assert result.problem is not None and problem in result.problem
    assert str(first_bad) in result.problem
    assert result.checked == min(first_bad - 1, 5)


def test_a_sealed_chain_and_the_events_after_it_verify(store: Store) -> None:
    a = _account(store)
    _seal_chain(store, a, 3)
    _append(store, a, 2)
    with store.read() as tx:
        stored = tx.ledger.events(a)
        result = tx.ledger.verify(a)
    assert [e.seq for e in stored][:3] == [1, 2, 3] and stored[3].seq > 3
    assert [e.prev_hash == UNCHAINED for e in stored] == [False] * 3 + [True] * 2
    assert (result.ok, result.checked) == (True, 5)


AFTER_THE_SEAL: dict[str, tuple[str, str]] = {
    "edit-unchained": (
        "UPDATE events SET type = 'opted_in' WHERE seq = {seq} AND account_id = :a",
        "altered",
    ),
    "chain-past-the-seal": (
        "UPDATE events SET prev_hash = hash WHERE seq = {seq} AND account_id = :a",
        "inserted past the head",
    ),
    "unchain-a-sealed-event": (
        "UPDATE events SET prev_hash = '' WHERE seq = 2 AND account_id = :a",
        "does not link",
    ),
}


@pytest.mark.parametrize("case", list(AFTER_THE_SEAL))
def test_verify_names_a_wrong_event_after_the_seal(store: Store, case: str) -> None:
    statement, problem = AFTER_THE_SEAL[case]
    a = _account(store)
    _seal_chain(store, a, 3)
    _append(store, a, 2)
    with store.read() as tx:
        seq = tx.ledger.events(a)[3].seq
    _sql(store, a, statement.format(seq=seq))
    with store.read() as tx:
        result = tx.ledger.verify(a)
    assert not result.ok and result.problem is not None and problem in result.problem
    assert result.first_bad_seq == (2 if case == "unchain-a-sealed-event" else seq)


def test_concurrent_appends_to_one_account_all_land(store: Store) -> None:
    account_id = _account(store)
    errors: list[BaseException] = []
    committed: dict[str, list[int]] = {}

    def writer(n: int) -> None:
        phone = f"+1555000{n:04d}"
        try:
            for i in range(15):
                with store.transaction() as tx:
                    state = tx.contacts.get(account_id, phone, for_update=True) or ContactState(
                        phone
                    )
                    tx.contacts.save(account_id, state, datetime.now(UTC))
                    appended = tx.ledger.append(
                        account_id, [_event(i, phone), _event(i, phone)], AT
                    )
                committed.setdefault(phone, []).extend(e.seq for e in appended)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.read() as tx:
        stored = tx.ledger.events(account_id)
        result = tx.ledger.verify(account_id)
    assert len({e.seq for e in stored}) == 90
    # One contact's events are numbered in the order they committed.
    for phone, seqs in committed.items():
        assert seqs == sorted(seqs) == [e.seq for e in stored if e.phone == phone]
    assert (result.ok, result.checked) == (True, 90)


def test_appends_through_two_stores_never_share_a_seq(store: Store, db_url: str) -> None:
    account_id = _account(store)
    other = Store.open(db_url)
    try:
        for n in range(6):
            with (store if n % 3 else other).transaction() as tx:
                tx.ledger.append(account_id, [_event(n)], AT)
                tx.ledger.append(account_id, [_event(n), _event(n)], AT)
        with other.read() as tx:
            seqs = [e.seq for e in tx.ledger.events(account_id)]
            assert len(set(seqs)) == 18
            assert tx.ledger.verify(account_id).ok
    finally:
        other.close()


def test_an_upgraded_ledger_keeps_its_sealed_chain_and_numbers_on_past_it(store: Store) -> None:
    """A database from before r0019: its chain stays sealed under the head, and the
    events recorded after the upgrade are numbered past every seq on record."""
    from alembic import command

    from optline.store.migrate import alembic_config

    a = _account(store)
    config = alembic_config()
    with store.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "r0014")
        conn.commit()
    _seal_chain(store, a, 4)
    with store.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()
    _append(store, a, 2)
    with store.read() as tx:
        stored = tx.ledger.events(a)
        result = tx.ledger.verify(a)
    assert [e.seq for e in stored][:4] == [1, 2, 3, 4]
    assert all(e.seq > 4 and e.prev_hash == UNCHAINED for e in stored[4:])
    assert (result.ok, result.checked) == (True, 6)
