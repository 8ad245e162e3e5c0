"""Contact listings at 1,000,000 contacts: a page (keyset on phone) and an exact count,
through the engine, each beside a raw indexed SQL query on the same file.

- ``page``: 50 contacts after a random cursor, no filter; baseline the primary key's
  range (``phone > ? ORDER BY phone LIMIT 51``) with ``sqlite3``;
- ``page_opted_out_from_a``: 50 contacts opted out as seen from sender A (its own
  status, else the account's), after a random cursor; baseline the account-scope
  opted-out rows of the index on (account_id, blocked, status, phone);
- ``page_number_part``: 50 contacts whose number holds four given digits; baseline
  ``phone LIKE`` on the primary key;
- ``count_opted_out``: the exact count of contacts opted out in any scope; baseline
  the account-scope count on the status index.

The engine's side reads each contact's consent per sender and lists too, as the
pages show them. Run: ``python -m benchmarks.contacts_bench [--contacts N]``.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from collections.abc import Callable

from optline.domain.consent import Status
from optline.domain.contact_filter import ContactFilter
from optline.engine import Engine

try:  # run as a script or as ``python -m benchmarks.contacts_bench``
    import store_data
    from store_bench import Pair, alternate, raw_connection
except ImportError:  # pragma: no cover
    from benchmarks import store_data
    from benchmarks.store_bench import Pair, alternate, raw_connection

PAGE = 50


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
    baseline_sql: str,
    what: str,
    baseline: str,
    target: float,
) -> Pair:
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
        return _timed(lambda: raw.execute(baseline_sql, (account_id, cursor())).fetchall(), 20)

    mine, theirs = alternate(ours, base, rounds)
    pair = Pair(name, "s", mine, theirs, target, what, baseline)
    pair.report()
    return pair


def bench_count(
    engine: Engine, raw: sqlite3.Connection, store: store_data.BenchStore, rounds: int
) -> Pair:
    account_id = engine.account(store_data.ACCOUNT).id
    query = ContactFilter(Status.OPTED_OUT)
    sql = (
        "SELECT count(*) FROM contacts WHERE account_id = ? AND blocked = 0"
        " AND status = 'opted_out'"
    )
    counted: dict[str, int] = {}

    def ours() -> float:
        start = time.perf_counter()
        counted["ours"] = engine.count_contacts(store_data.ACCOUNT, query)
        return time.perf_counter() - start

    def base() -> float:
        start = time.perf_counter()
        counted["base"] = raw.execute(sql, (account_id,)).fetchone()[0]
        return time.perf_counter() - start

    mine, theirs = alternate(ours, base, rounds)
    pair = Pair(
        "count_opted_out",
        "s",
        mine,
        theirs,
        15.0,
        f"Engine.count_contacts(status=opted_out), {len(store.phones):,} contacts, any scope",
        "count(*) of the account scope on the status index",
    )
    pair.report()
    print(f"  (counted: optline {counted['ours']:,} in any scope, baseline {counted['base']:,})")
    return pair


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=store_data.CONTACTS)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    store = store_data.store(args.contacts)
    engine = Engine.open(store.url)
    raw = raw_connection(store.path)
    limit = f" ORDER BY phone LIMIT {PAGE + 1}"
    size = f"{len(store.phones):,} contacts"
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
            f"Engine.find_contacts, a page of {PAGE} after a random cursor, {size}",
            "primary-key range, phone > ?, sqlite3",
            5.0,
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
            f"Engine.find_contacts(status=opted_out, sender=A), a page of {PAGE}, {size}",
            "account-scope opted-out rows on the status index, sqlite3",
            10.0,
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
            f"Engine.find_contacts(number=5501), a page of {PAGE}, {size}",
            "phone LIKE on the primary key, sqlite3",
            5.0,
        )
        bench_count(engine, raw, store, args.rounds)
    finally:
        engine.close()
        raw.close()


if __name__ == "__main__":
    main()
