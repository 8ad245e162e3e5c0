"""The REST API's message routes under /v1: the send (``POST /v1/messages``, a
raw-request route of the app's own: :func:`add_send_route`), a message, the unsettled
sends and broadcasts."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from optline.api.deps import (
    BEARER_SCHEME,
    Account,
    CheckedRoute,
    RawRequestRoute,
    account_of,
    actor_of,
    engine_of,
    json_body,
    validated,
)
from optline.api.problems import RESPONSES, Problem
from optline.api.schemas import PAGE_LIMIT, Broadcast, OlderThan, OutboundText
from optline.api.views import message_view, page_of
from optline.domain.messages import MessageStatus

router = APIRouter(prefix="/v1", route_class=CheckedRoute, responses=RESPONSES)


IDEMPOTENCY_KEY = "Idempotency-Key"
# Any visible ASCII, as header values carry it safely (a UUID is the usual choice).
_KEY_FORM = re.compile(r"[!-~]{1,255}")
# The send is a raw-request route, which takes no parameters: the header is read in the
# endpoint and documented here.
_IDEMPOTENCY_KEY_DOC = {
    "name": IDEMPOTENCY_KEY,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": "Makes a retry safe: the same request again with the same key sends"
    " nothing new and answers with the first request's message as it is now (header"
    " Idempotent-Replayed: true). The key with another request: 409.",
}


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is not None and not _KEY_FORM.fullmatch(key):
        raise Problem(
            422,
            "invalid_request",
            f"{IDEMPOTENCY_KEY}: 1 to 255 visible ASCII characters (a UUID, say)",
        )
    return key


async def send_message(request: Request) -> Response:
    """Decide, record and send through the sender's provider. A refused text is recorded
    as failed with its reason code and never reaches the provider."""
    data = await json_body(request)
    account = await account_of(request)
    text = validated(OutboundText, data)
    result = await engine_of(request).aio.send(
        account.id,
        text.from_,
        text.to,
        text.body,
        text.list_name,
        text.campaign,
        _idempotency_key(request),
        text.purpose,
        actor_of(account),
    )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return JSONResponse(result.as_dict(), headers=headers)


def add_send_route(app: FastAPI) -> None:
    """Serve the send from ``app`` itself, as the webhooks are: hit once per text, it is
    matched ahead of the included routers. A raw-request route, its endpoint reads,
    checks and validates the body as a body parameter would be, and its request body,
    key and header are documented here by hand."""
    app.router.add_api_route(
        f"{router.prefix}/messages",
        send_message,
        methods=["POST"],
        tags=["messages"],
        route_class_override=RawRequestRoute,
        response_model=dict[str, Any],
        responses=RESPONSES,
        openapi_extra={
            "parameters": [_IDEMPOTENCY_KEY_DOC],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": OutboundText.model_json_schema(by_alias=True)}
                },
            },
            "security": [{BEARER_SCHEME: []}],
        },
    )


@router.get("/messages", tags=["messages"])
async def list_unsettled_messages(
    account: Account,
    request: Request,
    status: Literal[MessageStatus.QUEUED, MessageStatus.SENDING],
    cursor: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="next_cursor of the previous page")
    ] = None,
    limit: int = Query(default=100, ge=1, le=PAGE_LIMIT),
    older_than: OlderThan = 0,
) -> dict[str, Any]:
    """Texts still ``queued`` (never handed to the provider) or ``sending`` (handed
    over, no answer recorded), oldest first, recorded more than ``older_than`` seconds
    ago; follow ``next_cursor`` for the next page. After a crash these are sends whose
    clients may have had no answer: the request repeated with its idempotency key sends
    one that never reached the provider; a ``sending`` one may have, so check it with
    the provider first (``optline messages reconcile``), or settle it
    (``POST /v1/messages/{id}/settle``)."""
    rows = await run_in_threadpool(
        engine_of(request).unsettled_messages,
        account.id,
        status,
        cursor or 0,
        limit + 1,
        timedelta(seconds=older_than),
    )
    page, last = page_of(rows, limit)
    return {
        "messages": [message_view(m) for m in page],
        "next_cursor": None if last is None else last.id,
    }


@router.get("/messages/{message_id}", tags=["messages"])
async def get_message(
    message_id: Annotated[int, Path(ge=1, le=2**63 - 1)], account: Account, request: Request
) -> dict[str, Any]:
    """One message, in or out, as it is now: the status a send has reached since
    (``delivered``, ``undelivered``, ... from the provider's reports)."""
    row = await run_in_threadpool(engine_of(request).message, account.id, message_id)
    return message_view(row)


@router.post("/broadcasts", tags=["messages"])
async def broadcast(body: Broadcast, account: Account, request: Request) -> dict[str, Any]:
    """One text to a list or to numbers (exactly one of them); per-recipient results."""
    results = await run_in_threadpool(
        engine_of(request).broadcast,
        account.name,
        body.from_,
        body.body,
        body.list_name,
        body.numbers,
        body.campaign,
        body.purpose,
        actor_of(account),
    )
    return {
        "results": [r.as_dict() for r in results],
        "sent": sum(r.status == MessageStatus.SENT for r in results),
        "refused": sum(r.status == MessageStatus.FAILED for r in results),
    }
