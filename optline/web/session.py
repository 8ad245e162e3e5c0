"""The web UI's sessions and the checks every posted form passes: who is signed in
(the session the cookie's token opened, and the account as its user acts in it), what
their role allows, and a posted form refused when it comes from another site, lacks
the session's form token (CSRF) or is a change the role may not make. The pages that
use them, and the sign-in form itself, are :mod:`.pages`'.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import FormData

from optline.api.deps import engine_of, storable
from optline.domain.actors import DEFAULT_KEY_NAME, Actor
from optline.domain.messages import Via
from optline.domain.users import Access, Role, refusal
from optline.engine import Engine
from optline.store import AccountRow
from optline.store.rows import UiSession

COOKIE = "optline_ui_session"
#: The sign-in form's own token (CSRF), as a cookie that the form repeats.
LOGIN_COOKIE = "optline_ui_login"
#: The form field, or the header of a script's request, that carries the form token.
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """No session in the cookie: the page sends the browser to the sign-in form."""


class FormRefused(Exception):
    """A posted form refused before anything is done with it."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def session_of(request: Request) -> UiSession | None:
    """The session this request's cookie opened (once ``_account_or_none`` looked)."""
    session: UiSession | None = getattr(request.state, "ui_session", None)
    return session


async def _signed_in(request: Request, access: Access = Access.READ) -> tuple[Engine, AccountRow]:
    """The engine and the account as the signed-in user acts in it; the sign-in form
    without a session, a 403 page when the user's role does not allow ``access``."""
    account = await _account_or_none(request)
    if account is None:
        raise SignInRequired
    _require(account, access)
    return engine_of(request), account


async def _account_or_none(request: Request) -> AccountRow | None:
    token = request.cookies.get(COOKIE)
    session = await engine_of(request).aio.ui_session(token) if token else None
    request.state.ui_session = session
    return None if session is None else session.account


def _allows(account: AccountRow, access: Access) -> bool:
    return refusal(account.role, access) is None


def _require(account: AccountRow, access: Access) -> None:
    why = refusal(account.role, access)
    if why is not None:
        role = (account.role or Role.READ_ONLY).value.replace("_", " ")
        who = f"{account.api_key_name} ({role})"
        raise FormRefused(403, f"Signed in as {who}: {why[0].upper()}{why[1:]}.")


async def _form(request: Request, access: Access = Access.CONTACTS) -> FormData:
    """The posted form of a signed-in page (:func:`_same_site_form`), with only text
    that every database stores (its size was checked as it was read)."""
    return _text_only(await _same_site_form(request, access))


def _text_only(form: FormData) -> FormData:
    """``form``, refused with 422 when a field is not text that every database stores."""
    for name, value in form.multi_items():
        if not isinstance(value, str) or not storable(value):
            raise FormRefused(422, f"The field {name!r} is not text that can be stored.")
    return form


async def _same_site_form(request: Request, access: Access = Access.CONTACTS) -> FormData:
    """The posted form (files too) of a signed-in page: refused when it comes from
    another site (the cookie is SameSite=Strict too; this also covers browsers that
    ignore that), when it lacks the session's form token, and when the signed-in
    user's role does not allow ``access``. ``_signed_in`` has found the session."""
    form = await _site_form(request)
    session = session_of(request)
    if session is None or not _token_matches(request, form, session.csrf):
        raise FormRefused(403, _STALE_FORM)
    _require(session.account, access)
    return form


_STALE_FORM = (
    "This form's security token is missing or out of date, so it was not carried out"
    " (the token keeps other sites from posting forms as you). Open the page again"
    " and send the form from there."
)


async def _site_form(request: Request) -> FormData:
    """The posted form, refused when it comes from another site."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise FormRefused(403, "This form came from another site.")
    return await request.form()


def _token_matches(request: Request, form: FormData, expected: str) -> bool:
    """The form token given (in the form, or a script's header) is ``expected``."""
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not given:
        given = request.headers.get(CSRF_HEADER, "")
    # Constant-time: the comparison must not tell how much of the token matched.
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def _actor(account: AccountRow) -> Actor:
    """Who makes a change in the UI: the signed-in user (``user:<name>``), or the name
    of the API key the session was opened with."""
    return Actor(account.api_key_name or DEFAULT_KEY_NAME, Via.UI)
