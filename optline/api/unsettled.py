"""Operator actions on one message under /v1: a send whose outcome nobody knows settled
by hand (and those sends counted), and a text's body redacted.

Listing them is ``GET /v1/messages?status=queued|sending`` (:mod:`optline.api.messages`);
reconciling them with the provider is ``optline messages reconcile``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from optline.api.deps import Account, CheckedRoute, Manager, actor_of, engine_of
from optline.api.problems import RESPONSES
from optline.api.schemas import OlderThan
from optline.api.views import message_view
from optline.domain.messages import MAX_REASON_CHARS, QUEUED_TOO_LONG_SECONDS, SettledAs, Via

router = APIRouter(prefix="/v1", route_class=CheckedRoute, responses=RESPONSES)


class Settlement(BaseModel):
    as_: SettledAs = Field(alias="as", description="how the send ended")
    reason: str = Field(
        min_length=1, max_length=MAX_REASON_CHARS, description="how you know (on the ledger)"
    )


@router.post("/messages/{message_id}/settle", tags=["messages"])
async def settle(
    message_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: Settlement,
    account: Account,
    request: Request,
) -> dict[str, Any]:
    """Settle by hand a send left ``queued`` or ``sending``, as ``sent`` or ``failed``:
    recorded with reason code ``settled_by_operator``, and a ``send_settled`` event on
    the contact's ledger naming the account whose key asked and the ``reason``. Any
    other message: 409 ``already_settled``."""
    row = await run_in_threadpool(
        engine_of(request).settle,
        account.id,
        message_id,
        body.as_,
        body.reason,
        actor_of(account).by,
        Via.API,
    )
    return message_view(row)


class RedactionRequest(BaseModel):
    reason: str = Field(
        min_length=1,
        max_length=MAX_REASON_CHARS,
        description="the request the redaction answers (on the ledger)",
    )


@router.post("/messages/{message_id}/redact", tags=["messages"])
async def redact(
    message_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: RedactionRequest,
    account: Manager,
    request: Request,
) -> dict[str, Any]:
    """Erase a text's body (a deletion request): a ``message_redacted`` event on the
    contact's ledger names the key that asked, the ``reason`` and the SHA-256 of the
    body erased; the chain and the contact's proof still verify. A body redacted
    already: 409 ``already_redacted``."""
    row = await run_in_threadpool(
        engine_of(request).redact_message, account.id, message_id, body.reason, actor_of(account)
    )
    return message_view(row)


@router.get("/stats", tags=["messages"])
async def stats(
    account: Account,
    request: Request,
    older_than: OlderThan = QUEUED_TOO_LONG_SECONDS,
) -> dict[str, Any]:
    """Sends whose outcome nobody knows, by status: every one ``sending``, and those
    ``queued`` for more than ``older_than`` seconds (default 300). Poll it to alert
    on sends a crash left behind."""
    counts = await run_in_threadpool(
        engine_of(request).unsettled_counts, account.id, timedelta(seconds=older_than)
    )
    return {
        "unsettled_sends": {status.value: count for status, count in counts.items()},
        "older_than": older_than,
    }
