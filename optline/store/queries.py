"""Statements on the hot paths (inbound, send, append), built once per dialect.

Building a SQLAlchemy statement and its cache key costs more than running it on
SQLite; these are built with bind parameters and reused for every call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

from optline.store.schema import (
    accounts,
    contacts,
    event_seq,
    events,
    lists,
    log_entries,
    log_nodes,
    log_queue,
    memberships,
    messages,
    purpose_consent,
    sender_consent,
    senders,
    subscriptions,
    triggers,
)

_p = sa.bindparam


class Driver(Protocol):
    """The DB-API connection under a SQLAlchemy one: sqlite3's or psycopg's, whose
    execute() makes, runs and returns a cursor in one call."""

    def execute(self, sql: str, parameters: Any, /) -> Any: ...

    def cursor(self) -> Any: ...


# PostgreSQL: the next number of the messages' id sequence.
_NEXT_MESSAGE_ID = "nextval(pg_get_serial_sequence('messages', 'id'))"
# PostgreSQL: the first key of the advisory lock on an account's subscriptions (the
# second is the account's id); any constant will do, this one spells "subs".
SUBSCRIPTIONS_LOCK = 0x73756273


def insert(table: sa.Table, postgres: bool) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that supports ON CONFLICT on both dialects."""
    return postgresql.insert(table) if postgres else sqlite.insert(table)


def json_object(postgres: bool, key: sa.ColumnElement[Any], value: sa.ColumnElement[Any]) -> Any:
    """Aggregate rows into one JSON object ``{key: value}`` (NULL when there are none)."""
    name = "json_object_agg" if postgres else "json_group_object"
    return getattr(sa.func, name)(key, value, type_=sa.JSON)


def _contact_rows(
    postgres: bool, table: sa.Table, index: str, key: str, value: str
) -> sa.ScalarSelect[Any]:
    """One contact's rows in ``table`` as a JSON object ``{key: value}``.

    SQLite, without statistics (nothing runs ANALYZE), reads them through the covering
    index that starts (account_id, sender | list_name) and matches only the account:
    every row of the account, for each contact. INDEXED BY holds it to the index on
    (account_id, phone, ...); the statement fails loudly should that index be renamed.
    """
    rows: Any = table if postgres else sa.text(f"{table.name} INDEXED BY {index}")

    def col(name: str) -> Any:
        if postgres:
            return table.c[name]
        return sa.literal_column(f"{table.name}.{name}", table.c[name].type)

    return (
        sa.select(json_object(postgres, col(key), col(value)))
        .select_from(rows)
        .where(col("account_id") == contacts.c.account_id, col("phone") == contacts.c.phone)
        .scalar_subquery()
    )


def contact_select(postgres: bool) -> sa.Select[Any]:
    """Contact rows with their per-sender consent and lists, one row per contact."""
    by_sender = _contact_rows(
        postgres, sender_consent, "sqlite_autoindex_sender_consent_1", "sender", "status"
    )
    by_list = _contact_rows(
        postgres, memberships, "ix_memberships_account_id_phone", "list_name", "subscribed"
    )
    by_purpose = _contact_rows(
        postgres, purpose_consent, "sqlite_autoindex_purpose_consent_1", "purpose", "status"
    )
    return sa.select(
        contacts.c.phone,
        contacts.c.blocked,
        contacts.c.status,
        contacts.c.texted,
        contacts.c.clarified,
        contacts.c.inbound,
        contacts.c.written,
        by_sender.label("by_sender"),
        by_list.label("by_list"),
        by_purpose.label("by_purpose"),
        contacts.c.choice_until,
        contacts.c.choice_purposes,
    )


def _typed_values(table: sa.Table, names: Iterable[str]) -> dict[str, sa.BindParameter[Any]]:
    """``column = :column`` for each name, typed so the driver gets stored forms."""
    return {name: sa.bindparam(name, type_=table.c[name].type) for name in names}


class Prepared:
    """A statement compiled once and run on the driver's own connection.

    On SQLite, SQLAlchemy's work per execution (context, events, result set-up) costs
    more than the statement itself; the reads and writes of every consent change skip
    it. Values still pass through SQLAlchemy's type processors, so they are stored
    just as any other write stores them; rows come back as the driver returns them.
    Runs inside the connection's transaction.
    """

    def __init__(self, statement: sa.ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        self._order = compiled.positiontup  # None under named parameter styles
        self._processors = [
            (name, _bind_processor(bind.type, dialect)) for name, bind in compiled.binds.items()
        ]
        # Positional styles (SQLite's qmark): the values are taken in slot order in one
        # step, and only the slots whose type has a processor are processed (an insert
        # of a text has 15 slots, 5 of them processed: 3.7 -> 3.3 µs).
        self._take: Callable[[Mapping[str, Any]], Sequence[Any]] | None = None
        self._processed: list[tuple[int, Callable[[Any], Any]]] = []
        if self._order is not None:
            self._take = _taker(self._order)
            processor_of = dict(self._processors)
            self._processed = [
                (slot, process)
                for slot, name in enumerate(self._order)
                if (process := processor_of[name]) is not None
            ]

    def _parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        if self._take is not None:
            taken = self._take(values)
            if not self._processed:
                return taken
            row = list(taken)
            for slot, process in self._processed:
                row[slot] = process(row[slot])
            return row
        return {
            name: values[name] if process is None else process(values[name])
            for name, process in self._processors
        }

    def run(self, driver: Driver, values: Mapping[str, Any]) -> int:
        """Execute with one set of values; returns the number of rows changed."""
        cursor = driver.execute(self.sql, self._parameters(values))
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def first(self, driver: Driver, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Execute a query; its first row, as the driver returns it (no type processing)."""
        cursor = driver.execute(self.sql, self._parameters(values))
        try:
            row: tuple[Any, ...] | None = cursor.fetchone()
            return row
        finally:
            cursor.close()

    def all(self, driver: Driver, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute a query; all its rows, as the driver returns them."""
        cursor = driver.execute(self.sql, self._parameters(values))
        try:
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows
        finally:
            cursor.close()

    def run_many(self, driver: Driver, rows: Sequence[Mapping[str, Any]]) -> None:
        cursor = driver.cursor()
        try:
            cursor.executemany(self.sql, [self._parameters(row) for row in rows])
        finally:
            cursor.close()

    def repeat(
        self, driver: Driver, fixed: Mapping[str, Any], key: str
    ) -> Callable[[Any], list[tuple[Any, ...]]]:
        """The query as a function of its ``key`` parameter, for many runs in this
        transaction: the ``fixed`` values are processed once, and every run reuses one
        driver cursor and returns all rows (so the statement is always finished)."""
        process = dict(self._processors)[key]
        fixed = {**fixed, key: None}
        template = self._parameters(fixed)
        cursor = driver.cursor()
        execute, sql = cursor.execute, self.sql
        if isinstance(template, dict):
            named = template

            def run_named(value: Any) -> list[tuple[Any, ...]]:
                named[key] = value if process is None else process(value)
                execute(sql, named)
                rows: list[tuple[Any, ...]] = cursor.fetchall()
                return rows

            return run_named
        assert self._order is not None
        slots = [i for i, name in enumerate(self._order) if name == key]
        values = list(template)

        def run_positional(value: Any) -> list[tuple[Any, ...]]:
            processed = value if process is None else process(value)
            for i in slots:
                values[i] = processed
            execute(sql, values)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows

        return run_positional


def _bind_processor(
    type_: sa.types.TypeEngine[Any], dialect: Dialect
) -> Callable[[Any], Any] | None:
    """The type's processor of values bound to a statement, if it needs one. On SQLite
    booleans need none: the driver stores a bool as the integer 0 or 1, as SQLAlchemy's
    processor does after checking that the value is a bool, which the type checker
    does here (5 booleans in a text's row: 0.7 µs)."""
    if dialect.name == "sqlite" and isinstance(type_, sa.Boolean):
        return None
    return type_.dialect_impl(dialect).bind_processor(dialect)


def _taker(names: Sequence[str]) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
    """A function of a mapping: the values of ``names``, in order, as a sequence."""
    if len(names) > 1:
        return itemgetter(*names)
    if names:
        (name,) = names
        return lambda values: (values[name],)
    return lambda values: ()


def send_view(with_list: bool, with_purpose: bool = True) -> sa.Select[Any]:
    """What a send from ``:sender`` (to ``:list``) of ``:purpose`` reads of the contact
    ``:phone``: blocked, the account's status, texted, inbound, the sender's own status
    and the list's subscription (NULL when it has none), its stored location (send
    windows), its written consent's purposes and the purpose's own status (NULL when
    it has none, or, without ``with_purpose``, for an account with no purpose's own
    consent on record).
    Primary-key look-ups only."""
    c, sc, ms, pc = contacts, sender_consent, memberships, purpose_consent
    mine = c.c.account_id == _p("account", type_=sa.Integer)
    own = (
        sa.select(sc.c.status)
        .where(
            sc.c.account_id == _p("account"),
            sc.c.phone == _p("phone", type_=sa.String),
            sc.c.sender == _p("sender", type_=sa.String),
        )
        .scalar_subquery()
    )
    subscribed: sa.ColumnElement[Any] = sa.null()
    if with_list:
        subscribed = (
            sa.select(ms.c.subscribed)
            .where(
                ms.c.account_id == _p("account"),
                ms.c.list_name == _p("list", type_=sa.String),
                ms.c.phone == _p("phone"),
            )
            .scalar_subquery()
        )
    purpose: sa.ColumnElement[Any] = sa.null()
    if with_purpose:
        purpose = (
            sa.select(pc.c.status)
            .where(
                pc.c.account_id == _p("account"),
                pc.c.phone == _p("phone"),
                pc.c.purpose == _p("purpose", type_=sa.String),
            )
            .scalar_subquery()
        )
    return sa.select(
        c.c.blocked,
        c.c.status,
        c.c.texted,
        c.c.inbound,
        own,
        subscribed,
        c.c.time_zone,
        c.c.us_state,
        c.c.written,
        purpose,
    ).where(mine, c.c.phone == _p("phone"))


FACT_BLOCKED, FACT_OPTED_OUT, FACT_SENDER_OPTED_IN, FACT_SENDER_OPTED_OUT = 1, 2, 3, 4
FACT_LIST_UNSUBSCRIBED = 5
FACT_PURPOSE_OPTED_IN, FACT_PURPOSE_OPTED_OUT = 6, 7


def _fact(number: int) -> sa.ColumnClause[int]:
    return sa.literal_column(str(number), sa.Integer())


def suppressed(with_list: bool) -> sa.CompoundSelect[Any]:
    """(phone, fact) for every contact with something that can refuse a send from
    ``:sender`` (to ``:list``) of ``:purpose``: blocked, opted out for the account, the
    sender's own status, the purpose's own status, unsubscribed from the list (the
    ``FACT_*`` numbers: small integers, which the driver does not allocate row by row).

    Each branch is a range of one covering index, with no look-up per row; the caller
    combines the facts in the order ``consent.decide`` applies them. One statement, so
    they all come from one snapshot.
    """
    c, sc, ms, pc = contacts, sender_consent, memberships, purpose_consent
    mine = c.c.account_id == _p("account", type_=sa.Integer)
    opted_out: sa.ColumnClause[str] = sa.literal_column("'opted_out'", sa.String())
    opted_in: sa.ColumnClause[str] = sa.literal_column("'opted_in'", sa.String())
    own = (sc.c.account_id == _p("account"), sc.c.sender == _p("sender", type_=sa.String))
    branches: list[sa.Select[Any]] = [
        sa.select(c.c.phone, _fact(FACT_BLOCKED)).where(mine, c.c.blocked == sa.true()),
        sa.select(c.c.phone, _fact(FACT_OPTED_OUT)).where(
            mine, c.c.blocked == sa.false(), c.c.status == opted_out
        ),
        sa.select(sc.c.phone, _fact(FACT_SENDER_OPTED_IN)).where(*own, sc.c.status == opted_in),
        sa.select(sc.c.phone, _fact(FACT_SENDER_OPTED_OUT)).where(*own, sc.c.status == opted_out),
    ]
    purpose = (pc.c.account_id == _p("account"), pc.c.purpose == _p("purpose", type_=sa.String))
    branches += [
        sa.select(pc.c.phone, _fact(FACT_PURPOSE_OPTED_IN)).where(
            *purpose, pc.c.status == opted_in
        ),
        sa.select(pc.c.phone, _fact(FACT_PURPOSE_OPTED_OUT)).where(
            *purpose, pc.c.status == opted_out
        ),
    ]
    if with_list:
        branches.append(
            sa.select(ms.c.phone, _fact(FACT_LIST_UNSUBSCRIBED)).where(
                ms.c.account_id == _p("account"),
                ms.c.list_name == _p("list", type_=sa.String),
                ms.c.subscribed == sa.false(),
            )
        )
    return sa.union_all(*branches)


class KeyValueRows:
    """Statements keeping a contact's ``key -> value`` rows in one child table."""

    def __init__(self, table: sa.Table, key: str, value: str, postgres: bool) -> None:
        self.key, self.value = key, value
        owner = sa.and_(table.c.account_id == _p("owner_account"), table.c.phone == _p("owner"))
        self.delete_all = sa.delete(table).where(owner)
        self.delete_keys = sa.delete(table).where(
            owner, table.c[key].in_(_p("keys", expanding=True))
        )
        upsert = insert(table, postgres)
        self.upsert = upsert.on_conflict_do_update(
            index_elements=["account_id", "phone", key], set_={value: upsert.excluded[value]}
        )


class Queries:
    def __init__(self, dialect: Dialect) -> None:
        postgres = dialect.name == "postgresql"
        account_columns = (
            accounts.c.id,
            accounts.c.name,
            accounts.c.profile,
            accounts.c.overrides,
            accounts.c.keywords_version,
        )
        self.account_by_name = Prepared(
            sa.select(*account_columns).where(accounts.c.name == _p("name", type_=sa.String)),
            dialect,
        )
        self.account_by_id = Prepared(
            sa.select(*account_columns).where(accounts.c.id == _p("id", type_=sa.Integer)),
            dialect,
        )
        self.account_by_key_hash = Prepared(
            sa.select(*account_columns, accounts.c.api_key_hash, accounts.c.api_key_name).where(
                accounts.c.api_key_hash == _p("hash", type_=sa.String)
            ),
            dialect,
        )
        self.subscriptions = Prepared(
            sa.select(subscriptions.c.id, subscriptions.c.url, subscriptions.c.events).where(
                subscriptions.c.account_id == _p("account", type_=sa.Integer)
            ),
            dialect,
        )
        self.sender = sa.select(senders).where(senders.c.number == _p("number"))
        self.lists = (
            sa.select(lists).where(lists.c.account_id == _p("account")).order_by(lists.c.name)
        )
        self.triggers = (
            sa.select(triggers)
            .where(triggers.c.account_id == _p("account"))
            .order_by(triggers.c.keyword)
        )

        contact = contact_select(postgres).where(
            contacts.c.account_id == _p("account"), contacts.c.phone == _p("phone")
        )
        self.contact = Prepared(contact, dialect)
        # NO KEY UPDATE: enough to serialise consent writers, and it does not conflict
        # with the KEY SHARE locks of foreign-key checks on child rows.
        self.lock_contact = (
            sa.select(contacts.c.phone)
            .where(contacts.c.account_id == _p("account"), contacts.c.phone == _p("phone"))
            .with_for_update(key_share=True)
        )
        self.claim_contact = (
            insert(contacts, postgres).on_conflict_do_nothing().returning(contacts.c.phone)
        )
        kept = (
            "blocked",
            "status",
            "texted",
            "clarified",
            "inbound",
            "written",
            "choice_until",
            "choice_purposes",
            "updated_at",
        )
        upsert = insert(contacts, postgres).values(
            _typed_values(contacts, ("account_id", "phone", "created_at", *kept))
        )
        self.upsert_contact = Prepared(
            upsert.on_conflict_do_update(
                index_elements=["account_id", "phone"],
                set_={name: upsert.excluded[name] for name in kept},
            ),
            dialect,
        )
        # A contact's stored location (send windows), by primary key.
        self.contact_location = Prepared(
            sa.select(contacts.c.time_zone, contacts.c.us_state).where(
                contacts.c.account_id == _p("account", type_=sa.Integer),
                contacts.c.phone == _p("phone", type_=sa.String),
            ),
            dialect,
        )
        self.send_view = Prepared(send_view(with_list=False), dialect)
        self.send_view_list = Prepared(send_view(with_list=True), dialect)
        # The same, for an account with no purpose's own consent on record: one
        # primary-key look-up fewer a decision.
        self.send_view_scopes = Prepared(send_view(False, with_purpose=False), dialect)
        self.send_view_list_scopes = Prepared(send_view(True, with_purpose=False), dialect)
        self.any_purpose_consent = Prepared(
            sa.select(
                sa.exists().where(purpose_consent.c.account_id == _p("account", type_=sa.Integer))
            ),
            dialect,
        )
        self.suppressed = Prepared(suppressed(with_list=False), dialect)
        self.suppressed_from_list = Prepared(suppressed(with_list=True), dialect)
        self.sender_consent = KeyValueRows(sender_consent, "sender", "status", postgres)
        self.memberships = KeyValueRows(memberships, "list_name", "subscribed", postgres)
        self.purpose_consent = KeyValueRows(purpose_consent, "purpose", "status", postgres)
        # How, when and by which event a change set a scope's status (projection).
        marks = _typed_values(contacts, ("method", "since", "event_seq"))
        self.mark_account = Prepared(
            sa.update(contacts)
            .where(contacts.c.account_id == _p("account"), contacts.c.phone == _p("phone"))
            .values(marks),
            dialect,
        )
        self.mark_sender = Prepared(
            sa.update(sender_consent)
            .where(
                sender_consent.c.account_id == _p("account"),
                sender_consent.c.phone == _p("phone"),
                sender_consent.c.sender == _p("sender"),
            )
            .values(marks),
            dialect,
        )
        self.mark_purpose = Prepared(
            sa.update(purpose_consent)
            .where(
                purpose_consent.c.account_id == _p("account"),
                purpose_consent.c.phone == _p("phone"),
                purpose_consent.c.purpose == _p("purpose"),
            )
            .values(marks),
            dialect,
        )
        # PostgreSQL: events' seqs from the deployment's sequence, taken ahead of the
        # inserts; SQLite: the account's top seq, counted on from there.
        self.event_seqs = sa.text(
            f"SELECT nextval('{event_seq.name}') FROM generate_series(1, :count)"
        )
        self.top_event_seq = Prepared(
            sa.select(sa.func.max(events.c.seq)).where(
                events.c.account_id == _p("account", type_=sa.Integer)
            ),
            dialect,
        )
        self.subscriptions_version = Prepared(
            sa.select(accounts.c.subscriptions_version).where(accounts.c.id == _p("account")),
            dialect,
        )
        # PostgreSQL: the advisory lock on an account's subscriptions (docs/ledger.md):
        # shared by the changes that notify them, taken alone to change them.
        self.share_subscriptions = sa.text(
            f"SELECT pg_advisory_xact_lock_shared({SUBSCRIPTIONS_LOCK}, :account)"
        )
        self.lock_subscriptions = sa.text(
            f"SELECT pg_advisory_xact_lock({SUBSCRIPTIONS_LOCK}, :account)"
        )
        self.bump_subscriptions = (
            sa.update(accounts)
            .where(accounts.c.id == _p("account"))
            .values(subscriptions_version=accounts.c.subscriptions_version + 1)
        )
        # The log's entries from a position on, with their events and stored leaves
        # (verify reads every entry: rows as the driver returns them, no SQLAlchemy
        # processing per row).
        le, n = log_entries, log_nodes
        self.log_entries = Prepared(
            sa.select(
                le.c.position,
                le.c.account_id,
                le.c.seq,
                events.c.type,
                events.c.phone,
                events.c.data,
                events.c.occurred_at,
                n.c.hash,
            )
            .select_from(
                le.outerjoin(
                    events,
                    sa.and_(events.c.account_id == le.c.account_id, events.c.seq == le.c.seq),
                ).outerjoin(
                    n, sa.and_(n.c.level == sa.literal_column("0"), n.c.idx == le.c.position)
                )
            )
            .where(le.c.position >= _p("start", type_=sa.BigInteger))
            .order_by(le.c.position)
            .limit(_p("limit", type_=sa.Integer))
            .offset(sa.literal_column("0")),  # else SQLite's compiler binds an offset too
            dialect,
        )
        self.queue_event = Prepared(
            sa.insert(log_queue).values(
                _typed_values(log_queue, ["account_id", "seq", "queued_at"])
            ),
            dialect,
        )
        self.insert_events = Prepared(
            sa.insert(events).values(_typed_values(events, [c.name for c in events.columns])),
            dialect,
        )

        self.inbound_outcome = Prepared(
            sa.select(messages.c.outcome).where(
                messages.c.account_id == _p("account", type_=sa.Integer),
                messages.c.provider_id == _p("pid", type_=sa.String),
                messages.c.direction == sa.literal_column("'in'"),
                messages.c.phone == _p("phone", type_=sa.String),
                messages.c.sender == _p("sender", type_=sa.String),
            ),
            dialect,
        )
        # A contact's recent texts, for the send caps and replies (send windows).
        m = messages
        contact_texts = (
            m.c.account_id == _p("account", type_=sa.Integer),
            m.c.phone == _p("phone", type_=sa.String),
        )
        self.sent_since = Prepared(
            sa.select(m.c.created_at).where(
                *contact_texts,
                m.c.direction == sa.literal_column("'out'"),
                m.c.campaign == _p("campaign", type_=sa.Boolean),
                m.c.reply == sa.false(),
                m.c.status != sa.literal_column("'failed'"),
                m.c.created_at > _p("since", type_=m.c.created_at.type),
            ),
            dialect,
        )
        self.last_inbound = Prepared(
            sa.select(sa.func.max(m.c.created_at)).where(
                *contact_texts, m.c.direction == sa.literal_column("'in'")
            ),
            dialect,
        )
        given = [c.name for c in messages.columns if c.name != "id" or not postgres]
        message = insert(messages, postgres).values(_typed_values(messages, given))
        unique = message.on_conflict_do_nothing(index_elements=["account_id", "provider_id"])
        if postgres:
            # The sequence numbers the message, unless its number was taken before
            # (Tx.messages.new_ids); the statement returns it.
            serial = sa.literal_column(_NEXT_MESSAGE_ID, sa.BigInteger)
            numbered = sa.func.coalesce(_p("id", type_=sa.BigInteger), serial)
            self.insert_inbound = Prepared(
                unique.values(id=numbered).returning(messages.c.id), dialect
            )
            self.insert_outbound = Prepared(
                message.values(id=numbered).returning(messages.c.id), dialect
            )
        else:
            # SQLite has no sequences: the transaction numbers its messages itself
            # (Tx.messages.new_ids); no RETURNING, which cost 3 µs an insert.
            self.insert_inbound = Prepared(unique, dialect)
            self.insert_outbound = Prepared(message, dialect)
        self.top_message_id = Prepared(
            sa.select(sa.func.max(messages.c.id)).where(
                messages.c.account_id == _p("account", type_=sa.Integer)
            ),
            dialect,
        )
        # PostgreSQL: numbers from the sequence, taken ahead of the inserts.
        self.message_ids = sa.text(f"SELECT {_NEXT_MESSAGE_ID} FROM generate_series(1, :count)")


_built: dict[str, Queries] = {}


def queries(dialect: Dialect) -> Queries:
    """The statements for ``dialect``, built on first use."""
    found = _built.get(dialect.name)
    if found is None:
        found = _built.setdefault(dialect.name, Queries(dialect))
    return found
