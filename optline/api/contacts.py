"""Contacts under /v1: found by filter a page at a time, exported as CSV, read one by
one with their consent records, location (send windows) and history. Changes to
their consent are in ``consent_changes``."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from optline import contacts_csv
from optline.api.deps import Account, CheckedRoute, engine_of
from optline.api.problems import RESPONSES, Problem
from optline.api.schemas import PAGE_LIMIT, ContactLocationBody, Phone
from optline.api.views import contact_view, event_view, message_view, page_of
from optline.domain.consent_codes import Method, Status
from optline.domain.contact_filter import ContactFilter, number_part

router = APIRouter(prefix="/v1", route_class=CheckedRoute, responses=RESPONSES)


# A contact's phone in E.164, as next_cursor gives it (at most 3 + 17 digits, the
# longest country code and national number phonenumbers reads).
_PHONE_CURSOR = re.compile(r"\+[1-9][0-9]{1,19}")


@router.get("/contacts", tags=["contacts"])
async def list_contacts(
    account: Account,
    request: Request,
    status: Status | None = None,
    list: str | None = None,
    sender: str | None = None,
    number: str | None = Query(
        default=None, description='part of the phone: "+1415" its start, "2671" anywhere'
    ),
    method: Annotated[Method | None, Query(description="how the matching scope was set")] = None,
    changed_since: Annotated[
        datetime | None, Query(description="the matching scope set at or after this time")
    ] = None,
    changed_before: Annotated[
        datetime | None, Query(description="the matching scope set before this time")
    ] = None,
    purpose: Annotated[
        str | None,
        Query(description="status, method and times of the scope deciding a text of it"),
    ] = None,
    count: bool = Query(default=False, description="also answer how many match (total)"),
    cursor: str | None = Query(default=None, description="next_cursor of the previous page"),
    limit: int = Query(default=100, ge=1, le=PAGE_LIMIT),
) -> dict[str, Any]:
    """Contacts ordered by phone, each with every scope of its consent; follow
    ``next_cursor`` for the next page. ``status``, ``method`` and the change times
    hold for one scope of the contact (the account's or a sender's own), or with
    ``sender`` for the scope that decides for it; with ``purpose``, for the one that
    decides a text of that purpose, as the send gate does. ``count=true`` adds
    ``total``, the exact number of contacts on all the pages."""
    if cursor is not None and not _PHONE_CURSOR.fullmatch(cursor):
        raise Problem(400, "invalid_cursor", "cursor: give the next_cursor of the previous page")
    query = ContactFilter(
        status,
        list,
        sender,
        None if number is None else number_part(number),
        method,
        changed_since,
        changed_before,
        purpose,
    )
    engine = engine_of(request)
    states = await run_in_threadpool(engine.find_contacts, account.name, query, cursor, limit + 1)
    page, last = page_of(states, limit)
    records = await run_in_threadpool(engine.records, account.name, [s.phone for s in page])
    answer: dict[str, Any] = {
        "contacts": [contact_view(s, records.get(s.phone)) for s in page],
        "next_cursor": None if last is None else last.phone,
    }
    if count:
        answer["total"] = await run_in_threadpool(engine.count_contacts, account.name, query)
    return answer


@router.get("/contacts.csv", tags=["contacts"], response_class=StreamingResponse)
async def export_contacts(
    account: Account, request: Request, status: Status | None = None, sender: str | None = None
) -> StreamingResponse:
    """Every contact as CSV, one row per contact and scope
    (phone,scope,status,since,method,event_seq), streamed page by page. ``status``
    keeps the scopes in that status (``opted_out``: the suppression list), ``sender``
    the scope that decides for that sender."""
    engine = engine_of(request)
    # A bad filter is answered before the stream starts, as a problem.
    await run_in_threadpool(engine.contacts, account.name, status, None, None, 1, sender)

    stream = contacts_csv.export(engine, account.name, status, sender)
    return StreamingResponse(stream, media_type="text/csv")


@router.get("/contacts/{phone}", tags=["contacts"])
async def get_contact(phone: Phone, account: Account, request: Request) -> dict[str, Any]:
    engine = engine_of(request)
    state = await run_in_threadpool(engine.contact, account.name, phone)
    if state is None:
        raise Problem(404, "unknown_contact", f"no contact {phone} in this account")
    records = await run_in_threadpool(engine.records, account.name, [state.phone])
    return contact_view(state, records.get(state.phone))


@router.get("/contacts/{phone}/location", tags=["contacts"])
async def get_location(phone: Phone, account: Account, request: Request) -> dict[str, Any]:
    """Where the send windows place the contact: its stored time zone and state (null:
    from the number) and the country, state and zones they and the number give."""
    found = await run_in_threadpool(engine_of(request).contact_location, account.name, phone)
    return found.as_dict()


@router.put("/contacts/{phone}/location", tags=["contacts"])
async def set_location(
    phone: Phone, body: ContactLocationBody, account: Account, request: Request
) -> dict[str, Any]:
    """Store the contact's time zone (IANA) and US state (USPS code), both replaced;
    null leaves that part to the number."""
    found = await run_in_threadpool(
        engine_of(request).set_contact_location,
        account.name,
        phone,
        body.time_zone,
        body.state,
    )
    return found.as_dict()


@router.get("/contacts/{phone}/history", tags=["contacts"])
async def history(phone: Phone, account: Account, request: Request) -> dict[str, Any]:
    events, messages = await run_in_threadpool(engine_of(request).history, account.name, phone)
    return {
        "events": [event_view(e) for e in events],
        "messages": [message_view(m) for m in messages],
    }
