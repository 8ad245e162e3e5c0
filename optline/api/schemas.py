"""The REST API's request bodies: pydantic models, one per kind of body, with the
limits the OpenAPI document shows. No routes and no engine calls here."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from optline.domain import inputs
from optline.domain.actors import DEFAULT_KEY_NAME
from optline.domain.consent_codes import Method
from optline.domain.policy import SenderKind

#: A contact's phone number as a path parameter (checked by the engine).
Phone = str
#: The most rows one page of a listing holds.
PAGE_LIMIT = 1000
#: ``older_than``: a number of seconds, up to ten years.
OlderThan = Annotated[
    int,
    Query(ge=0, le=10 * 365 * 24 * 3600, description="only texts recorded this many seconds ago"),
]

# A text the engine checks (optline.domain.inputs) whichever way it comes in: the
# schema shows its limit, the engine refuses what passes it (422 bad_input), as it
# does for the CLI and the web UI.


def _most(chars: int, required: bool = True) -> dict[str, Any]:
    return {"maxLength": chars, **({"minLength": 1} if required else {})}


class NewAccount(BaseModel):
    name: str = Field(json_schema_extra=_most(inputs.MAX_ACCOUNT_NAME_CHARS))
    profile: str = "default"
    overrides: dict[str, Any] = Field(default_factory=dict)
    # Recorded as who made each change made with the key (API, web UI).
    key_name: str = Field(default=DEFAULT_KEY_NAME, json_schema_extra=_most(inputs.MAX_ACTOR_CHARS))


class NewSender(BaseModel):
    number: str = Field(min_length=1, max_length=64)
    kind: SenderKind = SenderKind.LONG_CODE
    provider: Literal["twilio", "telnyx", "generic"] | None = None
    credentials: dict[str, str] = Field(default_factory=dict)
    # The provider answers keywords itself (Twilio Advanced Opt-Out): record, never reply.
    provider_replies: bool = False


class OptOutBody(BaseModel):
    sender: str | None = None
    # Of this purpose alone, from every sender (optline.domain.purposes).
    purpose: str | None = Field(default=None, max_length=40, examples=["marketing"])
    note: str | None = Field(default=None, json_schema_extra=_most(inputs.MAX_NOTE_CHARS, False))


class OptInBody(BaseModel):
    evidence: str | None = Field(
        default=None, json_schema_extra=_most(inputs.MAX_EVIDENCE_CHARS, False)
    )
    sender: str | None = None
    method: Method = Method.MANUAL
    # To this purpose alone, from every sender.
    purpose: str | None = Field(default=None, max_length=40, examples=["marketing"])


class Numbers(BaseModel):
    numbers: list[str] = Field(min_length=1, max_length=10_000)


class NewList(BaseModel):
    name: str = Field(json_schema_extra=_most(inputs.MAX_LIST_NAME_CHARS))
    opt_out_keyword: str | None = Field(
        default=None, json_schema_extra=_most(inputs.MAX_KEYWORD_CHARS)
    )
    # The purpose its texts are of; null: each send's own.
    purpose: str | None = Field(default=None, max_length=40, examples=["marketing"])


class NewPurpose(BaseModel):
    name: str = Field(min_length=1, max_length=40, examples=["appointment_reminders"])


class NewTrigger(BaseModel):
    keyword: str = Field(json_schema_extra=_most(inputs.MAX_KEYWORD_CHARS))
    reply: str = Field(json_schema_extra=_most(inputs.MAX_OUTBOUND_CHARS))
    unsubscribe_list: str | None = None
    subscribe_list: str | None = None
    confirm_purpose: str | None = Field(
        default=None,
        max_length=40,
        description="a join keyword that asks for the contact's YES first (double opt-in),"
        " recording written consent for this purpose",
    )


class ContactLocationBody(BaseModel):
    """A contact's time zone and US state for the send windows; null: from the number."""

    time_zone: str | None = Field(default=None, max_length=64, examples=["America/Chicago"])
    state: str | None = Field(default=None, max_length=2, examples=["OK"])


class PolicyChange(BaseModel):
    profile: str | None = None
    overrides: dict[str, Any] | None = None


class OutboundText(BaseModel):
    from_: str = Field(alias="from", min_length=1, max_length=64)
    to: str = Field(min_length=1, max_length=64)
    body: str = Field(json_schema_extra=_most(inputs.MAX_OUTBOUND_CHARS))
    list_name: str | None = Field(default=None, alias="list")
    campaign: bool = False
    # The text's purpose; null: its list's, else marketing for a campaign text and
    # informational for another. A marketing text is a campaign text.
    purpose: str | None = Field(default=None, max_length=40, examples=["marketing"])


class Broadcast(BaseModel):
    from_: str = Field(alias="from", min_length=1, max_length=64)
    body: str = Field(json_schema_extra=_most(inputs.MAX_OUTBOUND_CHARS))
    list_name: str | None = Field(default=None, alias="list")
    numbers: list[str] | None = Field(default=None, max_length=100_000)
    campaign: bool = True
    purpose: str | None = Field(default=None, max_length=40, examples=["marketing"])


class NewSubscription(BaseModel):
    url: str = Field(
        json_schema_extra={**_most(inputs.MAX_URL_CHARS), "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
        description="An absolute http or https URL with a host.",
    )
    events: list[str] = Field(json_schema_extra={"minItems": 1})
