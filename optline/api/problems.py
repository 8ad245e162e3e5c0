"""Errors as JSON problem details (RFC 9457) with a stable ``code``.

Every bad input is a 4xx that says what is wrong; a 5xx means a bug.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from optline.errors import (
    AlreadyExists,
    BadInput,
    ConfirmationRequired,
    CredentialsUnavailable,
    MissingField,
    NotAllowed,
    NotFound,
    OptlineError,
)
from optline.providers.base import PayloadError, SignatureError
from optline.store.database import CommitFailed

MEDIA_TYPE = "application/problem+json"

log = logging.getLogger("optline.api")


_STRING = {"type": "string"}
#: The JSON schema of a problem document: ``code`` is stable, ``detail`` is for people;
#: ``errors`` (request validation only) lists every field that is wrong.
_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "properties": {
        "type": _STRING,
        "title": _STRING,
        "status": {"type": "integer"},
        "code": _STRING,
        "detail": _STRING,
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": _STRING, "message": _STRING},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "code", "detail"],
}

_DESCRIPTIONS = {
    400: "Unreadable request (invalid JSON, not UTF-8)",
    401: "Missing or unknown API key",
    403: "Admin endpoints are disabled, or the key's role may not make this change",
    404: "Unknown contact, sender, list or path",
    409: "Conflicts with existing data, or refused by the account's policy",
    413: "Request body too large",
    422: "Invalid input: a field is missing, of the wrong type or not acceptable",
}
#: OpenAPI ``responses`` for every error a /v1 route can answer.
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {MEDIA_TYPE: {"schema": _SCHEMA}}}
    for status, text in _DESCRIPTIONS.items()
}

_STATUS: list[tuple[type[Exception], int]] = [
    (NotFound, 404),
    (AlreadyExists, 409),
    (NotAllowed, 409),
    (ConfirmationRequired, 409),
    (BadInput, 422),
    (SignatureError, 403),
    (PayloadError, 400),
    (OptlineError, 400),
]
_CODES: dict[type[Exception], str] = {
    SignatureError: "bad_signature",
    PayloadError: "bad_payload",
}


class Problem(Exception):
    """An HTTP error raised by the API layer itself (auth, size limits, ...)."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": code.replace("_", " "), "status": status}
    body.update(code=code, detail=detail, **extra)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def status_of(exc: Exception) -> tuple[int, str]:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            code = getattr(exc, "code", None) or _CODES.get(kind, "bad_request")
            return status, _CODES.get(kind, code)
    return 500, "internal_error"


def install(app: FastAPI) -> None:
    async def on_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem(exc.status, exc.code, exc.detail)

    async def on_domain(_: Request, exc: Exception) -> JSONResponse:
        status, code = status_of(exc)
        if isinstance(exc, ConfirmationRequired):
            return problem(status, code, str(exc), contacts_changed=exc.changes)
        if isinstance(exc, MissingField):
            return problem(status, code, str(exc), field=exc.field)
        return problem(status, code, str(exc))

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        for error in exc.errors():
            if error.get("type") == "json_invalid":
                reason = (error.get("ctx") or {}).get("error", "syntax error")
                position = error.get("loc", ("body", "?"))[-1]
                return problem(
                    400, "invalid_json", f"request body is not valid JSON: {reason} at {position}"
                )
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "", "message": "invalid request"}
        detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return problem(422, "invalid_request", detail, errors=errors)

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return problem(exc.status_code, code, str(exc.detail))

    async def on_commit_failed(request: Request, exc: Exception) -> JSONResponse:
        # The disk refused a group commit: nothing of this request was kept, and it may
        # be sent again (the provider retries a webhook that got no 2xx).
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return problem(503, "commit_failed", "the change could not be stored; retry later")

    async def on_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The service's set-up, not the request: OPTLINE_SECRET_KEY lacks the key that
        # sealed a stored secret. The request may be sent again once it is set.
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return problem(503, CredentialsUnavailable.code, str(exc))

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        # A bug: say so without details (they may hold request data), log the type.
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        return problem(500, "internal_error", "the server failed to handle this request")

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(OptlineError, on_domain)
    app.add_exception_handler(SignatureError, on_domain)
    app.add_exception_handler(PayloadError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(CommitFailed, on_commit_failed)
    app.add_exception_handler(CredentialsUnavailable, on_unavailable)
    app.add_exception_handler(Exception, on_crash)
