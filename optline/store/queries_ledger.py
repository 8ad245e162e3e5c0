"""The statements of the consent ledger and the transparency log: events' numbers and
inserts, the queue of events waiting for the log, and the log's entries as verify
reads them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from optline.store.queries_prepared import Prepared, typed_values
from optline.store.schema import accounts, event_seq, events, log_entries, log_nodes, log_queue

_p = sa.bindparam


class LedgerQueries:
    def __init__(self, dialect: Dialect) -> None:
        # PostgreSQL: events' seqs from the deployment's sequence, taken ahead of the
        # inserts; SQLite: the account's top seq, counted on from there.
        next_seq = sa.func.nextval(sa.literal_column(f"'{event_seq.name}'"))
        seqs = sa.select(sa.func.array_agg(next_seq)).select_from(
            sa.func.generate_series(sa.literal_column("1"), _p("count", type_=sa.Integer))
        )
        self.event_seqs = Prepared(seqs, dialect)
        # PostgreSQL, a transaction's first append (under the shared lock on the
        # account's subscriptions, taken by the statement before): the subscriptions'
        # version and the seqs in one round trip.
        self.version_and_seqs = Prepared(
            sa.select(accounts.c.subscriptions_version, seqs.scalar_subquery()).where(
                accounts.c.id == _p("account", type_=sa.Integer)
            ),
            dialect,
        )
        self.top_event_seq = Prepared(
            sa.select(sa.func.max(events.c.seq)).where(
                events.c.account_id == _p("account", type_=sa.Integer)
            ),
            dialect,
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
        # The events waiting in the queue after a queue id, in the order they were
        # queued, a chunk at a time (verify hashes them all).
        q, e = log_queue, events
        self.queued_events = Prepared(
            sa.select(q.c.id, *e.c)  # the event's row as rows.driver_event reads it
            .select_from(q.join(e, sa.and_(e.c.account_id == q.c.account_id, e.c.seq == q.c.seq)))
            .where(q.c.id > _p("after", type_=sa.BigInteger))
            .order_by(q.c.id)
            .limit(_p("limit", type_=sa.Integer))
            .offset(sa.literal_column("0")),
            dialect,
        )
        self.queue_event = Prepared(
            sa.insert(log_queue).values(
                typed_values(log_queue, ["account_id", "seq", "queued_at"])
            ),
            dialect,
        )
        insert_events = sa.insert(events).values(
            typed_values(events, [c.name for c in events.columns])
        )
        self.insert_events = Prepared(insert_events, dialect)
        # PostgreSQL: an event inserted and queued for the log in one statement (the
        # queue's time is the event's).
        added = insert_events.returning(
            events.c.account_id, events.c.seq, events.c.occurred_at
        ).cte("added")
        self.insert_and_queue_event = Prepared(
            sa.insert(log_queue).from_select(
                ["account_id", "seq", "queued_at"],
                sa.select(added.c.account_id, added.c.seq, added.c.occurred_at),
            ),
            dialect,
        )
