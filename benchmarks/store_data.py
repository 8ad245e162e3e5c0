"""A large SQLite store for the store benchmarks, built once per run.

The schema is the real one (``Store.open`` migrates an empty file), the account,
senders and lists are created through the engine, and the contacts and their child
rows are then bulk-inserted with the ``sqlite3`` module, which takes seconds where
the engine would take an hour. The data:

- ``contacts`` US and UK mobile numbers in E.164, in random order;
- 100,000 (at the default size: a tenth) opted out for the whole account;
- half a percent blocked (blocked contacts are also opted out, as ``block`` leaves them);
- 3% with a per-sender status (the account uses the ``twilio`` profile, whose opt-outs
  are per sender): two thirds opted out of sender A only, a third opted back in to A;
- list memberships: 40% in "news", 20% in "deals", 5% in "alerts", a tenth of each
  unsubscribed; 60% of the contacts texted before.

Set ``OPTLINE_BENCH_DIR`` to share one build between scripts (``run_all`` does);
otherwise each script builds into its own temporary directory.
"""

from __future__ import annotations

import os
import random
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from optline.engine import Engine

ACCOUNT = "bench"
SENDER_A = "+14155550100"
SENDER_B = "+14155550101"
LISTS = {"news": 0.40, "deals": 0.20, "alerts": 0.05}
CONTACTS = 1_000_000
OPTED_OUT = 100_000
BLOCKED_SHARE = 0.005
PER_SENDER_SHARE = 0.03
TEXTED_SHARE = 0.60
UNSUBSCRIBED_SHARE = 0.10
SEED = 20240611

# Area codes in service (a sample), for numbers that phonenumbers accepts as valid.
_US_AREAS = (
    201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218,
    219, 224, 225, 228, 229, 231, 234, 239, 240, 248, 251, 252, 253, 254, 256, 260,
    262, 267, 269, 270, 276, 281, 301, 302, 303, 304, 305, 307, 308, 309, 310, 312,
    313, 314, 315, 316, 317, 318, 319, 320, 321, 323, 330, 334, 336, 337, 339, 347,
    351, 352, 360, 361, 386, 401, 402, 404, 405, 406, 407, 408, 409, 410, 412, 413,
    414, 415, 417, 419, 423, 425, 430, 432, 434, 435, 440, 443, 469, 478, 479, 480,
    484, 501, 502, 503, 504, 505, 507, 508, 509, 510, 512, 513, 515, 516, 517, 518,
    520, 530, 540, 541, 551, 559, 561, 562, 563, 567, 570, 571, 573, 574, 580, 585,
    586, 601, 602, 603, 605, 606, 607, 608, 609, 610, 612, 614, 615, 616, 617, 618,
    619, 620, 623, 626, 630, 631, 636, 641, 646, 650, 651, 660, 661, 662, 678, 682,
    701, 702, 703, 704, 706, 707, 708, 712, 713, 714, 715, 716, 717, 718, 719, 720,
    724, 727, 731, 732, 734, 740, 754, 757, 760, 763, 765, 770, 772, 773, 774, 775,
    781, 785, 786, 801, 802, 803, 804, 805, 806, 808, 810, 812, 813, 814, 815, 816,
    817, 818, 828, 830, 831, 832, 843, 845, 847, 848, 850, 856, 857, 858, 859, 860,
    862, 863, 864, 865, 870, 878, 901, 903, 904, 906, 907, 908, 909, 910, 912, 913,
    914, 915, 916, 917, 918, 919, 920, 925, 928, 931, 936, 937, 940, 941, 947, 949,
    951, 952, 954, 956, 970, 971, 972, 973, 978, 979, 980, 985, 989,
)  # fmt: skip
_STAMP = "2024-06-01 12:00:00.000000"  # how SQLAlchemy stores a UTC timestamp on SQLite


@dataclass(frozen=True)
class BenchStore:
    path: Path
    phones: list[str]  # every contact, in random order
    opted_out: int
    blocked: int

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


def phone_numbers(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct, valid mobile numbers: nine in ten US, the rest UK."""
    uk = count // 10
    us = count - uk
    per_area = 800 * 10_000  # exchanges 200-999, lines 0000-9999
    picks = rng.sample(range(len(_US_AREAS) * per_area), us + us // 50 + 100)
    numbers = []
    for pick in picks:
        area, rest = divmod(pick, per_area)
        exchange, line = divmod(rest, 10_000)
        exchange += 200
        if exchange % 100 == 11 or exchange == 555:  # N11 and 555 are not assigned
            continue
        numbers.append(f"+1{_US_AREAS[area]}{exchange}{line:04d}")
    del numbers[us:]
    # UK mobiles in the 074, 075 and 078 ranges.
    uk_picks = rng.sample(range(3 * 100_000_000), uk)
    numbers += [f"+447{'458'[p // 100_000_000]}{p % 100_000_000:08d}" for p in uk_picks]
    rng.shuffle(numbers)
    return numbers


def _contact_rows(
    account_id: int, phones: list[str], rng: random.Random
) -> list[tuple[object, ...]]:
    """Contact rows in key order; the first phones (a random sample, as ``phones`` is
    shuffled) are the blocked and then the opted-out ones."""
    blocked = int(len(phones) * BLOCKED_SHARE)
    opted_out = OPTED_OUT * len(phones) // CONTACTS
    rows = [
        (
            account_id,
            number,
            i < blocked,
            "opted_out" if i < opted_out else "opted_in",
            rng.random() < TEXTED_SHARE,
            False,
            _STAMP,
            _STAMP,
        )
        for i, number in enumerate(phones)
    ]
    rows.sort(key=lambda row: row[1])
    return rows


def build(path: Path, count: int = CONTACTS) -> BenchStore:
    """Create the store at ``path`` (replacing any file there)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    rng = random.Random(SEED)
    with Engine.open(f"sqlite:///{path}") as engine:
        account = engine.create_account(ACCOUNT, "twilio")
        engine.add_sender(ACCOUNT, SENDER_A)
        engine.add_sender(ACCOUNT, SENDER_B)
        for name in LISTS:
            engine.create_list(ACCOUNT, name, f"{name} off")
    phones = phone_numbers(count, rng)
    opted_out = OPTED_OUT * count // CONTACTS
    # Per-sender statuses for contacts neither opted out nor blocked for the account.
    per_sender = sorted(phones[opted_out : opted_out + int(count * PER_SENDER_SHARE)])
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # A bulk load into a file nobody else has open: no journal, a large cache, and
        # rows in key order; the store's own WAL mode is set back at the end.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -1000000")
        conn.execute("BEGIN")
        # Secondary indexes are rebuilt after the load, from their own definitions.
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " AND tbl_name IN ('contacts', 'sender_consent', 'memberships')"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.executemany(
            "INSERT INTO contacts (account_id, phone, blocked, status, texted, clarified,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            _contact_rows(account.id, phones, rng),
        )
        conn.executemany(
            "INSERT INTO sender_consent (account_id, phone, sender, status) VALUES (?, ?, ?, ?)",
            (
                (account.id, number, SENDER_A, "opted_in" if i % 3 == 0 else "opted_out")
                for i, number in enumerate(per_sender)
            ),
        )
        for name, share in LISTS.items():
            members = sorted(rng.sample(phones, int(count * share)))
            conn.executemany(
                "INSERT INTO memberships (account_id, list_name, phone, subscribed)"
                " VALUES (?, ?, ?, ?)",
                ((account.id, name, n, rng.random() >= UNSUBSCRIBED_SHARE) for n in members),
            )
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    return BenchStore(path, phones, opted_out, int(count * BLOCKED_SHARE))


def bench_dir() -> Path:
    """Where the built stores go: ``OPTLINE_BENCH_DIR``, or a new temporary directory."""
    given = os.environ.get("OPTLINE_BENCH_DIR")
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(tempfile.mkdtemp(prefix="optline-bench-"))


def store(count: int = CONTACTS) -> BenchStore:
    """The benchmark store with ``count`` contacts, built on first use in this run."""
    path = bench_dir() / f"contacts-{count}.db"
    if path.exists():
        conn = sqlite3.connect(path)
        try:
            rows = conn.execute("SELECT phone, blocked, status FROM contacts").fetchall()
        finally:
            conn.close()
        if len(rows) == count:
            phones = [r[0] for r in rows]
            random.Random(SEED).shuffle(phones)
            return BenchStore(
                path,
                phones,
                sum(r[2] == "opted_out" for r in rows),
                sum(bool(r[1]) for r in rows),
            )
    started = time.perf_counter()
    built = build(path, count)
    print(f"built {count:,}-contact store in {time.perf_counter() - started:.1f} s: {path}")
    return built
