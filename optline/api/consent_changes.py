"""Consent changed by the account under /v1: a contact opted out or in (everywhere,
from a sender, of a purpose), blocked and unblocked, and many numbers opted out at once.
Written consent with its language is in ``consents``, a number change in ``moves``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from optline.api.deps import Account, CheckedRoute, actor_of, engine_of
from optline.api.problems import RESPONSES
from optline.api.schemas import Numbers, OptInBody, OptOutBody, Phone
from optline.api.views import contact_view

router = APIRouter(prefix="/v1", route_class=CheckedRoute, responses=RESPONSES)


@router.post("/contacts/{phone}/opt-out", tags=["consent"])
async def opt_out(
    phone: Phone, account: Account, request: Request, body: OptOutBody | None = None
) -> dict[str, Any]:
    """Opt out: everywhere, from one ``sender``, or of one ``purpose`` (from every
    sender)."""
    body = body or OptOutBody()
    state = await run_in_threadpool(
        engine_of(request).opt_out,
        account.name,
        phone,
        body.sender,
        body.note,
        actor_of(account),
        body.purpose,
    )
    return contact_view(state)


@router.post("/contacts/{phone}/opt-in", tags=["consent"])
async def opt_in(
    phone: Phone, body: OptInBody, account: Account, request: Request
) -> dict[str, Any]:
    """Opt in, where the policy allows it; ``evidence`` says who/when/how, ``method``
    whether it was given by hand (``manual``) or on a web form (``web_form``); with
    ``purpose``, to that purpose alone."""
    state = await run_in_threadpool(
        engine_of(request).opt_in,
        account.name,
        phone,
        body.evidence,
        body.sender,
        body.method,
        actor_of(account),
        body.purpose,
    )
    return contact_view(state)


@router.post("/contacts/{phone}/block", tags=["consent"])
async def block(phone: Phone, account: Account, request: Request) -> dict[str, Any]:
    block = engine_of(request).block
    return contact_view(
        await run_in_threadpool(block, account.name, phone, None, actor_of(account))
    )


@router.post("/contacts/{phone}/unblock", tags=["consent"])
async def unblock(phone: Phone, account: Account, request: Request) -> dict[str, Any]:
    unblock = engine_of(request).unblock
    state = await run_in_threadpool(unblock, account.name, phone, None, actor_of(account))
    return contact_view(state)


@router.post("/opt-outs", tags=["consent"])
async def bulk_opt_out(body: Numbers, account: Account, request: Request) -> dict[str, Any]:
    """Opt out many numbers in one transaction: all of them, or none on a bad number."""
    count = await run_in_threadpool(
        engine_of(request).bulk_opt_out, account.name, body.numbers, actor_of(account)
    )
    return {"opted_out": count}
