"""The work pages: lists and their members, triggers, senders (credentials are
write-only: their names are shown, never their values), the effective policy with the
origin of each field, event-webhook subscriptions with their delivery status, the CSV
import (all rows or none, every bad row named by its line) and the suppression list's
CSV export (the API's and the CLI's file)."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from optline import contacts_csv
from optline.api.deps import UploadRoute
from optline.domain.consent_codes import Status
from optline.domain.policy import SenderKind
from optline.domain.policy_overrides import effective_fields
from optline.domain.users import Access
from optline.engine import SUBSCRIBABLE
from optline.errors import BadInput, BadRows, OptlineError
from optline.providers.registry import PROVIDERS
from optline.web.pages import PREFIX, _failed, _page, _redirect, _text, router
from optline.web.session import FormRefused, _actor, _form, _same_site_form, _signed_in

#: Bad rows of an import listed on its page; a count stands for the rest.
IMPORT_PROBLEMS_SHOWN = 200


@router.get("/lists")
async def lists(request: Request) -> Response:
    engine, account = await _signed_in(request)
    rows = await run_in_threadpool(engine.lists, account.id)
    return _page(request, "lists.html", account=account, lists=rows, done=_done(request))


@router.post("/lists")
async def create_list(request: Request) -> Response:
    engine, account = await _signed_in(request)
    form = await _form(request, Access.MANAGE)
    name, keyword = _text(form, "name"), _text(form, "opt_out_keyword") or None
    try:
        await run_in_threadpool(engine.create_list, account.id, name, keyword)
    except OptlineError as exc:
        return _failed(request, account, exc)
    return _redirect(f"{PREFIX}/lists?done=List+{name}+created")


@router.get("/triggers")
async def triggers(request: Request) -> Response:
    engine, account = await _signed_in(request)
    rows = await run_in_threadpool(engine.triggers, account.id)
    names = [row.name for row in await run_in_threadpool(engine.lists, account.id)]
    return _page(
        request, "triggers.html", account=account, triggers=rows, lists=names, done=_done(request)
    )


@router.post("/triggers")
async def add_trigger(request: Request) -> Response:
    engine, account = await _signed_in(request)
    form = await _form(request, Access.MANAGE)
    keyword = _text(form, "keyword")
    try:
        await run_in_threadpool(
            engine.add_trigger,
            account.id,
            keyword,
            _text(form, "reply"),
            _text(form, "unsubscribe_list") or None,
            _text(form, "subscribe_list") or None,
        )
    except OptlineError as exc:
        return _failed(request, account, exc)
    return _redirect(f"{PREFIX}/triggers?done=Trigger+{keyword.upper()}+added")


@router.get("/senders")
async def senders(request: Request) -> Response:
    engine, account = await _signed_in(request)
    rows = await run_in_threadpool(engine.senders, account.id)
    return _page(
        request,
        "senders.html",
        account=account,
        senders=rows,
        kinds=list(SenderKind),
        providers=sorted(PROVIDERS),
        done=_done(request),
    )


@router.post("/senders")
async def add_sender(request: Request) -> Response:
    engine, account = await _signed_in(request)
    form = await _form(request, Access.MANAGE)
    number = _text(form, "number")
    try:
        credentials = _credentials(_text(form, "credentials"))
        await run_in_threadpool(
            engine.add_sender,
            account.id,
            number,
            _text(form, "kind") or SenderKind.LONG_CODE,
            _text(form, "provider") or None,
            credentials,
            form.get("provider_replies") == "on",
        )
    except OptlineError as exc:
        return _failed(request, account, exc)
    return _redirect(f"{PREFIX}/senders?done=Sender+{number}+added")


def _credentials(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines (as ``optline senders add --credential``) as a mapping."""
    found: dict[str, str] = {}
    for line in filter(None, (line.strip() for line in text.splitlines())):
        key, equals, value = line.partition("=")
        if not equals or not key.strip():
            raise BadInput("credentials: give one KEY=VALUE a line")
        found[key.strip()] = value.strip()
    return found


@router.get("/policy")
async def policy(request: Request) -> Response:
    engine, account = await _signed_in(request)
    effective = await run_in_threadpool(engine.policy, account.id)
    fields = effective_fields(effective, account.overrides)
    return _page(request, "policy.html", account=account, fields=fields)


@router.get("/subscriptions")
async def subscriptions(request: Request) -> Response:
    engine, account = await _signed_in(request)
    rows = await run_in_threadpool(engine.subscriptions, account.id)
    deliveries = await run_in_threadpool(engine.deliveries, account.id)
    return _page(
        request,
        "subscriptions.html",
        account=account,
        subscriptions=rows,
        deliveries=deliveries,
        events=sorted(SUBSCRIBABLE),
    )


@router.post("/subscriptions")
async def subscribe(request: Request) -> Response:
    engine, account = await _signed_in(request)
    form = await _form(request, Access.MANAGE)
    events = [e for e in form.getlist("events") if isinstance(e, str)]
    try:
        sub_id, secret = await run_in_threadpool(
            engine.add_subscription, account.id, _text(form, "url"), events
        )
    except OptlineError as exc:
        return _failed(request, account, exc)
    # The signing secret is shown this once, as the API answers it once.
    return _page(request, "subscribed.html", account=account, sub_id=sub_id, secret=secret)


@router.get("/import")
async def import_form(request: Request) -> Response:
    _, account = await _signed_in(request)
    return _page(request, "imports.html", account=account)


async def import_file(request: Request) -> Response:
    """All the file's rows in one transaction, or none: every bad row is listed. The
    file may be as large as an upload may (``UPLOAD_BODY_BYTES``), past the limit of
    the other forms and the API's JSON bodies."""
    engine, account = await _signed_in(request)
    form = await _same_site_form(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise FormRefused(422, "Choose a CSV file to import.")
    try:
        text = (await upload.read()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FormRefused(422, f"{upload.filename} is not UTF-8 text.") from None
    try:
        rows, unread = contacts_csv.read_rows(text.splitlines(keepends=True), upload.filename)
        count = await run_in_threadpool(
            engine.import_contacts, account.id, rows, lambda: None, unread, _actor(account)
        )
    except BadRows as exc:
        lines = exc.lines()
        return _page(
            request,
            "imports.html",
            422,
            account,
            problems=lines[:IMPORT_PROBLEMS_SHOWN],
            more=max(0, len(lines) - IMPORT_PROBLEMS_SHOWN),
            verdict=str(exc),
        )
    except OptlineError as exc:
        return _failed(request, account, exc)
    return _page(request, "imports.html", account=account, imported=count)


router.add_api_route("/import", import_file, methods=["POST"], route_class_override=UploadRoute)


@router.get("/suppression.csv")
async def suppression(request: Request) -> Response:
    """Every opted-out scope, as ``GET /v1/contacts.csv?status=opted_out`` answers it."""
    engine, account = await _signed_in(request)
    sender = request.query_params.get("sender") or None
    try:  # a bad sender is answered before the file starts
        await run_in_threadpool(
            engine.contacts, account.id, Status.OPTED_OUT, None, None, 1, sender
        )
    except OptlineError as exc:
        return _failed(request, account, exc)
    stream = contacts_csv.export(engine, account.id, Status.OPTED_OUT, sender)
    headers = {"Content-Disposition": 'attachment; filename="suppression.csv"'}
    return StreamingResponse(stream, media_type="text/csv", headers=headers)


def _done(request: Request) -> str | None:
    return request.query_params.get("done")
