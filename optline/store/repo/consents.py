"""Written consent in the store: the consent language, kept once per version by its
SHA-256 (``consent_texts``); a contact's ``consent_recorded`` events, the records
themselves (the ledger holds them); and the opt-in confirmation a contact's YES may
answer (their last ``confirmation_requested``, unless a revocation came after it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from optline.domain.consent_codes import EventType
from optline.domain.written_consent import Pending, language_hash
from optline.store.ledger import utc
from optline.store.queries_prepared import insert
from optline.store.repo.base import Repository
from optline.store.rows import StoredEvent, json_object, stored_event
from optline.store.schema import consent_texts, events

# The events that end a confirmation's wait: a later one, a consent, a revocation.
_AFTER_ASKING = (
    EventType.CONFIRMATION_REQUESTED.value,
    EventType.CONSENT_RECORDED.value,
    EventType.OPTED_OUT.value,
    EventType.BLOCKED.value,
)


class Consents(Repository):
    __slots__ = ()

    def keep_texts(self, account_id: int, texts: Iterable[str], at: datetime) -> None:
        """Keep each consent text once, under its SHA-256."""
        self._tx.check_writable()
        rows = [
            {"account_id": account_id, "sha256": language_hash(t), "text": t, "created_at": utc(at)}
            for t in dict.fromkeys(texts)
        ]
        if rows:
            stmt = insert(consent_texts, self._postgres).on_conflict_do_nothing()
            self._conn.execute(stmt, rows)

    def texts(self, account_id: int, hashes: Iterable[str]) -> dict[str, str]:
        """SHA-256 -> text, for those of ``hashes`` the account keeps."""
        wanted = sorted(set(hashes))
        if not wanted:
            return {}
        ct = consent_texts
        stmt = sa.select(ct.c.sha256, ct.c.text).where(
            ct.c.account_id == account_id, ct.c.sha256.in_(wanted)
        )
        return {row.sha256: row.text for row in self._conn.execute(stmt)}

    def records(self, account_id: int, phone: str) -> list[StoredEvent]:
        """The contact's ``consent_recorded`` events, oldest first."""
        e = events
        stmt = (
            sa.select(e)
            .where(
                e.c.account_id == account_id,
                e.c.phone == phone,
                e.c.type == EventType.CONSENT_RECORDED.value,
            )
            .order_by(e.c.seq)
        )
        return [stored_event(row) for row in self._conn.execute(stmt)]

    def pending(self, account_id: int, phone: str) -> Pending | None:
        """The opt-in confirmation the contact was last asked for, unless a consent or a
        revocation has come since (its age is the caller's to judge)."""
        e = events
        stmt = (
            sa.select(e.c.type, e.c.data, e.c.occurred_at)
            .where(e.c.account_id == account_id, e.c.phone == phone, e.c.type.in_(_AFTER_ASKING))
            .order_by(e.c.seq.desc())
            .limit(1)
        )
        row = self._conn.execute(stmt).first()
        if row is None or row.type != EventType.CONFIRMATION_REQUESTED:
            return None
        data = json_object(row.data)
        return Pending(
            purpose=data["purpose"],
            language_sha256=data["language_sha256"],
            keyword=data.get("keyword", ""),
            list_name=data.get("list"),
            requested_at=row.occurred_at,
        )
