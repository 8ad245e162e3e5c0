"""Request helpers shared by the routers: the engine, settings, body limits, auth."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from optline.api.problems import Problem
from optline.engine import Engine
from optline.store import AccountRow

if TYPE_CHECKING:
    from optline.api.app import Settings


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def read_body(request: Request) -> bytes:
    """The raw body, refused with 413 past the configured size (checked while reading)."""
    limit = settings_of(request).max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "body_too_large", f"request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "body_too_large", f"request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


_bearer = HTTPBearer(auto_error=False, description="The account's API key, or the admin key.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def current_account(request: Request, credentials: Credentials) -> AccountRow:
    """The account whose API key is presented as ``Authorization: Bearer <key>``."""
    if credentials is None:
        raise Problem(401, "unauthorized", "missing API key (Authorization: Bearer <key>)")
    account = await run_in_threadpool(engine_of(request).account_for_key, credentials.credentials)
    if account is None:
        raise Problem(401, "unauthorized", "unknown API key")
    return account


async def require_admin(request: Request, credentials: Credentials) -> None:
    admin_key = settings_of(request).admin_key
    if admin_key is None:
        raise Problem(403, "admin_disabled", "no admin key is configured (OPTLINE_ADMIN_KEY)")
    presented = credentials.credentials if credentials else ""
    # Constant-time: the comparison must not reveal how much of the key matched.
    if not hmac.compare_digest(presented.encode(), admin_key.encode()):
        raise Problem(401, "unauthorized", "admin key required")


Account = Annotated[AccountRow, Depends(current_account)]
Admin = Depends(require_admin)
