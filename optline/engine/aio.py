"""The engine's operations for an event loop: :class:`AsyncEngine`.

How an operation runs is the engine's business, not its callers': the API and the web
pages await these and never reach into the store. A write joins the loop turn's group
commit (:meth:`optline.store.Store.write_grouped`: on SQLite one sync to disk for every
write of the turn), a short look-up runs on the loop (:meth:`optline.store.Store.lookup`),
and a provider's network time runs on a worker thread, off the loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio.to_thread

from optline.domain.actors import Actor
from optline.engine.context import AccountRef
from optline.engine.results import InboundResult, SendResult
from optline.store import AccountRow, SenderRow
from optline.store.rows import UiSession

if TYPE_CHECKING:
    from optline.engine import Engine


class AsyncEngine:
    """An :class:`~optline.engine.Engine`'s operations, awaited (``engine.aio``)."""

    __slots__ = ("_engine",)

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def account_for_key(self, key: str) -> AccountRow | None:
        """The account whose API key this is (one indexed look-up)."""
        engine = self._engine
        return await engine.store.lookup(engine.account_for_key, key)

    async def ui_session(self, token: str) -> UiSession | None:
        """The web UI session of this cookie's token, while it holds (one look-up)."""
        engine = self._engine
        return await engine.store.lookup(engine.ui_session, token)

    async def sender(self, number: str) -> SenderRow | None:
        """The registered sender with this number, in any account (webhook routing)."""
        engine = self._engine
        return await engine.store.lookup(engine.sender, number)

    async def senders_of_provider(self, provider: str) -> list[SenderRow]:
        """Every registered sender of ``provider`` (to check a webhook that names none),
        read on a worker thread."""
        return await anyio.to_thread.run_sync(self._engine.senders_of_provider, provider)

    async def send(
        self,
        account: AccountRef,
        sender: str,
        to: str,
        body: str,
        list_name: str | None = None,
        campaign: bool = False,
        idempotency_key: str | None = None,
        purpose: str | None = None,
        actor: Actor | None = None,
    ) -> SendResult:
        """:meth:`Engine.send <optline.engine.Engine.send>`: decided and recorded in
        the loop's group commit, then handed to the provider on a worker thread (a
        text that goes to no provider is answered on the loop)."""
        engine = self._engine
        pending = await engine.store.write_grouped(
            engine.decide_send,
            account,
            sender,
            to,
            body,
            list_name,
            campaign,
            idempotency_key,
            purpose,
            actor,
        )
        if engine.dispatches(pending):  # a provider's API: network time, off the loop
            return await anyio.to_thread.run_sync(engine.deliver, pending)
        return engine.deliver(pending)

    async def receive(
        self,
        account: AccountRef,
        from_: str,
        to: str,
        body: str,
        provider_id: str | None = None,
        provider_replied: bool = False,
        reply_by_api: bool = False,
        provider_keyword: str | None = None,
    ) -> InboundResult:
        """:meth:`Engine.receive <optline.engine.Engine.receive>`, in the loop's group
        commit."""
        engine = self._engine
        return await engine.store.write_grouped(
            engine.receive,
            account,
            from_,
            to,
            body,
            provider_id,
            provider_replied,
            reply_by_api,
            provider_keyword,
        )

    async def delivery_report(
        self,
        account: AccountRef,
        sender: str,
        provider_id: str,
        to: str,
        status: str,
        error_code: str | None,
        opted_out: bool,
        reply_id: int | None = None,
        account_ref: str | None = None,
    ) -> None:
        """:meth:`Engine.delivery_report <optline.engine.Engine.delivery_report>`, in
        the loop's group commit."""
        engine = self._engine
        await engine.store.write_grouped(
            engine.delivery_report,
            account,
            sender,
            provider_id,
            to,
            status,
            error_code,
            opted_out,
            reply_id,
            account_ref,
        )

    async def dispatch_recorded(
        self, sender: SenderRow, to: str, body: str, message_id: int
    ) -> tuple[str, str | None, str | None]:
        """:meth:`Engine.dispatch_recorded <optline.engine.Engine.dispatch_recorded>` (a
        reply recorded queued, handed to the provider) on a worker thread."""
        return await anyio.to_thread.run_sync(
            self._engine.dispatch_recorded, sender, to, body, message_id
        )
