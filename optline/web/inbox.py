"""The inbox under ``/ui/inbox``: conversations by contact, newest first, with unread
counts; one contact's thread with its consent changes inline; a reply through the same
gate as the API's send; and the small JSON answer the pages poll to renew themselves
when a text comes or goes (``/ui/inbox/latest``, read by ``static/live.js``).

A blocked contact's texts are kept hidden (seed 000's blocked numbers): their
conversations leave the list and their texts fold away in the thread, each behind a
toggle. An opted-out contact's texts still arrive here, but a reply is refused until
they resubscribe (seed 000): the thread says so above the reply form, and a reply sent
anyway is refused and recorded as the API's would be.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from optline.api.deps import CheckedRoute
from optline.domain.consent_codes import EventType, Reason
from optline.engine import MAX_CONVERSATIONS
from optline.errors import OptlineError
from optline.store import MessageRow, StoredEvent
from optline.web.pages import PREFIX, _failed, _page, _redirect, _text
from optline.web.session import FormRefused, _actor, _form, _signed_in

router = APIRouter(prefix=f"{PREFIX}/inbox", include_in_schema=False, route_class=CheckedRoute)
PAGE_SIZE = 50
# A form's idempotency key: the same reply posted twice (a double click, a reload of
# the answer) is sent once, as an API client's retry with its key is.
_FORM_KEY = re.compile(r"ui-[A-Za-z0-9_-]{16,64}")

#: What a refused reply's reason means to the person who wrote it.
REFUSALS = {
    Reason.OPTED_OUT: "they opted out. Their texts still arrive here, but you cannot"
    " reply until they resubscribe (they text START).",
    Reason.BLOCKED: "the contact is blocked.",
    Reason.NO_CONSENT: "there is no consent on record for this text.",
    Reason.LIST_UNSUBSCRIBED: "they left the list this text is for.",
    Reason.MISSING_OPT_OUT_LANGUAGE: "a campaign text must say how to opt out.",
    Reason.REVOCATION_PENDING_REVIEW: "a reply of theirs that may mean stop waits for review.",
    Reason.OUTSIDE_SEND_WINDOW: "it is outside the hours texts may be sent to them.",
    Reason.FREQUENCY_CAP: "they have had as many texts as the policy allows for now.",
}

#: How each event reads in a thread.
_EVENTS: dict[str, str] = {
    EventType.OPTED_OUT: "Opted out",
    EventType.OPTED_IN: "Opted in",
    EventType.OPT_IN_REFUSED: "Opt-in refused",
    EventType.BLOCKED: "Blocked",
    EventType.UNBLOCKED: "Unblocked",
    EventType.HELP_ANSWERED: "Help answered",
    EventType.LIST_SUBSCRIBED: "Joined a list",
    EventType.LIST_UNSUBSCRIBED: "Left a list",
    EventType.TRIGGER_FIRED: "Trigger fired",
    EventType.REVOCATION_FLAGGED: "Flagged for review: a possible opt-out",
    EventType.FLAG_DISMISSED: "Flag dismissed",
    EventType.SEND_REFUSED: "Send refused",
    EventType.SEND_SETTLED: "Send settled",
}
#: The details of an event worth a line in a thread, in this order.
_DETAILS = ("method", "keyword", "language", "list", "reason", "scope", "note", "by", "via")


@dataclass(frozen=True)
class Entry:
    """One line of a thread: a text in or out, or a consent event between them."""

    at: datetime
    message: MessageRow | None = None
    event: StoredEvent | None = None

    @property
    def label(self) -> str:
        assert self.event is not None
        return _EVENTS.get(self.event.type, self.event.type)

    @property
    def details(self) -> list[tuple[str, Any]]:
        assert self.event is not None
        data = self.event.data
        return [(k, data[k]) for k in _DETAILS if data.get(k) not in (None, "")]


def thread(events: list[StoredEvent], messages: list[MessageRow]) -> list[Entry]:
    """Texts and events in the order they happened: at one moment, the text in, then
    what it changed, then the answer out (a STOP, its opt-out, its confirmation)."""
    entries = [
        (m.created_at, 0 if m.direction == "in" else 2, m.id, Entry(m.created_at, m))
        for m in messages
    ]
    entries += [(e.occurred_at, 1, e.seq, Entry(e.occurred_at, event=e)) for e in events]
    return [entry for *_, entry in sorted(entries, key=lambda t: t[:3])]


def _message_id(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63 else None


@router.get("")
async def inbox(request: Request) -> Response:
    """Conversations, newest first, 50 a page; blocked contacts' behind a toggle."""
    engine, account = await _signed_in(request)
    params = request.query_params
    blocked = params.get("blocked") == "1"
    before = _message_id(params.get("before", ""))
    rows = await run_in_threadpool(
        engine.conversations, account.id, min(PAGE_SIZE + 1, MAX_CONVERSATIONS), before, blocked
    )
    unread, latest = await run_in_threadpool(engine.unread, account.id)
    page = rows[:PAGE_SIZE]
    more = None
    if len(rows) > PAGE_SIZE:
        query = {"before": page[-1].last.id, **({"blocked": "1"} if blocked else {})}
        more = f"{PREFIX}/inbox?{urlencode(query)}"
    return _page(
        request,
        "inbox.html",
        account=account,
        conversations=page,
        blocked=blocked,
        unread=unread,
        latest=latest,
        more=more,
    )


@router.get("/latest")
async def latest(request: Request) -> Response:
    """The newest message id and the unread count: polled by the inbox's pages, which
    renew themselves when the id moves."""
    engine, account = await _signed_in(request)
    unread, newest = await run_in_threadpool(engine.unread, account.id)
    return JSONResponse({"latest": newest, "unread": unread})


@router.get("/{phone}")
async def conversation(request: Request, phone: str) -> Response:
    """One contact's thread, marked read as it is shown, and the reply form."""
    engine, account = await _signed_in(request)
    try:
        state = await run_in_threadpool(engine.contact, account.id, phone)
        if state is None:
            return _page(request, "error.html", 404, account, error=f"No contact {phone}.")
        events, messages = await run_in_threadpool(engine.history, account.id, state.phone)
        _, newest = await run_in_threadpool(engine.unread, account.id)
        if messages:
            await run_in_threadpool(engine.mark_read, account.id, state.phone, messages[-1].id)
        senders = [row.number for row in await run_in_threadpool(engine.senders, account.id)]
        # Reply from the number the conversation was last on.
        sender = messages[-1].sender if messages else (senders[0] if senders else None)
        decision = None
        if sender is not None and sender in senders:
            decision = await run_in_threadpool(engine.check, account.id, sender, state.phone)
    except OptlineError as exc:
        return _failed(request, account, exc)
    reply = _message_id(request.query_params.get("reply", ""))
    answered = next((m for m in messages if m.id == reply and m.direction == "out"), None)
    return _page(
        request,
        "conversation.html",
        account=account,
        contact=state,
        status=state.status_from(sender),
        entries=thread(events, messages),
        senders=senders,
        sender=sender,
        decision=decision,
        refusals=REFUSALS,
        answered=answered,
        form_key=f"ui-{secrets.token_urlsafe(24)}",
        latest=newest,
    )


@router.post("/{phone}/reply")
async def reply(request: Request, phone: str) -> Response:
    """A reply: the API's send, decided by the same gate and recorded the same way,
    refused or not. The answer page names the text it recorded."""
    engine, account = await _signed_in(request)
    form = await _form(request)
    key = _text(form, "key")
    if not _FORM_KEY.fullmatch(key):
        raise FormRefused(422, "The form is out of date: open the conversation again.")
    try:
        result = await engine.aio.send(
            account.id,
            _text(form, "sender"),
            phone,
            _text(form, "body"),
            idempotency_key=key,
            actor=_actor(account),
        )
    except OptlineError as exc:
        return _failed(request, account, exc)
    query = urlencode({"reply": result.message_id})
    return _redirect(f"{PREFIX}/inbox/{result.to}?{query}#reply")
