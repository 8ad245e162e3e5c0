"""The statements of texts: inbound and outbound inserts with their ids (a sequence on
PostgreSQL, the transaction's own numbering on SQLite), an inbound text's outcome for
duplicate webhooks, and a contact's recent texts for the send caps and replies.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from optline.store.queries_prepared import Prepared, insert, typed_values
from optline.store.schema import messages

_p = sa.bindparam

# PostgreSQL: the next number of the messages' id sequence.
_NEXT_MESSAGE_ID = "nextval(pg_get_serial_sequence('messages', 'id'))"


class MessageQueries:
    def __init__(self, dialect: Dialect) -> None:
        postgres = dialect.name == "postgresql"
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
        message = insert(messages, postgres).values(typed_values(messages, given))
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
        self.message_ids = Prepared(
            sa.text(f"SELECT {_NEXT_MESSAGE_ID} FROM generate_series(1, :count)").bindparams(
                _p("count", type_=sa.Integer)
            ),
            dialect,
        )
