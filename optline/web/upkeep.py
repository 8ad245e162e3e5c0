"""The pages that keep the record right, under ``/ui``: replies flagged for review
and their resolution, sends whose outcome nobody knows and settling them by hand, and
the ledger's verification. They add their routes to the pages' router
(:mod:`optline.web.pages`) and read and write through the same engine calls as the API.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from optline.domain.messages import QUEUED_TOO_LONG, SettledAs, Via
from optline.domain.review import Resolution
from optline.errors import OptlineError
from optline.web.pages import PAGE_SIZE, PREFIX, _failed, _page, _redirect, _text, router
from optline.web.session import FormRefused, _actor, _form, _signed_in


@router.get("/review")
async def review(request: Request) -> Response:
    """The open flags, newest first, a page at a time, each with its two resolutions."""
    engine, account = await _signed_in(request)
    before = request.query_params.get("before", "")
    start = int(before) if before.isascii() and before.isdigit() and len(before) < 10 else None
    page = await run_in_threadpool(engine.flagged, account.id, start, PAGE_SIZE)
    texts = await run_in_threadpool(engine.flagged_texts, account.id, page.flags)
    more = None if page.next is None else f"{PREFIX}/review?{urlencode({'before': page.next})}"
    return _page(
        request,
        "review.html",
        account=account,
        page=page,
        texts=texts,
        more=more,
        done=request.query_params.get("done"),
    )


_RESOLUTIONS = {"opt-out": Resolution.OPTED_OUT, "dismiss": Resolution.DISMISSED}


@router.post("/review/{seq}/{action}")
async def resolve(request: Request, seq: str, action: str) -> Response:
    engine, account = await _signed_in(request)
    form = await _form(request)
    resolution = _RESOLUTIONS.get(action)
    if resolution is None or not (seq.isascii() and seq.isdigit() and len(seq) < 10):
        return _page(request, "error.html", 404, account, error="No such flag or action.")
    try:
        flag = await run_in_threadpool(
            engine.resolve_flag,
            account.id,
            int(seq),
            resolution,
            _actor(account),
            _text(form, "reason") or None,
        )
    except OptlineError as exc:
        return _failed(request, account, exc)
    done = f"{flag.phone}: flag {flag.seq} resolved ({flag.resolution})."
    return _redirect(f"{PREFIX}/review?{urlencode({'done': done})}")


@router.get("/unsettled")
async def unsettled(request: Request) -> Response:
    """Sends whose outcome nobody knows, each with a form to settle it by hand."""
    engine, account = await _signed_in(request)
    sends = await run_in_threadpool(engine.unsettled_sends, account.id, QUEUED_TOO_LONG, PAGE_SIZE)
    counts = await run_in_threadpool(engine.unsettled_counts, account.id)
    return _page(
        request,
        "unsettled.html",
        account=account,
        sends=sends,
        counts=counts,
        queued_minutes=_minutes(),
        choices=list(SettledAs),
        done=request.query_params.get("done"),
    )


@router.post("/unsettled/{message_id}")
async def settle(request: Request, message_id: str) -> Response:
    engine, account = await _signed_in(request)
    form = await _form(request)
    if not (message_id.isascii() and message_id.isdigit() and 0 < int(message_id) < 2**63):
        return _page(request, "error.html", 404, account, error=f"No message {message_id!r}.")
    settled_as = _text(form, "as")
    if settled_as not in set(SettledAs):
        raise FormRefused(422, "Say whether the text was sent or not.")
    try:
        row = await run_in_threadpool(
            engine.settle,
            account.id,
            int(message_id),
            SettledAs(settled_as),
            _text(form, "reason"),
            _actor(account).by,
            Via.UI,
        )
    except OptlineError as exc:
        return _failed(request, account, exc)
    done = f"#{row.id} to {row.phone} settled as {row.status}."
    return _redirect(f"{PREFIX}/unsettled?{urlencode({'done': done})}")


def _minutes() -> int:
    return int(QUEUED_TOO_LONG.total_seconds() // 60)


@router.get("/ledger/verify")
async def verify(request: Request) -> Response:
    """Reads only, so a GET: the verdict page can be reloaded or bookmarked."""
    engine, account = await _signed_in(request)
    (result,) = await run_in_threadpool(engine.verify, account.id)
    log = await run_in_threadpool(engine.log_status, account.id)
    return _page(request, "ledger.html", account=account, result=result, log=log)
