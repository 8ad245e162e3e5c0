"""Lists and keyword triggers under /v1: the account's lists and their members, and
the keywords that reply and subscribe or unsubscribe a contact."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from optline.api.deps import Account, CheckedRoute, Manager, actor_of, engine_of
from optline.api.problems import RESPONSES
from optline.api.schemas import NewList, NewTrigger, Numbers, Phone
from optline.api.views import contact_view, list_view

router = APIRouter(prefix="/v1", route_class=CheckedRoute, responses=RESPONSES)


@router.post("/lists", status_code=201, tags=["lists"])
async def create_list(body: NewList, account: Manager, request: Request) -> dict[str, Any]:
    row = await run_in_threadpool(
        engine_of(request).create_list, account.name, body.name, body.opt_out_keyword, body.purpose
    )
    return list_view(row)


@router.get("/lists", tags=["lists"])
async def lists(account: Account, request: Request) -> dict[str, Any]:
    rows = await run_in_threadpool(engine_of(request).lists, account.name)
    return {"lists": [list_view(r) for r in rows]}


@router.post("/lists/{name}/members", tags=["lists"])
async def add_members(
    name: str, body: Numbers, account: Account, request: Request
) -> dict[str, Any]:
    count = await run_in_threadpool(
        engine_of(request).add_to_list, account.name, name, body.numbers, actor_of(account)
    )
    return {"subscribed": count}


@router.delete("/lists/{name}/members/{phone}", tags=["lists"])
async def remove_member(
    name: str, phone: Phone, account: Account, request: Request
) -> dict[str, Any]:
    state = await run_in_threadpool(
        engine_of(request).unsubscribe, account.name, name, phone, actor_of(account)
    )
    return contact_view(state)


@router.post("/triggers", status_code=201, tags=["triggers"])
async def add_trigger(body: NewTrigger, account: Manager, request: Request) -> dict[str, Any]:
    trigger = await run_in_threadpool(
        engine_of(request).add_trigger,
        account.name,
        body.keyword,
        body.reply,
        body.unsubscribe_list,
        body.subscribe_list,
        body.confirm_purpose,
    )
    return {"keyword": trigger.keyword.upper(), "reply": trigger.reply}


@router.get("/triggers", tags=["triggers"])
async def triggers(account: Account, request: Request) -> dict[str, Any]:
    rows = await run_in_threadpool(engine_of(request).triggers, account.name)
    return {
        "triggers": [
            {
                "keyword": t.keyword.upper(),
                "reply": t.reply,
                "unsubscribe_list": t.unsubscribe_list,
                "subscribe_list": t.subscribe_list,
                "confirm_purpose": t.confirm_purpose,
            }
            for t in rows
        ]
    }
