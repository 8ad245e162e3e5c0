"""The review queue under /v1: replies flagged as possible opt-outs, listed newest first
in keyset pages with the exact count of open flags, and each resolved by the caller's
key as an opt-out or as no revocation (see :mod:`optline.domain.review`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from optline.api.deps import Account, CheckedRoute, actor_of, engine_of
from optline.api.problems import RESPONSES
from optline.domain import inputs
from optline.domain.review import Resolution
from optline.engine import MAX_FLAG_PAGE, MAX_SEQ

router = APIRouter(prefix="/v1", route_class=CheckedRoute, responses=RESPONSES)

FlagSeq = Annotated[int, Path(ge=1, le=MAX_SEQ, description="the flag's event seq")]


class OptOutResolution(BaseModel):
    note: str | None = Field(default=None, max_length=inputs.MAX_NOTE_CHARS)


class Dismissal(BaseModel):
    reason: str = Field(
        min_length=1,
        max_length=inputs.MAX_NOTE_CHARS,
        description="why the reply is not a revocation (on the ledger)",
    )


@router.get("/review", tags=["review"])
async def review(
    account: Account,
    request: Request,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_SEQ, description="the previous page's `next`")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_FLAG_PAGE)] = 200,
) -> dict[str, Any]:
    """Open flags (possible opt-outs waiting for review), newest first. ``open`` is the
    exact number of open flags; ``next``, when not null, is the ``before`` of the next
    page."""
    page = await run_in_threadpool(engine_of(request).flagged, account.id, before, limit)
    return {"flagged": [f.as_dict() for f in page.flags], "next": page.next, "open": page.open}


@router.post("/review/{seq}/opt-out", tags=["review"])
async def resolve_as_opt_out(
    seq: FlagSeq, account: Account, request: Request, body: OptOutResolution | None = None
) -> dict[str, Any]:
    """The flagged reply was a revocation: opt the contact out as that reply would have
    (from its sender, in the policy's scope); the ``opted_out`` event names the flag and
    the key. 409 ``already_resolved`` if the flag is resolved already."""
    note = body.note if body else None
    flag = await run_in_threadpool(
        engine_of(request).resolve_flag,
        account.id,
        seq,
        Resolution.OPTED_OUT,
        actor_of(account),
        note,
    )
    return flag.as_dict()


@router.post("/review/{seq}/dismiss", tags=["review"])
async def dismiss(
    seq: FlagSeq, body: Dismissal, account: Account, request: Request
) -> dict[str, Any]:
    """The flagged reply was not a revocation: a ``flag_dismissed`` event records the
    key and the ``reason``; consent stays as it was."""
    flag = await run_in_threadpool(
        engine_of(request).resolve_flag,
        account.id,
        seq,
        Resolution.DISMISSED,
        actor_of(account),
        body.reason,
    )
    return flag.as_dict()
