"""An account and its settings under /v1: the account itself (created with the admin
key), its senders, its policy (profile and overrides) and its purposes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from optline.api.deps import Account, Admin, CheckedRoute, Manager, actor_of, engine_of
from optline.api.problems import RESPONSES
from optline.api.schemas import NewAccount, NewPurpose, NewSender, PolicyChange
from optline.api.views import account_view, policy_view, sender_view

router = APIRouter(prefix="/v1", route_class=CheckedRoute, responses=RESPONSES)


@router.post("/accounts", status_code=201, dependencies=[Admin], tags=["accounts"])
async def create_account(body: NewAccount, request: Request) -> dict[str, Any]:
    """Create an account (admin key). The API key is returned once; only its hash is kept."""
    row, key = await run_in_threadpool(
        engine_of(request).create_account_with_key,
        body.name,
        body.profile,
        body.overrides,
        body.key_name,
    )
    return {"account": account_view(row), "api_key": key}


@router.get("/account", tags=["accounts"])
async def get_account(account: Account) -> dict[str, Any]:
    """The caller's account, and who the key speaks for: ``key`` (the name its changes
    are recorded under: the key's name, or ``user:<name>``) and its ``role``."""
    assert account.role is not None  # found by a key: the key's holder's role
    return {**account_view(account), "key": account.api_key_name, "role": account.role.value}


@router.post("/senders", status_code=201, tags=["senders"])
async def add_sender(body: NewSender, account: Manager, request: Request) -> dict[str, Any]:
    row = await run_in_threadpool(
        engine_of(request).add_sender,
        account.name,
        body.number,
        body.kind,
        body.provider,
        body.credentials,
        body.provider_replies,
    )
    return sender_view(row)


@router.get("/senders", tags=["senders"])
async def list_senders(account: Account, request: Request) -> dict[str, Any]:
    rows = await run_in_threadpool(engine_of(request).senders, account.name)
    return {"senders": [sender_view(r) for r in rows]}


@router.get("/policy", tags=["policy"])
async def get_policy(account: Account, request: Request) -> dict[str, Any]:
    policy = await run_in_threadpool(engine_of(request).policy, account.name)
    return policy_view(account, policy)


@router.put("/policy", tags=["policy"])
async def set_policy(
    body: PolicyChange, account: Manager, request: Request, confirm: bool = False
) -> dict[str, Any]:
    """Switch profile and/or replace the field overrides.

    A switch from per-sender to account scope opts every contact opted out of any
    sender out of the account; when it would change any contact it is refused (409
    ``confirmation_required``, with ``contacts_changed``) unless ``?confirm=true``."""
    change = await run_in_threadpool(
        engine_of(request).set_policy,
        account.name,
        body.profile,
        body.overrides,
        confirm,
        actor_of(account),
    )
    row = await run_in_threadpool(engine_of(request).account, account.name)
    return {
        "profile": row.profile,
        "overrides": row.overrides,
        "contacts_changed": change.contacts_changed,
    }


# -- contacts ---------------------------------------------------------------------------


@router.get("/purposes", tags=["purposes"])
async def purposes(account: Account, request: Request) -> dict[str, Any]:
    """The account's purposes: ``marketing``, ``informational``, then its own."""
    names = await run_in_threadpool(engine_of(request).purposes, account.name)
    return {"purposes": list(names)}


@router.post("/purposes", status_code=201, tags=["purposes"])
async def add_purpose(body: NewPurpose, account: Manager, request: Request) -> dict[str, Any]:
    """Add a purpose of the account's own (``appointment_reminders``)."""
    name = await run_in_threadpool(engine_of(request).add_purpose, account.name, body.name)
    return {"name": name}
