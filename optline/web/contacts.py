"""The contacts listing: search by part of a number, filters (status in a scope, as
seen from a sender, for the texts of a purpose; list, method, day of the change), the
exact count of what they keep, and keyset
pages in phone order. A contact's own page and its forms are ``pages``'."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.responses import Response

from optline.domain.consent_codes import Method, Status
from optline.domain.contact_filter import ContactFilter, change_bound, number_part
from optline.engine import sender_number
from optline.errors import OptlineError
from optline.web.pages import PAGE_SIZE, PREFIX, _failed, _page, _redirect, router
from optline.web.session import FormRefused, _signed_in


@router.get("/contacts")
async def contacts(request: Request) -> Response:
    engine, account = await _signed_in(request)
    params = request.query_params
    phone = params.get("phone", "").strip()
    if phone:  # the look-up box: straight to the contact's page
        try:
            found = await run_in_threadpool(engine.contact, account.id, phone)
        except OptlineError as exc:
            return _failed(request, account, exc)
        if found is None:
            return _page(request, "error.html", 404, account, error=f"No contact {phone}.")
        return _redirect(f"{PREFIX}/contacts/{found.phone}")
    asked = {name: params.get(name, "").strip() for name in _FILTERS}
    after = params.get("after") or None
    try:
        query = _filter(params)
        states = await run_in_threadpool(
            engine.find_contacts, account.id, query, after, PAGE_SIZE + 1
        )
        total = await run_in_threadpool(engine.count_contacts, account.id, query)
        page = states[:PAGE_SIZE]
        records = await run_in_threadpool(engine.records, account.id, [s.phone for s in page])
        senders = await run_in_threadpool(engine.senders, account.id)
        lists = await run_in_threadpool(engine.lists, account.id)
        purposes = await run_in_threadpool(engine.purposes, account.id)
    except OptlineError as exc:
        return _failed(request, account, exc)
    kept = {k: v for k, v in asked.items() if v}
    more = None
    if len(states) > PAGE_SIZE:
        more = f"{PREFIX}/contacts?{urlencode({**kept, 'after': page[-1].phone})}"
    return _page(
        request,
        "contacts.html",
        account=account,
        contacts=page,
        records=records,
        total=total,
        asked=asked,
        first=f"{PREFIX}/contacts?{urlencode(kept)}" if after else None,
        statuses=list(Status),
        methods=list(Method),
        senders=[row.number for row in senders],
        lists=[row.name for row in lists],
        purposes=purposes,
        # With a purpose, each contact's status is the one its texts are decided by.
        seen=(query.sender, query.purpose),
        more=more,
    )


#: The listing's query parameters (besides the look-up box and the page's cursor).
_FILTERS = ("number", "status", "sender", "purpose", "list", "method", "since", "before")


def _filter(params: QueryParams) -> ContactFilter:
    """The listing's filter from its query, or a 422 page naming the bad part."""

    def one_of(name: str, kind: type[Status] | type[Method]) -> Status | Method | None:
        value = params.get(name) or None
        if value is not None and value not in {k.value for k in kind}:
            raise FormRefused(422, f"{name}: {value!r} is not one of {', '.join(kind)}.")
        return None if value is None else kind(value)

    status = one_of("status", Status)
    method = one_of("method", Method)
    number = number_part(params.get("number", ""))
    assert status is None or isinstance(status, Status)
    assert method is None or isinstance(method, Method)
    return ContactFilter(
        status,
        params.get("list") or None,
        # As the engine stores it: the listing shows each contact's status from it.
        sender_number(sender) if (sender := params.get("sender", "").strip()) else None,
        number,
        method,
        change_bound(params.get("since", ""), "since"),
        change_bound(params.get("before", ""), "before", end=True),  # the day included
        params.get("purpose", "").strip() or None,
    )
