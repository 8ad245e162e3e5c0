"""An account's senders (numbers, providers and their sealed credentials), its lists
and its triggers: everything an inbound keyword or a send is matched against. Adding
a list or a trigger moves the account's ``keywords_version``. Re-sealing stored
secrets (senders' credentials and subscriptions' signing secrets) is here too."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from optline.domain.consent import Trigger
from optline.domain.policy import SenderKind
from optline.store.repo.accounts import Accounts
from optline.store.repo.base import Repository
from optline.store.rows import ListRow, SenderRow, sender_row
from optline.store.schema import lists, senders, subscriptions, triggers


class Senders(Repository):
    __slots__ = ()

    def add(
        self,
        account_id: int,
        number: str,
        kind: SenderKind,
        provider: str | None = None,
        credentials: Mapping[str, str] | None = None,
        provider_replies: bool = False,
    ) -> SenderRow:
        self._tx.check_writable()
        sealer = self._tx.sealer
        values = {
            "account_id": account_id,
            "number": number,
            "kind": kind.value,
            "provider": provider,
            "credentials": sealer.seal_credentials(credentials or {}),
            "provider_replies": provider_replies,
        }
        self._tx.insert_or_conflict(senders, values, f"sender {number}")
        return SenderRow(
            account_id, number, kind, provider, dict(credentials or {}), provider_replies
        )

    def get(self, number: str) -> SenderRow | None:
        """The sender with this number, whichever account it belongs to."""
        row = self._conn.execute(self._q.sender, {"number": number}).first()
        return None if row is None else sender_row(row, self._tx.sealer)

    def of_account(self, account_id: int) -> list[SenderRow]:
        stmt = (
            sa.select(senders).where(senders.c.account_id == account_id).order_by(senders.c.number)
        )
        return [sender_row(r, self._tx.sealer) for r in self._conn.execute(stmt)]

    def of_provider(self, provider: str) -> list[SenderRow]:
        """Every sender, in any account, that uses ``provider``."""
        stmt = sa.select(senders).where(senders.c.provider == provider)
        rows = self._conn.execute(stmt.order_by(senders.c.number))
        return [sender_row(r, self._tx.sealer) for r in rows]

    def reseal_secrets(self) -> int:
        """Seal every stored secret again with the first configured key (those stored
        as given, or sealed with an older key): senders' credentials and event-webhook
        subscriptions' signing secrets; returns how many rows were written."""
        self._tx.check_writable()
        sealer = self._tx.sealer
        written = 0
        for row in self._conn.execute(sa.select(senders.c.number, senders.c.credentials)).all():
            sealed = sealer.seal_credentials(sealer.open_credentials(row.credentials))
            self._conn.execute(
                sa.update(senders).where(senders.c.number == row.number).values(credentials=sealed)
            )
            written += 1
        s = subscriptions
        for sub in self._conn.execute(sa.select(s.c.account_id, s.c.id, s.c.secret)).all():
            sealed_secret = sealer.seal_text(sealer.open_text(sub.secret))
            self._conn.execute(
                sa.update(s)
                .where(s.c.account_id == sub.account_id, s.c.id == sub.id)
                .values(secret=sealed_secret)
            )
            written += 1
        return written

    # -- lists and triggers (the account's keywords) -----------------------------------

    def create_list(
        self, account_id: int, name: str, opt_out_keyword: str | None, purpose: str | None = None
    ) -> ListRow:
        self._tx.check_writable()
        values = {
            "account_id": account_id,
            "name": name,
            "opt_out_keyword": opt_out_keyword,
            "purpose": purpose,
        }
        what = f"list {name!r}" + (f" or keyword {opt_out_keyword!r}" if opt_out_keyword else "")
        self._tx.insert_or_conflict(lists, values, what)
        Accounts(self._tx).keywords_changed(account_id)
        return ListRow(account_id, name, opt_out_keyword, purpose)

    def lists(self, account_id: int) -> list[ListRow]:
        rows = self._conn.execute(self._q.lists, {"account": account_id})
        return [ListRow(r.account_id, r.name, r.opt_out_keyword, r.purpose) for r in rows]

    def add_trigger(self, account_id: int, trigger: Trigger) -> None:
        self._tx.check_writable()
        values = {
            "account_id": account_id,
            "keyword": trigger.keyword,
            "reply": trigger.reply,
            "unsubscribe_list": trigger.unsubscribe_list,
            "subscribe_list": trigger.subscribe_list,
            "confirm_purpose": trigger.confirm_purpose,
        }
        self._tx.insert_or_conflict(triggers, values, f"trigger {trigger.keyword!r}")
        Accounts(self._tx).keywords_changed(account_id)

    def triggers(self, account_id: int) -> list[Trigger]:
        rows = self._conn.execute(self._q.triggers, {"account": account_id})
        return [
            Trigger(r.keyword, r.reply, r.unsubscribe_list, r.subscribe_list, r.confirm_purpose)
            for r in rows
        ]
