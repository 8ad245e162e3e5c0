"""The users page under ``/ui/users``, an admin's: the account's users (name, role,
whether active, when added and by whom, last sign-in, how many keys), a form to add
one, and on each a button to disable or enable them, to issue a new API key (shown
this once) and to revoke all their keys; and who made the last changes to users."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from optline.domain.users import Access, Role
from optline.errors import OptlineError
from optline.web.pages import PREFIX, _failed, _page, _redirect, _text, router
from optline.web.session import _actor, _form, _signed_in

#: The most recent changes to users the page lists.
_CHANGES_SHOWN = 50


@router.get("/users")
async def users(request: Request) -> Response:
    engine, account = await _signed_in(request, Access.MANAGE)
    rows = await run_in_threadpool(engine.users, account.id)
    changes = await run_in_threadpool(engine.user_changes, account.id, _CHANGES_SHOWN)
    done = request.query_params.get("done")
    return _page(
        request,
        "users.html",
        account=account,
        users=rows,
        roles=list(Role),
        changes=changes,
        done=done,
    )


@router.post("/users")
async def add_user(request: Request) -> Response:
    engine, account = await _signed_in(request, Access.MANAGE)
    form = await _form(request, Access.MANAGE)
    password = form.get("password")
    try:
        user = await run_in_threadpool(
            engine.add_user,
            account.id,
            _text(form, "name"),
            _text(form, "role"),
            password if isinstance(password, str) else "",
            _actor(account),
        )
    except OptlineError as exc:
        return _failed(request, account, exc)
    return _done(f"User {user.name} added as {user.role.value.replace('_', ' ')}")


@router.post("/users/{name}/{action}")
async def change_user(request: Request, name: str, action: str) -> Response:
    engine, account = await _signed_in(request, Access.MANAGE)
    await _form(request, Access.MANAGE)
    try:
        if action in ("disable", "enable"):
            user = await run_in_threadpool(
                engine.set_user_active, account.id, name, action == "enable", _actor(account)
            )
            return _done(f"User {user.name} {action}d")
        if action == "revoke-keys":
            count = await run_in_threadpool(
                engine.revoke_user_keys, account.id, name, _actor(account)
            )
            return _done(f"{count} API key(s) of {name} revoked")
        if action == "key":
            key = await run_in_threadpool(engine.issue_user_key, account.id, name, _actor(account))
            # Shown this once, as the CLI and the account's own key are.
            return _page(request, "user_key.html", account=account, holder=name, key=key)
    except OptlineError as exc:
        return _failed(request, account, exc)
    return _page(request, "error.html", 404, account, error=f"No action {action!r}.")


def _done(message: str) -> Response:
    return _redirect(f"{PREFIX}/users?{urlencode({'done': message})}")
