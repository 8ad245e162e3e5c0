"""The account's users under /v1, an admin's: listed with how many keys each holds and
the last changes made to them, added, disabled and enabled, given a new API key (in
the answer, once) and stripped of every key. Each change records the caller's key as
who made it (see :mod:`optline.domain.users`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from optline.api.deps import CheckedRoute, Manager, actor_of, engine_of, forbidden
from optline.api.problems import RESPONSES
from optline.api.views import user_change_view, user_view
from optline.domain.users import MAX_PASSWORD_CHARS, Access, Role
from optline.engine.users import MAX_USER_CHANGES
from optline.store import AccountRow

router = APIRouter(prefix="/v1", route_class=CheckedRoute, responses=RESPONSES, tags=["users"])

UserName = Annotated[str, Path(min_length=1, max_length=64, description="the user's name")]


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=64, description="lower-case letters, digits, . - _")
    role: Role = Role.AGENT
    password: str = Field(max_length=MAX_PASSWORD_CHARS, description="at least 8 characters")


@router.get("/users")
async def list_users(
    account: Manager,
    request: Request,
    changes: Annotated[int, Query(ge=1, le=MAX_USER_CHANGES)] = 100,
) -> dict[str, Any]:
    """The account's users in name order, each with how many API keys they hold, and
    the last ``changes`` changes made to users (who, how, when), newest first."""
    forbidden(account, Access.MANAGE)  # a list of users is an admin's, even to read
    engine = engine_of(request)
    rows = await run_in_threadpool(engine.users, account.id)
    done = await run_in_threadpool(engine.user_changes, account.id, changes)
    return {
        "users": [user_view(user, keys) for user, keys in rows],
        "changes": [user_change_view(c) for c in done],
    }


@router.post("/users", status_code=201)
async def add_user(body: NewUser, account: Manager, request: Request) -> dict[str, Any]:
    """Add an active user who signs in to the web UI with the password. 409 if the
    name is taken; 422 for a bad name or a short password."""
    user = await run_in_threadpool(
        engine_of(request).add_user,
        account.id,
        body.name,
        body.role,
        body.password,
        actor_of(account),
    )
    return user_view(user, 0)


@router.post("/users/{name}/keys", status_code=201)
async def issue_key(name: UserName, account: Manager, request: Request) -> dict[str, Any]:
    """A new API key for the user (their others stay): in this answer only, stored
    hashed. 422 for a disabled user."""
    key = await run_in_threadpool(
        engine_of(request).issue_user_key, account.id, name, actor_of(account)
    )
    return {"user": name.strip().lower(), "api_key": key}


@router.post("/users/{name}/disable")
async def disable_user(name: UserName, account: Manager, request: Request) -> dict[str, Any]:
    """Disable a user: they sign in no more, and their keys and sessions stop at once.
    404 for an unknown user."""
    return await _set_active(request, account, name, False)


@router.post("/users/{name}/enable")
async def enable_user(name: UserName, account: Manager, request: Request) -> dict[str, Any]:
    """Enable a disabled user again (keys revoked meanwhile stay revoked). 404 for an
    unknown user."""
    return await _set_active(request, account, name, True)


async def _set_active(
    request: Request, account: AccountRow, name: str, active: bool
) -> dict[str, Any]:
    user = await run_in_threadpool(
        engine_of(request).set_user_active, account.id, name, active, actor_of(account)
    )
    return user_view(user)


@router.delete("/users/{name}/keys")
async def revoke_keys(name: UserName, account: Manager, request: Request) -> dict[str, Any]:
    """Revoke every API key of the user, at once; ``revoked``: how many there were."""
    count = await run_in_threadpool(
        engine_of(request).revoke_user_keys, account.id, name, actor_of(account)
    )
    return {"user": name.strip().lower(), "revoked": count}
