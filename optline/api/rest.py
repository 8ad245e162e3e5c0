"""The REST API under /v1. Every route is scoped to the caller's account."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response, StreamingResponse

from optline import contacts_csv
from optline.api.deps import (
    BEARER_SCHEME,
    Account,
    Admin,
    CheckedRoute,
    RawRequestRoute,
    account_of,
    engine_of,
    header,
    json_body,
    validated,
)
from optline.api.problems import RESPONSES, Problem
from optline.domain import inputs
from optline.domain.consent import ContactState, Status
from optline.domain.policy import SenderKind
from optline.store import AccountRow, MessageRow, SenderRow, StoredEvent

T = TypeVar("T")

router = APIRouter(prefix="/v1", route_class=CheckedRoute, responses=RESPONSES)

Phone = str
PAGE_LIMIT = 1000
#: ``older_than``: a number of seconds, up to ten years.
OlderThan = Annotated[
    int,
    Query(ge=0, le=10 * 365 * 24 * 3600, description="only texts recorded this many seconds ago"),
]


# -- bodies -----------------------------------------------------------------------------

# A text the engine checks (optline.domain.inputs) whichever way it comes in: the
# schema shows its limit, the engine refuses what passes it (422 bad_input), as it
# does for the CLI and the web UI.


def _most(chars: int, required: bool = True) -> dict[str, Any]:
    return {"maxLength": chars, **({"minLength": 1} if required else {})}


class NewAccount(BaseModel):
    name: str = Field(json_schema_extra=_most(inputs.MAX_ACCOUNT_NAME_CHARS))
    profile: str = "default"
    overrides: dict[str, Any] = Field(default_factory=dict)


class NewSender(BaseModel):
    number: str = Field(min_length=1, max_length=64)
    kind: SenderKind = SenderKind.LONG_CODE
    provider: Literal["twilio", "telnyx", "generic"] | None = None
    credentials: dict[str, str] = Field(default_factory=dict)
    # The provider answers keywords itself (Twilio Advanced Opt-Out): record, never reply.
    provider_replies: bool = False


class OptOutBody(BaseModel):
    sender: str | None = None
    note: str | None = Field(default=None, json_schema_extra=_most(inputs.MAX_NOTE_CHARS, False))


class OptInBody(BaseModel):
    evidence: str | None = Field(
        default=None, json_schema_extra=_most(inputs.MAX_EVIDENCE_CHARS, False)
    )
    sender: str | None = None


class Numbers(BaseModel):
    numbers: list[str] = Field(min_length=1, max_length=10_000)


class NewList(BaseModel):
    name: str = Field(json_schema_extra=_most(inputs.MAX_LIST_NAME_CHARS))
    opt_out_keyword: str | None = Field(
        default=None, json_schema_extra=_most(inputs.MAX_KEYWORD_CHARS)
    )


class NewTrigger(BaseModel):
    keyword: str = Field(json_schema_extra=_most(inputs.MAX_KEYWORD_CHARS))
    reply: str = Field(json_schema_extra=_most(inputs.MAX_OUTBOUND_CHARS))
    unsubscribe_list: str | None = None
    subscribe_list: str | None = None


class PolicyChange(BaseModel):
    profile: str | None = None
    overrides: dict[str, Any] | None = None


class OutboundText(BaseModel):
    from_: str = Field(alias="from", min_length=1, max_length=64)
    to: str = Field(min_length=1, max_length=64)
    body: str = Field(json_schema_extra=_most(inputs.MAX_OUTBOUND_CHARS))
    list_name: str | None = Field(default=None, alias="list")
    campaign: bool = False


class Broadcast(BaseModel):
    from_: str = Field(alias="from", min_length=1, max_length=64)
    body: str = Field(json_schema_extra=_most(inputs.MAX_OUTBOUND_CHARS))
    list_name: str | None = Field(default=None, alias="list")
    numbers: list[str] | None = Field(default=None, max_length=100_000)
    campaign: bool = True


class NewSubscription(BaseModel):
    url: str = Field(
        json_schema_extra={**_most(inputs.MAX_URL_CHARS), "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
        description="An absolute http or https URL with a host.",
    )
    events: list[str] = Field(json_schema_extra={"minItems": 1})


# -- views ------------------------------------------------------------------------------


def account_view(row: AccountRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "profile": row.profile, "overrides": row.overrides}


def sender_view(row: SenderRow) -> dict[str, Any]:
    # Credentials are write-only: show which are set, never their values.
    return {
        "number": row.number,
        "kind": row.kind.value,
        "provider": row.provider,
        "credentials": sorted(row.credentials),
        "provider_replies": row.provider_replies,
    }


def contact_view(state: ContactState) -> dict[str, Any]:
    return {
        "phone": state.phone,
        "status": state.status_from(None).value,
        "blocked": state.blocked,
        "senders": {k: v.value for k, v in state.sender_status.items()},
        "lists": dict(state.lists),
    }


def event_view(event: StoredEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "type": event.type,
        "phone": event.phone,
        "data": event.data,
        "at": event.occurred_at.isoformat(),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def message_view(message: MessageRow) -> dict[str, Any]:
    return {
        "id": message.id,
        "direction": message.direction,
        "phone": message.phone,
        "sender": message.sender,
        "body": message.body,
        "status": message.status,
        "reason": message.reason,
        "hidden": message.hidden,
        "reply": message.reply,
        "provider_id": message.provider_id,
        "at": message.created_at.isoformat(),
    }


# -- accounts, senders, policy ----------------------------------------------------------


@router.post("/accounts", status_code=201, dependencies=[Admin], tags=["accounts"])
async def create_account(body: NewAccount, request: Request) -> dict[str, Any]:
    """Create an account (admin key). The API key is returned once; only its hash is kept."""
    row, key = await run_in_threadpool(
        engine_of(request).create_account_with_key, body.name, body.profile, body.overrides
    )
    return {"account": account_view(row), "api_key": key}


@router.get("/account", tags=["accounts"])
async def get_account(account: Account) -> dict[str, Any]:
    return account_view(account)


@router.post("/senders", status_code=201, tags=["senders"])
async def add_sender(body: NewSender, account: Account, request: Request) -> dict[str, Any]:
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
    return {"profile": account.profile, "overrides": account.overrides, "name": policy.name}


@router.put("/policy", tags=["policy"])
async def set_policy(
    body: PolicyChange, account: Account, request: Request, confirm: bool = False
) -> dict[str, Any]:
    """Switch profile and/or replace the field overrides.

    A switch from per-sender to account scope opts every contact opted out of any
    sender out of the account; when it would change any contact it is refused (409
    ``confirmation_required``, with ``contacts_changed``) unless ``?confirm=true``."""
    change = await run_in_threadpool(
        engine_of(request).set_policy, account.name, body.profile, body.overrides, confirm
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
    cursor: str | None = Query(default=None, description="next_cursor of the previous page"),
    limit: int = Query(default=100, ge=1, le=PAGE_LIMIT),
) -> dict[str, Any]:
    """Contacts ordered by phone; follow ``next_cursor`` for the next page."""
    if cursor is not None and not _PHONE_CURSOR.fullmatch(cursor):
        raise Problem(400, "invalid_cursor", "cursor: give the next_cursor of the previous page")
    states = await run_in_threadpool(
        engine_of(request).contacts, account.name, status, list, cursor, limit + 1
    )
    page, last = _page(states, limit)
    return {
        "contacts": [contact_view(s) for s in page],
        "next_cursor": None if last is None else last.phone,
    }


def _page(rows: list[T], limit: int) -> tuple[list[T], T | None]:
    """The first ``limit`` of ``rows`` (read as ``limit + 1``) and, when more follow,
    the last row of the page, whose key is the next page's cursor."""
    page = rows[:limit]
    return page, page[-1] if len(rows) > limit and page else None


@router.get("/contacts.csv", tags=["contacts"], response_class=StreamingResponse)
async def export_contacts(
    account: Account, request: Request, status: Status | None = None
) -> StreamingResponse:
    """Every contact as CSV (phone,status,lists), streamed page by page. A list name
    that a spreadsheet would read as a formula is written with a ``'`` before it."""
    engine = engine_of(request)

    def rows() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(contacts_csv.FIELDS)
        after: str | None = None
        while True:
            page = engine.contacts(account.name, status, None, after, PAGE_LIMIT)
            writer.writerows(contacts_csv.row(s, for_spreadsheet=True) for s in page)
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            if len(page) < PAGE_LIMIT:
                return
            after = page[-1].phone

    return StreamingResponse(rows(), media_type="text/csv")


@router.get("/contacts/{phone}", tags=["contacts"])
async def get_contact(phone: Phone, account: Account, request: Request) -> dict[str, Any]:
    state = await run_in_threadpool(engine_of(request).contact, account.name, phone)
    if state is None:
        raise Problem(404, "unknown_contact", f"no contact {phone} in this account")
    return contact_view(state)


@router.post("/contacts/{phone}/opt-out", tags=["consent"])
async def opt_out(
    phone: Phone, account: Account, request: Request, body: OptOutBody | None = None
) -> dict[str, Any]:
    body = body or OptOutBody()
    state = await run_in_threadpool(
        engine_of(request).opt_out, account.name, phone, body.sender, body.note
    )
    return contact_view(state)


@router.post("/contacts/{phone}/opt-in", tags=["consent"])
async def opt_in(
    phone: Phone, body: OptInBody, account: Account, request: Request
) -> dict[str, Any]:
    """Opt back in, where the policy allows it; ``evidence`` says who/when/how."""
    state = await run_in_threadpool(
        engine_of(request).opt_in, account.name, phone, body.evidence, body.sender
    )
    return contact_view(state)


@router.post("/contacts/{phone}/block", tags=["consent"])
async def block(phone: Phone, account: Account, request: Request) -> dict[str, Any]:
    return contact_view(await run_in_threadpool(engine_of(request).block, account.name, phone))


@router.post("/contacts/{phone}/unblock", tags=["consent"])
async def unblock(phone: Phone, account: Account, request: Request) -> dict[str, Any]:
    return contact_view(await run_in_threadpool(engine_of(request).unblock, account.name, phone))


@router.post("/opt-outs", tags=["consent"])
async def bulk_opt_out(body: Numbers, account: Account, request: Request) -> dict[str, Any]:
    """Opt out many numbers in one transaction: all of them, or none on a bad number."""
    count = await run_in_threadpool(engine_of(request).bulk_opt_out, account.name, body.numbers)
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
async def create_list(body: NewList, account: Account, request: Request) -> dict[str, Any]:
    row = await run_in_threadpool(
        engine_of(request).create_list, account.name, body.name, body.opt_out_keyword
    )
    return {"name": row.name, "opt_out_keyword": row.opt_out_keyword}


@router.get("/lists", tags=["lists"])
async def lists(account: Account, request: Request) -> dict[str, Any]:
    rows = await run_in_threadpool(engine_of(request).lists, account.name)
    return {"lists": [{"name": r.name, "opt_out_keyword": r.opt_out_keyword} for r in rows]}


@router.post("/lists/{name}/members", tags=["lists"])
async def add_members(
    name: str, body: Numbers, account: Account, request: Request
) -> dict[str, Any]:
    count = await run_in_threadpool(
        engine_of(request).add_to_list, account.name, name, body.numbers
    )
    return {"subscribed": count}


@router.delete("/lists/{name}/members/{phone}", tags=["lists"])
async def remove_member(
    name: str, phone: Phone, account: Account, request: Request
) -> dict[str, Any]:
    state = await run_in_threadpool(engine_of(request).unsubscribe, account.name, name, phone)
    return contact_view(state)


@router.post("/triggers", status_code=201, tags=["triggers"])
async def add_trigger(body: NewTrigger, account: Account, request: Request) -> dict[str, Any]:
    trigger = await run_in_threadpool(
        engine_of(request).add_trigger,
        account.name,
        body.keyword,
        body.reply,
        body.unsubscribe_list,
        body.subscribe_list,
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
            }
            for t in rows
        ]
    }


# -- messages ---------------------------------------------------------------------------


IDEMPOTENCY_KEY = "Idempotency-Key"
_IDEMPOTENCY_HEADER = IDEMPOTENCY_KEY.lower().encode()  # as ASGI gives it
# Any visible ASCII, as header values carry it safely (a UUID is the usual choice).
_KEY_FORM = re.compile(r"[!-~]{1,255}")
# Documented here and read in the endpoint: as a FastAPI Header parameter it cost every
# send about 30 µs, with or without the header.
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
    key = header(request, _IDEMPOTENCY_HEADER)
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
    )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return JSONResponse(result.as_dict(), headers=headers)


# The send is a raw-request route, answered straight by the app (as the webhooks are):
# FastAPI's middleware, dependency solving and body validation cost every send about
# 100 µs. It reads, checks and validates the body as a body parameter would be, and
# its request body, key and header are documented here by hand.
router.add_api_route(
    "/messages",
    send_message,
    methods=["POST"],
    tags=["messages"],
    route_class_override=RawRequestRoute,
    response_model=dict[str, Any],
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
    status: Literal["queued", "sending"],
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
    page, last = _page(rows, limit)
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
    )
    return {
        "results": [r.as_dict() for r in results],
        "sent": sum(r.status == "sent" for r in results),
        "refused": sum(r.status == "failed" for r in results),
    }


# -- review, ledger, subscriptions ------------------------------------------------------


@router.get("/review", tags=["review"])
async def review(account: Account, request: Request) -> dict[str, Any]:
    """Inbound texts flagged as possible opt-outs, newest first."""
    flagged = await run_in_threadpool(engine_of(request).flagged, account.name)
    return {"flagged": [event_view(e) for e in flagged]}


@router.get("/ledger/verify", tags=["ledger"])
async def verify(account: Account, request: Request) -> dict[str, Any]:
    (result,) = await run_in_threadpool(engine_of(request).verify, account.name)
    return {
        "ok": result.ok,
        "checked": result.checked,
        "first_bad_seq": result.first_bad_seq,
        "problem": result.problem,
    }


@router.post("/subscriptions", status_code=201, tags=["event webhooks"])
async def subscribe(body: NewSubscription, account: Account, request: Request) -> dict[str, Any]:
    """Signed event webhooks; the signing secret is returned once."""
    sub_id, secret = await run_in_threadpool(
        engine_of(request).add_subscription, account.name, body.url, body.events
    )
    return {"id": sub_id, "url": body.url, "events": body.events, "secret": secret}


@router.get("/subscriptions", tags=["event webhooks"])
async def subscriptions(account: Account, request: Request) -> dict[str, Any]:
    rows = await run_in_threadpool(engine_of(request).subscriptions, account.name)
    return {"subscriptions": [{"id": r.id, "url": r.url, "events": r.events} for r in rows]}
