"""Written consent under /v1: prior express written consent recorded with the exact
language agreed to, and a contact's records read back with it (see
:mod:`optline.domain.written_consent`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from optline.api.deps import Account, CheckedRoute, actor_of, engine_of
from optline.api.problems import RESPONSES
from optline.api.schemas import Phone
from optline.domain import inputs
from optline.engine import consents

router = APIRouter(prefix="/v1", route_class=CheckedRoute, responses=RESPONSES)


class ConsentBody(BaseModel):
    phone: str = Field(max_length=64, description="the number consent was given for")
    purpose: str | None = Field(
        default=None, max_length=40, description="a purpose's slug; default `marketing`"
    )
    language: str = Field(
        min_length=1,
        max_length=consents.MAX_LANGUAGE_CHARS,
        description="the exact text the person agreed to",
    )
    given_at: datetime = Field(description="when it was given, with its time zone")
    url: str | None = Field(default=None, max_length=inputs.MAX_URL_CHARS)
    form_id: str | None = Field(default=None, max_length=consents.MAX_FORM_ID_CHARS)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=consents.MAX_USER_AGENT_CHARS)


@router.post("/consents", status_code=201, tags=["consent"])
async def record_consent(body: ConsentBody, account: Account, request: Request) -> dict[str, Any]:
    """Record prior express written consent (47 CFR 64.1200(a)(2), (f)(9)): the language
    is kept once per version and referred to by its SHA-256; the contact is opted in
    where it is not yet. The key's name is recorded as who collected it."""
    record = await run_in_threadpool(
        engine_of(request).record_consent,
        account.name,
        body.phone,
        body.language,
        body.given_at,
        body.purpose,
        body.url,
        body.form_id,
        body.ip,
        body.user_agent,
        actor_of(account),
    )
    return record.as_dict()


@router.get("/contacts/{phone}/consents", tags=["consent"])
async def contact_consents(phone: Phone, account: Account, request: Request) -> dict[str, Any]:
    """The contact's written consent records, oldest first, each with its language."""
    records = await run_in_threadpool(engine_of(request).consents, account.name, phone)
    return {"consents": [r.as_dict() for r in records]}
