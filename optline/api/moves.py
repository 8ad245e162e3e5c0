"""A contact's number change under /v1: ``POST /v1/contacts/{phone}/move`` moves its
consent and lists to a new number with evidence (see :mod:`optline.domain.moves`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from optline.api.deps import Account, CheckedRoute, actor_of, engine_of
from optline.api.problems import RESPONSES
from optline.api.schemas import Phone
from optline.api.views import contact_view
from optline.domain import inputs

router = APIRouter(prefix="/v1", route_class=CheckedRoute, responses=RESPONSES)


class MoveBody(BaseModel):
    to: str = Field(min_length=1, max_length=64, description="the contact's new number")
    evidence: str = Field(
        min_length=1,
        max_length=inputs.MAX_EVIDENCE_CHARS,
        description="who said the number changed, when and how (on both ledgers)",
    )
    replace_history: bool = Field(
        default=False,
        description="move even onto a number with consent history of its own, replacing it",
    )


@router.post("/contacts/{phone}/move", tags=["consent"])
async def move_contact(
    phone: Phone, body: MoveBody, account: Account, request: Request
) -> dict[str, Any]:
    """Move the contact's consent, lists and block to ``to``; the old number is left
    with nothing on record (``no_consent``). 409 ``number_has_history`` when ``to`` has
    consent history of its own and ``replace_history`` is not set."""
    engine = engine_of(request)
    old, new = await run_in_threadpool(
        engine.move_contact,
        account.name,
        phone,
        body.to,
        body.evidence,
        body.replace_history,
        actor_of(account),
    )
    records = await run_in_threadpool(engine.records, account.name, [old.phone, new.phone])
    return {
        "from": contact_view(old, records.get(old.phone)),
        "to": contact_view(new, records.get(new.phone)),
    }
