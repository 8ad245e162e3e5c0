"""The consent ledger under /v1: the account's events checked, a contact's proof, and
the signed event webhooks (subscriptions) that publish its events. The review queue is
in ``review``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from optline.api.deps import Account, CheckedRoute, Manager, engine_of
from optline.api.problems import RESPONSES
from optline.api.schemas import NewSubscription, Phone

router = APIRouter(prefix="/v1", route_class=CheckedRoute, responses=RESPONSES)


@router.get("/ledger/verify", tags=["ledger"])
async def verify(account: Account, request: Request) -> dict[str, Any]:
    """The account's every event and contact checked; and the transparency log's size,
    newest checkpoint and how many of the account's events wait for it (checking the log
    itself is ``optline ledger verify``'s, for the deployment)."""
    engine = engine_of(request)
    (result,) = await run_in_threadpool(engine.verify, account.name)
    log = await run_in_threadpool(engine.log_status, account.name)
    return {
        "ok": result.ok,
        "checked": result.checked,
        "first_bad_seq": result.first_bad_seq,
        "contact": result.contact,
        "message": result.message,
        "problem": result.problem,
        "log": {"size": log.size, "pending": log.pending, "checkpoint": log.checkpoint},
    }


@router.get("/contacts/{phone}/proof", tags=["ledger"])
async def proof(phone: Phone, account: Account, request: Request) -> dict[str, Any]:
    """The contact's events with their chain hashes; check offline with
    ``optline ledger check-proof FILE``."""
    return await run_in_threadpool(engine_of(request).proof, account.name, phone)


@router.post("/subscriptions", status_code=201, tags=["event webhooks"])
async def subscribe(body: NewSubscription, account: Manager, request: Request) -> dict[str, Any]:
    """Signed event webhooks; the signing secret is returned once."""
    sub_id, secret = await run_in_threadpool(
        engine_of(request).add_subscription, account.name, body.url, body.events
    )
    return {"id": sub_id, "url": body.url, "events": body.events, "secret": secret}


@router.get("/subscriptions", tags=["event webhooks"])
async def subscriptions(account: Account, request: Request) -> dict[str, Any]:
    rows = await run_in_threadpool(engine_of(request).subscriptions, account.name)
    return {"subscriptions": [{"id": r.id, "url": r.url, "events": r.events} for r in rows]}
