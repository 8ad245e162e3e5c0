"""Contact listings at 1,000,000 contacts: keyset pages and an exact count, through the
engine, each beside a same-run baseline.

- ``page``, ``page_opted_out_from_a`` (opted out as seen from sender A: its own
  status, else the account's), ``page_number_part`` (four digits anywhere in the
  number): 50 contacts after a random cursor, beside the first page of the same
  filter (keyset pages cost the same at any depth); printed with them, the floor (a
  raw indexed SQL query of the page's rows with ``sqlite3``) and an OFFSET page half
  way down, the pagination keyset pages replace;
- ``count_opted_out``: the exact count of contacts opted out in any scope, beside the
  same count as one straightforward statement with ``sqlite3``; printed with them,
  the floor: the raw count of the account-scope ones on the status index;
- ``page_opted_out_of_marketing_from_a`` and ``count_opted_out_of_marketing_from_a``:
  the same two for the contacts a marketing text from sender A is refused to as opted
  out, with one contact in a hundred opted out of marketing alone (rows written for
  the run and taken out after it), the count beside each contact's deciding status
  looked up by key in one statement.

The engine's side reads each contact's consent per sender and lists too, as the
pages show them. Run: ``python -m benchmarks.contacts_bench [--contacts N]``.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from collections.abc import Callable

from optline.domain.consent_codes import Status
from optline.domain.contact_filter import ContactFilter
from optline.domain.purposes import MARKETING
from optline.engine import Engine

try:  # run as a script or as ``python -m benchmarks.contacts_bench``
    import store_data
    from store_bench import PURPOSE_ROWS, Pair, alternate, raw_connection
except ImportError:  # pragma: no cover
    from benchmarks import store_data
    from benchmarks.store_bench import PURPOSE_ROWS, Pair, alternate, raw_connection

PAGE = 50
#: Contacts opted out in any scope: the first count measured.
OPTED_OUT_ANYWHERE = ContactFilter(Status.OPTED_OUT)


def _timed(run: Callable[[], object], times: int) -> float:
    """Seconds per call of ``run``, over ``times`` calls."""
    start = time.perf_counter()
    for _ in range(times):
        run()
    return (time.perf_counter() - start) / times


def bench_page(
    engine: Engine,
    raw: sqlite3.Connection,
    store: store_data.BenchStore,
    rounds: int,
    name: str,
    query: ContactFilter,
    floor_sql: str,
) -> Pair:
    """A page after a random cursor (deep in the contacts) beside the first page of
    the same filter: keyset pages cost the same wherever they start (OFFSET pages
    would grow with the depth). The raw indexed query is printed as the floor."""
    rng = random.Random(7)
    account_id = engine.account(store_data.ACCOUNT).id
    cursors = [rng.choice(store.phones) for _ in range(50)]
    turn = iter(range(10**9))

    def cursor() -> str:
        return cursors[next(turn) % len(cursors)]

    def ours() -> float:
        return _timed(
            lambda: engine.find_contacts(store_data.ACCOUNT, query, cursor(), PAGE + 1), 20
        )

    def base() -> float:
        return _timed(lambda: engine.find_contacts(store_data.ACCOUNT, query, None, PAGE + 1), 20)

    mine, theirs = alternate(ours, base, rounds)
    floor = min(
        _timed(lambda: raw.execute(floor_sql, (account_id, cursor())).fetchall(), 20)
        for _ in range(rounds)
    )
    offset = min(
        _timed(lambda: raw.execute(_OFFSET, (account_id, len(store.phones) // 2)).fetchall(), 3)
        for _ in range(rounds)
    )
    pair = Pair(
        name,
        "s",
        mine,
        theirs,
        1.5,
        f"Engine.find_contacts({_shown(query)}), a page of {PAGE} after a random cursor,"
        f" {len(store.phones):,} contacts",
        "the first page of the same filter, through the engine",
    )
    pair.report()
    print(
        f"  (floor: the raw indexed query of the page's rows {floor * 1000:.2f} ms; an"
        f" OFFSET page half way down {offset * 1000:.1f} ms)"
    )
    return pair


# A page half way down by OFFSET, the pagination keyset pages replace (a reference).
_OFFSET = "SELECT phone FROM contacts WHERE account_id = ? ORDER BY phone LIMIT 51 OFFSET ?"


def _shown(query: ContactFilter) -> str:
    parts = {k: getattr(query, k) for k in ("status", "sender", "purpose", "number")}
    return ", ".join(f"{k}={v}" for k, v in parts.items() if v is not None)


def bench_count(
    engine: Engine,
    raw: sqlite3.Connection,
    store: store_data.BenchStore,
    rounds: int,
    query: ContactFilter = OPTED_OUT_ANYWHERE,
) -> Pair:
    """The exact count of contacts ``query`` keeps (by default: opted out in any
    scope), beside the same count as one straightforward statement (each contact
    tested against the sender and purpose rows); the account-scope count on the
    status index is printed as the floor."""
    account_id = engine.account(store_data.ACCOUNT).id
    counted: dict[str, int] = {}
    straight, params = _STRAIGHT_COUNT, (account_id,)
    name = "count_opted_out"
    if query.purpose is not None:
        straight, params = _STRAIGHT_PURPOSE_COUNT, (account_id, query.sender, query.purpose)
        name = "count_opted_out_of_marketing_from_a"

    def ours() -> float:
        start = time.perf_counter()
        counted["ours"] = engine.count_contacts(store_data.ACCOUNT, query)
        return time.perf_counter() - start

    def base() -> float:
        start = time.perf_counter()
        counted["base"] = raw.execute(straight, params).fetchone()[0]
        return time.perf_counter() - start

    mine, theirs = alternate(ours, base, rounds)
    floor = min(
        _timed(lambda: raw.execute(_FLOOR_COUNT, (account_id,)).fetchone(), 1)
        for _ in range(rounds)
    )
    pair = Pair(
        name,
        "s",
        mine,
        theirs,
        0.5,
        f"Engine.count_contacts({_shown(query)}), {len(store.phones):,} contacts",
        "the same count as one statement, sqlite3",
    )
    pair.report()
    print(
        f"  (counted: optline {counted['ours']:,}, baseline {counted['base']:,}; floor: the"
        f" account-scope count on the status index {floor * 1000:.1f} ms)"
    )
    assert counted["ours"] == counted["base"]
    return pair


def bench_purpose(
    engine: Engine, raw: sqlite3.Connection, store: store_data.BenchStore, rounds: int
) -> None:
    """A page and the exact count of the contacts a marketing text from sender A is
    refused to as opted out, with one contact in a hundred opted out of marketing
    alone (written into the projection for the run, as ``store_bench`` does, and
    taken out after it)."""
    with raw:
        raw.execute(PURPOSE_ROWS, (store_data.ACCOUNT,))
    query = ContactFilter(Status.OPTED_OUT, sender=store_data.SENDER_A, purpose=MARKETING)
    try:
        bench_page(
            engine,
            raw,
            store,
            rounds,
            "page_opted_out_of_marketing_from_a",
            query,
            "SELECT phone, blocked, status FROM contacts WHERE account_id = ? AND blocked = 0"
            " AND status = 'opted_out' AND phone > ?" + f" ORDER BY phone LIMIT {PAGE + 1}",
        )
        bench_count(engine, raw, store, rounds, query)
    finally:
        with raw:
            raw.execute("DELETE FROM purpose_consent")


# Every contact tested: its own status, else its phone in the set of opted-out sender
# rows (built once). A correlated EXISTS instead is far slower here: SQLite, with no
# statistics, reads it through the (account_id, sender, ...) index's whole account.
_STRAIGHT_COUNT = (
    "SELECT count(*) FROM contacts WHERE account_id = ?1 AND blocked = 0"
    " AND (status = 'opted_out' OR phone IN (SELECT phone FROM sender_consent"
    " WHERE account_id = ?1 AND status = 'opted_out'))"
)
# The status that decides a text of a purpose from a sender, looked up per contact by
# key as ContactState.status_from reads it: the sender's own opt-out, the purpose's own
# consent, the sender's own status, the account's.
_STRAIGHT_PURPOSE_COUNT = (
    "SELECT count(*) FROM contacts c WHERE c.account_id = ?1 AND c.blocked = 0"
    " AND coalesce("
    "(SELECT s.status FROM sender_consent s WHERE s.account_id = ?1 AND s.phone = c.phone"
    " AND s.sender = ?2 AND s.status = 'opted_out'),"
    "(SELECT p.status FROM purpose_consent p WHERE p.account_id = ?1 AND p.phone = c.phone"
    " AND p.purpose = ?3),"
    "(SELECT s.status FROM sender_consent s WHERE s.account_id = ?1 AND s.phone = c.phone"
    " AND s.sender = ?2),"
    " c.status) = 'opted_out'"
)
_FLOOR_COUNT = (
    "SELECT count(*) FROM contacts WHERE account_id = ? AND blocked = 0 AND status = 'opted_out'"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=store_data.CONTACTS)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    store = store_data.store(args.contacts)
    engine = Engine.open(store.url)
    raw = raw_connection(store.path)
    limit = f" ORDER BY phone LIMIT {PAGE + 1}"
    try:
        bench_page(
            engine,
            raw,
            store,
            args.rounds,
            "page",
            ContactFilter(),
            "SELECT phone, blocked, status FROM contacts WHERE account_id = ? AND phone > ?"
            + limit,
        )
        bench_page(
            engine,
            raw,
            store,
            args.rounds,
            "page_opted_out_from_a",
            ContactFilter(Status.OPTED_OUT, sender=store_data.SENDER_A),
            "SELECT phone, blocked, status FROM contacts WHERE account_id = ? AND blocked = 0"
            " AND status = 'opted_out' AND phone > ?" + limit,
        )
        bench_page(
            engine,
            raw,
            store,
            args.rounds,
            "page_number_part",
            ContactFilter(number="5501"),
            "SELECT phone, blocked, status FROM contacts WHERE account_id = ?"
            " AND phone LIKE '%5501%' AND phone > ?" + limit,
        )
        bench_count(engine, raw, store, args.rounds)
        bench_purpose(engine, raw, store, args.rounds)
    finally:
        engine.close()
        raw.close()


if __name__ == "__main__":
    main()
