"""The REST API's routes under /v1, every one scoped to the caller's account: request
bodies come from ``schemas``, answers are built by ``views``, the work is the engine's."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from optline import contacts_csv
from optline.api.deps import Account, Admin, CheckedRoute, Manager, actor_of, engine_of
from optline.api.problems import RESPONSES, Problem
from optline.api.schemas import (
    PAGE_LIMIT,
    ContactLocationBody,
    NewAccount,
    NewList,
    NewPurpose,
    NewSender,
    NewSubscription,
    NewTrigger,
    Numbers,
    OptInBody,
    OptOutBody,
    Phone,
    PolicyChange,
)
from optline.api.views import (
    account_view,
    contact_view,
    event_view,
    list_view,
    message_view,
    page_of,
    policy_view,
    sender_view,
)
from optline.domain.consent_codes import Method, Status
from optline.domain.contact_filter import ContactFilter, number_part

router = APIRouter(prefix="/v1", route_class=CheckedRoute, responses=RESPONSES)


# -- accounts, senders, policy ----------------------------------------------------------


@router.post("/accounts", status_code=201, dependencies=[Admin], tags=["accounts"])
async def create_account(body: NewAccount, request: Request) -> dict[str, Any]:
    """Create an account (admin key). The API key is returned once; only its hash is kept."""
    row, key = await run_in_threadpool(
        engine_of(request).create_account_with_key,
        body.name,
        body.profile,
        body.overrides,
        body.key_name,
    )
    return {"account": account_view(row), "api_key": key}


@router.get("/account", tags=["accounts"])
async def get_account(account: Account) -> dict[str, Any]:
    """The caller's account, and who the key speaks for: ``key`` (the name its changes
    are recorded under: the key's name, or ``user:<name>``) and its ``role``."""
    assert account.role is not None  # found by a key: the key's holder's role
    return {**account_view(account), "key": account.api_key_name, "role": account.role.value}


@router.post("/senders", status_code=201, tags=["senders"])
async def add_sender(body: NewSender, account: Manager, request: Request) -> dict[str, Any]:
    row = await run_in_threadpool(
        engine_of(request).add_sender,
        account.name,
        body.number,
        body.kind,
        body.provider,
        body.credentials,
        body.provider_replies,
    )
    return sender_view(row)


@router.get("/senders", tags=["senders"])
async def list_senders(account: Account, request: Request) -> dict[str, Any]:
    rows = await run_in_threadpool(engine_of(request).senders, account.name)
    return {"senders": [sender_view(r) for r in rows]}


@router.get("/policy", tags=["policy"])
async def get_policy(account: Account, request: Request) -> dict[str, Any]:
    policy = await run_in_threadpool(engine_of(request).policy, account.name)
    return policy_view(account, policy)


@router.put("/policy", tags=["policy"])
async def set_policy(
    body: PolicyChange, account: Manager, request: Request, confirm: bool = False
) -> dict[str, Any]:
    """Switch profile and/or replace the field overrides.

    A switch from per-sender to account scope opts every contact opted out of any
    sender out of the account; when it would change any contact it is refused (409
    ``confirmation_required``, with ``contacts_changed``) unless ``?confirm=true``."""
    change = await run_in_threadpool(
        engine_of(request).set_policy,
        account.name,
        body.profile,
        body.overrides,
        confirm,
        actor_of(account),
    )
    row = await run_in_threadpool(engine_of(request).account, account.name)
    return {
        "profile": row.profile,
        "overrides": row.overrides,
        "contacts_changed": change.contacts_changed,
    }


# -- contacts ---------------------------------------------------------------------------


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


@router.post("/contacts/{phone}/opt-out", tags=["consent"])
async def opt_out(
    phone: Phone, account: Account, request: Request, body: OptOutBody | None = None
) -> dict[str, Any]:
    """Opt out: everywhere, from one ``sender``, or of one ``purpose`` (from every
    sender)."""
    body = body or OptOutBody()
    state = await run_in_threadpool(
        engine_of(request).opt_out,
        account.name,
        phone,
        body.sender,
        body.note,
        actor_of(account),
        body.purpose,
    )
    return contact_view(state)


@router.post("/contacts/{phone}/opt-in", tags=["consent"])
async def opt_in(
    phone: Phone, body: OptInBody, account: Account, request: Request
) -> dict[str, Any]:
    """Opt in, where the policy allows it; ``evidence`` says who/when/how, ``method``
    whether it was given by hand (``manual``) or on a web form (``web_form``); with
    ``purpose``, to that purpose alone."""
    state = await run_in_threadpool(
        engine_of(request).opt_in,
        account.name,
        phone,
        body.evidence,
        body.sender,
        body.method,
        actor_of(account),
        body.purpose,
    )
    return contact_view(state)


@router.post("/contacts/{phone}/block", tags=["consent"])
async def block(phone: Phone, account: Account, request: Request) -> dict[str, Any]:
    block = engine_of(request).block
    return contact_view(
        await run_in_threadpool(block, account.name, phone, None, actor_of(account))
    )


@router.post("/contacts/{phone}/unblock", tags=["consent"])
async def unblock(phone: Phone, account: Account, request: Request) -> dict[str, Any]:
    unblock = engine_of(request).unblock
    state = await run_in_threadpool(unblock, account.name, phone, None, actor_of(account))
    return contact_view(state)


@router.post("/opt-outs", tags=["consent"])
async def bulk_opt_out(body: Numbers, account: Account, request: Request) -> dict[str, Any]:
    """Opt out many numbers in one transaction: all of them, or none on a bad number."""
    count = await run_in_threadpool(
        engine_of(request).bulk_opt_out, account.name, body.numbers, actor_of(account)
    )
    return {"opted_out": count}


@router.get("/contacts/{phone}/history", tags=["contacts"])
async def history(phone: Phone, account: Account, request: Request) -> dict[str, Any]:
    events, messages = await run_in_threadpool(engine_of(request).history, account.name, phone)
    return {
        "events": [event_view(e) for e in events],
        "messages": [message_view(m) for m in messages],
    }


@router.get("/contacts/{phone}/proof", tags=["ledger"])
async def proof(phone: Phone, account: Account, request: Request) -> dict[str, Any]:
    """The contact's events with their chain hashes; check offline with
    ``optline ledger check-proof FILE``."""
    return await run_in_threadpool(engine_of(request).proof, account.name, phone)


# -- lists and triggers -----------------------------------------------------------------


@router.post("/lists", status_code=201, tags=["lists"])
async def create_list(body: NewList, account: Manager, request: Request) -> dict[str, Any]:
    row = await run_in_threadpool(
        engine_of(request).create_list, account.name, body.name, body.opt_out_keyword, body.purpose
    )
    return list_view(row)


@router.get("/lists", tags=["lists"])
async def lists(account: Account, request: Request) -> dict[str, Any]:
    rows = await run_in_threadpool(engine_of(request).lists, account.name)
    return {"lists": [list_view(r) for r in rows]}


# -- purposes ----------------------------------------------------------------------------


@router.get("/purposes", tags=["purposes"])
async def purposes(account: Account, request: Request) -> dict[str, Any]:
    """The account's purposes: ``marketing``, ``informational``, then its own."""
    names = await run_in_threadpool(engine_of(request).purposes, account.name)
    return {"purposes": list(names)}


@router.post("/purposes", status_code=201, tags=["purposes"])
async def add_purpose(body: NewPurpose, account: Manager, request: Request) -> dict[str, Any]:
    """Add a purpose of the account's own (``appointment_reminders``)."""
    name = await run_in_threadpool(engine_of(request).add_purpose, account.name, body.name)
    return {"name": name}


@router.post("/lists/{name}/members", tags=["lists"])
async def add_members(
    name: str, body: Numbers, account: Account, request: Request
) -> dict[str, Any]:
    count = await run_in_threadpool(
        engine_of(request).add_to_list, account.name, name, body.numbers, actor_of(account)
    )
    return {"subscribed": count}


@router.delete("/lists/{name}/members/{phone}", tags=["lists"])
async def remove_member(
    name: str, phone: Phone, account: Account, request: Request
) -> dict[str, Any]:
    state = await run_in_threadpool(
        engine_of(request).unsubscribe, account.name, name, phone, actor_of(account)
    )
    return contact_view(state)


@router.post("/triggers", status_code=201, tags=["triggers"])
async def add_trigger(body: NewTrigger, account: Manager, request: Request) -> dict[str, Any]:
    trigger = await run_in_threadpool(
        engine_of(request).add_trigger,
        account.name,
        body.keyword,
        body.reply,
        body.unsubscribe_list,
        body.subscribe_list,
        body.confirm_purpose,
    )
    return {"keyword": trigger.keyword.upper(), "reply": trigger.reply}


@router.get("/triggers", tags=["triggers"])
async def triggers(account: Account, request: Request) -> dict[str, Any]:
    rows = await run_in_threadpool(engine_of(request).triggers, account.name)
    return {
        "triggers": [
            {
                "keyword": t.keyword.upper(),
                "reply": t.reply,
                "unsubscribe_list": t.unsubscribe_list,
                "subscribe_list": t.subscribe_list,
                "confirm_purpose": t.confirm_purpose,
            }
            for t in rows
        ]
    }


# -- ledger, subscriptions (the review queue is in ``review``) ---------------------------


@router.get("/ledger/verify", tags=["ledger"])
async def verify(account: Account, request: Request) -> dict[str, Any]:
    """The account's every event and contact checked; and the transparency log's size,
    newest checkpoint and how many of the account's events wait for it (checking the log
    itself is ``optline ledger verify``'s, for the deployment)."""
    engine = engine_of(request)
    (result,) = await run_in_threadpool(engine.verify, account.name)
    log = await run_in_threadpool(engine.log_status, account.name)
    return {
        "ok": result.ok,
        "checked": result.checked,
        "first_bad_seq": result.first_bad_seq,
        "contact": result.contact,
        "message": result.message,
        "problem": result.problem,
        "log": {"size": log.size, "pending": log.pending, "checkpoint": log.checkpoint},
    }


@router.post("/subscriptions", status_code=201, tags=["event webhooks"])
async def subscribe(body: NewSubscription, account: Manager, request: Request) -> dict[str, Any]:
    """Signed event webhooks; the signing secret is returned once."""
    sub_id, secret = await run_in_threadpool(
        engine_of(request).add_subscription, account.name, body.url, body.events
    )
    return {"id": sub_id, "url": body.url, "events": body.events, "secret": secret}


@router.get("/subscriptions", tags=["event webhooks"])
async def subscriptions(account: Account, request: Request) -> dict[str, Any]:
    rows = await run_in_threadpool(engine_of(request).subscriptions, account.name)
    return {"subscriptions": [{"id": r.id, "url": r.url, "events": r.events} for r in rows]}
