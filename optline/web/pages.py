"""Server-rendered pages under ``/ui``: sign in (a user's name and password, or an
API key) and out, look up a contact's consent and history, change it, and ask whether
a text may be sent; and what every page module shares: the router, the templates, a
page rendered, the error pages.

A sign-in opens a session kept in the database (:meth:`Engine.sign_in`); the browser
holds only its random token, in an HttpOnly, SameSite=Strict cookie scoped to ``/ui``.
Forms are plain POSTs, each carrying the session's form token (CSRF), checked with the
signed-in user's role by :mod:`.session`; the sign-in form carries a token of its own,
in a cookie and in the form. Every page reads and writes through the same engine calls
as the REST API, so the same rules and errors apply.
"""

from __future__ import annotations

import inspect
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, FastAPI, Request
from jinja2 import Environment, PackageLoader, pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from optline.api.deps import CheckedRoute, engine_of
from optline.api.problems import Problem, status_of
from optline.domain.actors import Actor
from optline.domain.consent import ContactState
from optline.domain.projection import provider_blocks
from optline.domain.users import Access
from optline.engine import Engine
from optline.engine.consents import given_at
from optline.errors import OptlineError
from optline.store import AccountRow
from optline.web.may_text import may_text
from optline.web.session import (
    _STALE_FORM,
    COOKIE,
    CSRF_FIELD,
    LOGIN_COOKIE,
    FormRefused,
    SignInRequired,
    _account_or_none,
    _actor,
    _allows,
    _form,
    _signed_in,
    _site_form,
    _text_only,
    _token_matches,
    session_of,
)

PREFIX = "/ui"
PAGE_SIZE = 50

# CheckedRoute: bodies within the size limit, no NUL in paths and queries (as the API).
router = APIRouter(prefix=PREFIX, include_in_schema=False, route_class=CheckedRoute)
templates = Jinja2Templates(env=Environment(loader=PackageLoader("optline.web"), autoescape=True))


@pass_context
def _csrf_field(context: Context) -> Markup:
    """The hidden field with the form token, for every posted form's template."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        CSRF_FIELD, context.get("csrf") or ""
    )


templates.env.globals["csrf_field"] = _csrf_field


def install(app: FastAPI) -> None:
    """Add the pages, their static files and their error handling to ``app``."""
    app.include_router(router)
    static = Path(__file__).parent / "static"
    app.mount(f"{PREFIX}/static", StaticFiles(directory=static), name="ui-static")

    async def to_sign_in(request: Request, _: Exception) -> Response:
        return _redirect(f"{PREFIX}/login")

    async def refuse(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FormRefused)
        session = session_of(request)
        account = None if session is None else session.account
        return _page(request, "error.html", exc.status, account, error=str(exc))

    app.add_exception_handler(SignInRequired, to_sign_in)
    app.add_exception_handler(FormRefused, refuse)
    # Errors the API answers as problem JSON (no such page, a form's URL opened with
    # GET, a body over the size limit, a crash) are pages of their own under /ui.
    for kind in (StarletteHTTPException, Problem, Exception):
        app.add_exception_handler(kind, _as_page(app.exception_handlers[kind]))


_Handler = Callable[[Request, Any], Response | Awaitable[Response]]
#: What an error page says instead of the problem's own words, by status.
_PLAIN = {
    404: "There is no such page.",
    405: "This address answers a form: open it from its page instead.",
}


def _as_page(problem_json: _Handler) -> _Handler:
    """``problem_json`` for the API; for a page under /ui, the same status and detail
    on an HTML page (the detail is one the API would show, so it is safe to show)."""

    async def handle(request: Request, exc: Exception) -> Response:
        answer = problem_json(request, exc)
        response = await answer if inspect.isawaitable(answer) else answer
        if request.url.path != PREFIX and not request.url.path.startswith(f"{PREFIX}/"):
            return response
        detail = str(orjson.loads(response.body).get("detail", ""))
        code = response.status_code
        account = await _account_or_none(request) if code < 500 else None
        heading = "Page not found" if code == 404 else None
        error = _PLAIN.get(code, detail)
        return _page(request, "error.html", code, account, error=error, heading=heading)

    return handle


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _page(
    request: Request,
    name: str,
    code: int = 200,
    account: AccountRow | None = None,
    **context: Any,
) -> Response:
    session = session_of(request)
    shown = {
        "account": account,
        "csrf": session.csrf if session is not None and account is not None else None,
        "role": account.role if account is not None else None,
        "manages": account is not None and _allows(account, Access.MANAGE),
        # A read-only user is shown no form the server would refuse them.
        "works": account is not None and _allows(account, Access.CONTACTS),
        **context,
    }
    return templates.TemplateResponse(request, name, shown, status_code=code)


def _failed(request: Request, account: AccountRow, exc: OptlineError) -> Response:
    code, _ = status_of(exc)
    return _page(request, "error.html", code, account, error=str(exc))


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# -- signing in ---------------------------------------------------------------------------


@router.get("/login")
async def login_form(request: Request) -> Response:
    return _login_page(request)


def _login_page(request: Request, code: int = 200, **context: Any) -> Response:
    """The sign-in form, its token in the form and in its cookie (the browser's one
    kept, so that two sign-in pages open at once both work)."""
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    response = _page(request, "login.html", code, csrf=token, **context)
    _set_cookie(request, response, LOGIN_COOKIE, token)
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    secure = request.url.scheme == "https"
    response.set_cookie(name, value, path=PREFIX, httponly=True, samesite="strict", secure=secure)


@router.post("/login")
async def login(request: Request) -> Response:
    """A user's name and password (and their account's name), or an API key."""
    form = _text_only(await _site_form(request))
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not _token_matches(request, form, expected):
        return _login_page(request, 403, error=_STALE_FORM)
    engine = engine_of(request)
    key, name = _text(form, "key"), _text(form, "user")
    password = form.get("password")
    if key:
        token = await run_in_threadpool(engine.sign_in_with_key, key)
        error = "That API key belongs to no account or active user."
    elif name and isinstance(password, str) and password:
        account = _text(form, "account")
        token = await run_in_threadpool(engine.sign_in, account, name, password)
        error = "That account, user name and password do not match an active user."
    else:
        token, error = None, "Give your account, user name and password, or an API key."
    if token is None:
        asked = {"asked_account": _text(form, "account"), "asked_user": name}
        return _login_page(request, 401, error=error, **asked)
    response = _redirect(f"{PREFIX}/")
    _set_cookie(request, response, COOKIE, token)
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Ends the session (anyone signed in may: a read-only user too)."""
    if await _account_or_none(request) is not None:
        await _form(request, Access.READ)
        token = request.cookies.get(COOKIE, "")
        await run_in_threadpool(engine_of(request).sign_out, token)
    response = _redirect(f"{PREFIX}/login")
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


# -- pages --------------------------------------------------------------------------------


@router.get("/contacts/{phone}")
async def contact(request: Request, phone: str) -> Response:
    engine, account = await _signed_in(request)
    try:
        state = await run_in_threadpool(engine.contact, account.id, phone)
        events, messages = await run_in_threadpool(engine.history, account.id, phone)
        records = await run_in_threadpool(
            engine.records, account.id, [state.phone] if state else []
        )
        consents = await run_in_threadpool(engine.consents, account.id, phone)
        purposes = await run_in_threadpool(engine.purposes, account.id)
    except OptlineError as exc:
        return _failed(request, account, exc)
    if state is None:
        return _page(request, "error.html", 404, account, error=f"No contact {phone}.")
    return _page(
        request,
        "contact.html",
        account=account,
        contact=state,
        record=records[state.phone],
        status=state.status_from(None),
        purposes=purposes,
        # Opt-outs a provider keeps wider than optline's record of them (Telnyx's, per
        # messaging profile, under per-sender consent): shown, since they drift.
        provider_blocks=provider_blocks((e.type, e.data) for e in events),
        events=list(reversed(events)),
        messages=list(reversed(messages)),
        consents=[c.as_dict() for c in consents],
        done=request.query_params.get("done"),
        may_text=await may_text(engine, account, state.phone),
    )


@router.post("/contacts/{phone}/{action}")
async def change(request: Request, phone: str, action: str) -> Response:
    engine, account = await _signed_in(request)
    form = await _form(request)
    note = _text(form, "note") or None
    actor = _actor(account)
    purpose = _text(form, "purpose") or None  # none: every purpose
    try:
        if action == "opt-out":
            state = await run_in_threadpool(
                engine.opt_out, account.id, phone, None, note, actor, purpose
            )
        elif action == "opt-in":
            evidence = _text(form, "evidence") or None
            state = await run_in_threadpool(
                engine.opt_in, account.id, phone, evidence, None, actor=actor, purpose=purpose
            )
        elif action == "consent":
            state = await _record_consent(engine, account, phone, form, actor)
        elif action == "block":
            state = await run_in_threadpool(engine.block, account.id, phone, note, actor)
        elif action == "unblock":
            state = await run_in_threadpool(engine.unblock, account.id, phone, note, actor)
        elif action == "move":  # to the contact's new number, whose page comes next
            to, evidence = _text(form, "to"), _text(form, "evidence") or None
            replace_history = form.get("replace_history") == "on"
            moved = engine.move_contact
            _, state = await run_in_threadpool(
                moved, account.id, phone, to, evidence, replace_history, actor
            )
        else:
            return _page(request, "error.html", 404, account, error=f"No action {action!r}.")
    except OptlineError as exc:
        return _failed(request, account, exc)
    return _redirect(f"{PREFIX}/contacts/{state.phone}?{urlencode({'done': action})}")


async def _record_consent(
    engine: Engine, account: AccountRow, phone: str, form: FormData, actor: Actor
) -> ContactState:
    """The written-consent form: its time is UTC, as the page says."""
    optional = {name: _text(form, name) or None for name in ("url", "form_id", "ip", "user_agent")}
    await run_in_threadpool(
        engine.record_consent,
        account.id,
        phone,
        _text(form, "language"),
        given_at(_text(form, "given_at"), UTC),
        _text(form, "purpose") or None,
        actor=actor,
        **optional,
    )
    found = await run_in_threadpool(engine.contact, account.id, phone)
    assert found is not None  # it has just been opted in
    return found


@router.get("/purposes")
async def purposes(request: Request) -> Response:
    """The account's purposes, and a form to add one of its own."""
    engine, account = await _signed_in(request)
    names = await run_in_threadpool(engine.purposes, account.id)
    done = request.query_params.get("done")
    return _page(request, "purposes.html", account=account, purposes=names, done=done)


@router.post("/purposes")
async def add_purpose(request: Request) -> Response:
    engine, account = await _signed_in(request)
    form = await _form(request, Access.MANAGE)
    try:
        name = await run_in_threadpool(engine.add_purpose, account.id, _text(form, "name"))
    except OptlineError as exc:
        return _failed(request, account, exc)
    return _redirect(f"{PREFIX}/purposes?{urlencode({'done': name})}")


@router.get("/check")
async def check(request: Request) -> Response:
    """May this text be sent? The same decision as a send (``POST /v1/messages``: its
    list, campaign and purpose too), recording nothing."""
    engine, account = await _signed_in(request)
    params = request.query_params
    senders = await run_in_threadpool(engine.senders, account.id)
    lists = await run_in_threadpool(engine.lists, account.id)
    purposes = await run_in_threadpool(engine.purposes, account.id)
    fields = ("sender", "to", "body", "list", "purpose", "campaign")
    asked = {name: params.get(name, "").strip() for name in fields}
    decision = None
    if asked["sender"] and asked["to"]:
        try:
            decision = await run_in_threadpool(
                engine.check,
                account.id,
                asked["sender"],
                asked["to"],
                asked["body"],
                asked["list"] or None,
                bool(asked["campaign"]),
                asked["purpose"] or None,
            )
        except OptlineError as exc:
            return _failed(request, account, exc)
    return _page(
        request,
        "check.html",
        account=account,
        senders=senders,
        lists=[row.name for row in lists],
        purposes=purposes,
        asked=asked,
        decision=decision,
    )
