"""The statements of a contact's consent: its row and its scopes' child rows (per-sender
consent, list memberships, per-purpose consent), read, locked, written and marked with
the change that set them.

What belongs here: statements on the contact and its child rows by primary key, and
the contact's select with its scopes as JSON. What a send reads to decide is in
``queries_decisions``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from optline.store.queries_prepared import Prepared, insert, json_object, typed_values
from optline.store.schema import contacts, flags, memberships, purpose_consent, sender_consent

_p = sa.bindparam


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


class ContactQueries:
    def __init__(self, dialect: Dialect) -> None:
        postgres = dialect.name == "postgresql"
        contact = contact_select(postgres).where(
            contacts.c.account_id == _p("account"), contacts.c.phone == _p("phone")
        )
        self.contact = Prepared(contact, dialect)
        # NO KEY UPDATE: enough to serialise consent writers, and it does not conflict
        # with the KEY SHARE locks of foreign-key checks on child rows.
        self.lock_contact = Prepared(
            sa.select(contacts.c.phone)
            .where(
                contacts.c.account_id == _p("account", type_=sa.Integer),
                contacts.c.phone == _p("phone", type_=sa.String),
            )
            .with_for_update(key_share=True),
            dialect,
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
        row = typed_values(contacts, ("account_id", "phone", "created_at", *kept))
        self.claim_contact = Prepared(
            insert(contacts, postgres)
            .values(row)
            .on_conflict_do_nothing()
            .returning(contacts.c.phone),
            dialect,
        )
        upsert = insert(contacts, postgres).values(row)
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
        # The contact's open review flags, oldest first (an opt-out closes those it covers).
        self.open_flags = Prepared(
            sa.select(flags)
            .where(
                flags.c.account_id == _p("account", type_=sa.Integer),
                flags.c.phone == _p("phone", type_=sa.String),
                flags.c.resolved_seq.is_(None),
            )
            .order_by(flags.c.seq),
            dialect,
        )
        self.sender_consent = KeyValueRows(sender_consent, "sender", "status", postgres)
        self.memberships = KeyValueRows(memberships, "list_name", "subscribed", postgres)
        self.purpose_consent = KeyValueRows(purpose_consent, "purpose", "status", postgres)
        # How, when and by which event a change set a scope's status (projection).
        marks = typed_values(contacts, ("method", "since", "event_seq"))
        self.mark_account = Prepared(
            sa.update(contacts)
            .where(contacts.c.account_id == _p("account"), contacts.c.phone == _p("phone"))
            .values(marks),
            dialect,
        )
        self.mark_sender = _mark_scope(sender_consent, "sender", marks, dialect)
        self.mark_purpose = _mark_scope(purpose_consent, "purpose", marks, dialect)


def _mark_scope(
    table: sa.Table, key: str, marks: dict[str, sa.BindParameter[Any]], dialect: Dialect
) -> Prepared:
    """The update of one scope's row of ``table`` (a sender's or a purpose's consent,
    named by its ``key`` column) to the marks of the change that set it."""
    return Prepared(
        sa.update(table)
        .where(
            table.c.account_id == _p("account"),
            table.c.phone == _p("phone"),
            table.c[key] == _p(key),
        )
        .values(marks),
        dialect,
    )
