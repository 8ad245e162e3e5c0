"""AsyncEngine: the engine's operations awaited from an event loop, as the API and the
web pages call them."""

from __future__ import annotations

import asyncio

from account_support import HELP_CONTACT

from optline.domain.messages import MessageStatus
from optline.engine import Engine
from optline.store import Store

ACME = "acme"
A = "+14155550100"
BOB = "+14155552671"


def test_the_async_operations_do_what_the_engine_does(store: Store) -> None:
    engine = Engine(store)
    _, key = engine.create_account_with_key(ACME, overrides=HELP_CONTACT)
    engine.add_sender(ACME, A, provider="generic", credentials={"secret": "s" * 32})
    engine.opt_in(ACME, BOB, "booked online")  # the default profile needs consent on record
    aio = engine.aio
    assert engine.aio is aio  # one per engine

    async def scenario() -> None:
        account = await aio.account_for_key(key)
        assert account is not None and account.name == ACME
        assert await aio.account_for_key("ol_unknown") is None
        sender = await aio.sender(A)
        assert sender is not None and sender.account_id == account.id
        assert [s.number for s in await aio.senders_of_provider("generic")] == [A]

        sent = await aio.send(account.id, A, BOB, "Your table is ready")
        assert (sent.allowed, sent.status) == (True, MessageStatus.SENT)
        await aio.delivery_report(account.id, A, "P1", BOB, "delivered", None, False)

        inbound = await aio.receive(account.id, BOB, A, "STOP", provider_id="SM1")
        assert (inbound.intent, inbound.status) == ("opt_out", "opted_out")
        refused = await aio.send(account.id, A, BOB, "Hello again")
        assert (refused.allowed, refused.status, refused.reason) == (
            False,
            MessageStatus.FAILED,
            "opted_out",
        )

    asyncio.run(scenario())
    _, messages = engine.history(ACME, BOB)
    assert [m.status for m in messages].count(MessageStatus.FAILED) == 1
