"""Request helpers shared by the routers: the engine, settings, body limits, auth."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Final, TypeVar

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError

from optline.api.problems import Problem
from optline.domain import inputs
from optline.domain.actors import DEFAULT_KEY_NAME, Actor
from optline.domain.messages import Via
from optline.domain.users import Access, refusal
from optline.engine import Engine
from optline.settings import Settings
from optline.store import AccountRow


def engine_of(request: Request) -> Engine:
    """The app's engine (``app.state.engine``, set by ``create_app``)."""
    engine: Engine = request.app.state.engine
    return engine


def settings_of(request: Request) -> Settings:
    """The app's settings (``app.state.settings``)."""
    settings: Settings = request.app.state.settings
    return settings


#: The most an inbound text's webhook request may take, whatever ``max_body_bytes``
#: says: the longest text accepted (``MAX_INBOUND_CHARS``) at 12 bytes a character,
#: as Twilio's form encodes a 4-byte UTF-8 character (``%F0%9F%98%80``) and JSON
#: escapes one (``\ud83d\ude00``), and 64 KiB for the rest of the payload.
INBOUND_BODY_BYTES = 12 * inputs.MAX_INBOUND_CHARS + 64 * 1024


#: The most a CSV import uploaded through the web UI may take, whatever
#: ``max_body_bytes`` says (a bulk JSON request's limit): ``optline contacts import``
#: reads a file of any size, and 16 MiB is about 300,000 rows of
#: ``phone,status,lists,evidence``, imported in one transaction.
UPLOAD_BODY_BYTES = 16 * 1024 * 1024


def inbound_body_limit(settings: Settings) -> int:
    """The body size limit of the provider webhooks, which carry inbound texts."""
    return max(settings.max_body_bytes, INBOUND_BODY_BYTES)


async def read_body(request: Request, limit: int | None = None) -> bytes:
    """The raw body, refused with 413 past ``limit`` bytes (by default the configured
    ``max_body_bytes``), checked while reading."""
    if limit is None:
        limit = settings_of(request).max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, "body_too_large", f"request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # raises ClientDisconnect on a disconnect
        size += len(chunk)
        if size > limit:
            raise Problem(413, "body_too_large", f"request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


# A JSON escape for NUL or for a UTF-16 surrogate (not itself escaped by a backslash).
_SUSPECT_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def storable(text: str) -> bool:
    """Text that every database stores: no NUL, no unpaired surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _all_storable(value: Any) -> bool:
    # A loop, not recursion: a body nested nearly as deep as the parser allows must not
    # exhaust the stack here.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not storable(item):
                return False
        elif isinstance(item, dict):
            if not all(storable(key) for key in item):
                return False
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def _invalid_json(reason: str) -> Problem:
    return Problem(400, "invalid_json", f"request body is not valid JSON: {reason}")


def parse_json(body: str | bytes) -> Any:
    """The body as JSON, or the 400 ``invalid_json`` problem: for a syntax error, and
    for what the parser refuses past its limits (nesting deeper than the interpreter's
    recursion limit, an integer of more than 4300 digits)."""
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise _invalid_json(f"{exc.msg} at {exc.pos}") from None
    except RecursionError:
        raise _invalid_json("arrays or objects nested too deeply") from None
    except ValueError:
        raise _invalid_json("a number has too many digits") from None


def check_json_body(body: bytes, content_type: str | None) -> None:
    """Refuse JSON that is not UTF-8, or whose strings no database can store.

    Python's JSON parser would accept UTF-16 and encoded surrogates, and JSON escapes
    can spell NUL or half a surrogate pair; PostgreSQL refuses all of them, so they
    are bad input here rather than a database error later.
    """
    if not body or (content_type is not None and "json" not in content_type.lower()):
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem(
            400, "invalid_utf8", f"request body is not valid UTF-8 (byte {exc.start})"
        ) from None
    if _SUSPECT_ESCAPE.search(text) is None:
        return
    if not _all_storable(parse_json(text)):
        raise Problem(422, "bad_text", "text contains a NUL character or an unpaired surrogate")


#: What :func:`json_body` gives for a request without a body.
NO_BODY: Final = object()


async def json_body(request: Request) -> Any:
    """The body of a raw-request route as JSON, read and refused just as a FastAPI body
    parameter's is on a :class:`CheckedRoute` (413, 400 invalid UTF-8 or JSON, 422
    unstorable text); :data:`NO_BODY` when there is none, and the bytes themselves when
    the content type is not JSON (:func:`validated` refuses both)."""
    body = await read_body(request)
    content_type = request.headers.get("content-type")
    check_json_body(body, content_type)
    if not body:
        return NO_BODY
    if not is_json_type(content_type):
        return body
    return parse_json(body)


_JSON_TYPE = re.compile(r"application/(?:[\w.+-]+\+)?json", re.IGNORECASE)


def is_json_type(content_type: str | None) -> bool:
    """Whether a body of this content type is parsed as JSON (as FastAPI decides)."""
    return content_type is not None and bool(
        _JSON_TYPE.fullmatch(content_type.split(";")[0].strip())
    )


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: Any) -> M:
    """``data`` (from :func:`json_body`) as ``model``, or the 422 that FastAPI answers
    for a body parameter, every wrong field named under ``body``."""
    if data is NO_BODY:
        missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
        raise RequestValidationError([missing])
    try:
        # Attributes mode, as FastAPI validates a body: the same error for a non-object.
        return model.model_validate(data, from_attributes=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


class CheckedRoute(APIRoute):
    """A route that reads its body within the size limit and refuses, before any
    parsing, bodies and parameters that are not storable text."""

    def body_limit(self, settings: Settings) -> int:
        """The most this route's request body may take."""
        return settings.max_body_bytes

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            for name, value in [*request.path_params.items(), *request.query_params.items()]:
                if isinstance(value, str) and not storable(value):
                    raise Problem(422, "bad_text", f"{name}: contains a NUL character")
            if request.method in ("POST", "PUT", "PATCH"):
                body = await read_body(request, self.body_limit(settings_of(request)))
                content_type = request.headers.get("content-type")
                check_json_body(body, content_type)
                # The route takes the body already read, and parsed: FastAPI's own
                # parsing answers a body past the parser's limits with a vague 400.
                request._body = body
                if body and is_json_type(content_type):
                    request._json = parse_json(body)
            return await handler(request)

        return checked


class UploadRoute(CheckedRoute):
    """A :class:`CheckedRoute` that takes a file upload: its body may take
    :data:`UPLOAD_BODY_BYTES` (or ``max_body_bytes`` where that is more)."""

    def body_limit(self, settings: Settings) -> int:
        return max(settings.max_body_bytes, UPLOAD_BODY_BYTES)


RawEndpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class RawRequestRoute(APIRoute):
    """A route whose endpoint takes the bare ``Request`` and returns a ``Response``:
    through FastAPI's ``get_route_handler`` hook the endpoint is the request handler
    itself, without FastAPI's per-request dependency solving and validation (the
    provider webhooks and the send, hit once per text). Its parameters and body are
    documented by hand, through the route's OpenAPI extras."""

    def get_route_handler(self) -> RawEndpoint:
        d = self.dependant
        takes_more = (
            d.path_params,
            d.query_params,
            d.header_params,
            d.cookie_params,
            d.body_params,
            d.dependencies,
        )
        if d.request_param_name is None or any(takes_more):
            raise TypeError(f"{self.path}: the endpoint must take the Request alone")
        handler: RawEndpoint = self.endpoint
        return handler


#: The name of the API's bearer-key scheme in the OpenAPI document.
BEARER_SCHEME = "HTTPBearer"
_BEARER = {
    "scheme_name": BEARER_SCHEME,
    "description": "The account's API key, a user's own API key, or the admin key.",
}
_bearer = HTTPBearer(auto_error=False, **_BEARER)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class _AccountKey(HTTPBearer):
    """The bearer scheme (the same in the OpenAPI document), resolved straight to the
    account whose API key is presented as ``Authorization: Bearer <key>``: a dependency
    of the routes, and awaited by a raw-request route itself (``account_of``).

    The key's holder is the account's admin (its own key) or one of its users (their
    key, their role): a request that changes something is refused with 403 unless
    the role allows ``writes`` (:func:`optline.domain.users.refusal`); reads are
    everyone's."""

    def __init__(self, writes: Access) -> None:
        super().__init__(auto_error=False, **_BEARER)
        self.writes = writes

    async def __call__(self, request: Request) -> AccountRow:  # type: ignore[override]
        credentials = await super().__call__(request)
        if credentials is None:
            raise Problem(401, "unauthorized", "missing API key (Authorization: Bearer <key>)")
        engine = engine_of(request)
        account = await engine.aio.account_for_key(credentials.credentials)
        if account is None:
            raise Problem(401, "unauthorized", "unknown API key")
        access = Access.READ if request.method in ("GET", "HEAD") else self.writes
        forbidden(account, access)
        return account


def forbidden(account: AccountRow, access: Access) -> None:
    """403 ``forbidden`` naming who and why, unless the role ``account`` was found
    with allows ``access`` (none found: read only)."""
    why = refusal(account.role, access)
    if why is not None:
        raise Problem(403, "forbidden", f"{account.api_key_name}: {why}")


async def require_admin(request: Request, credentials: Credentials) -> None:
    admin_key = settings_of(request).admin_key
    if admin_key is None:
        raise Problem(403, "admin_disabled", "no admin key is configured (OPTLINE_ADMIN_KEY)")
    presented = credentials.credentials if credentials else ""
    # Constant-time: the comparison must not reveal how much of the key matched.
    if not hmac.compare_digest(presented.encode(), admin_key.encode()):
        raise Problem(401, "unauthorized", "admin key required")


def actor_of(account: AccountRow) -> Actor:
    """Who makes a change through the API: the name of the key the request presented."""
    return Actor(account.api_key_name or DEFAULT_KEY_NAME, Via.API)


#: The account of the request's API key (401 without one; 403 for a change its
#: holder's role may not make): a dependency, or awaited directly by a raw-request route.
account_of = _AccountKey(Access.CONTACTS)
Account = Annotated[AccountRow, Depends(account_of)]
#: The same for a route that changes the account's set-up: its changes are an admin's.
Manager = Annotated[AccountRow, Depends(_AccountKey(Access.MANAGE))]
Admin = Depends(require_admin)
