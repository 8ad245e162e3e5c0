"""The REST API's JSON views: functions from a stored row or state to the JSON object
the API answers with. What a client sees of a row is decided here, and only here."""

from __future__ import annotations

from typing import Any, TypeVar

from optline.domain.consent import ContactState
from optline.domain.policy import Policy
from optline.domain.policy_overrides import effective_fields, override_values
from optline.domain.projection import Projection
from optline.store import AccountRow, ListRow, MessageRow, SenderRow, StoredEvent
from optline.store.rows import UserChangeRow, UserRow

T = TypeVar("T")


def account_view(row: AccountRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "profile": row.profile, "overrides": row.overrides}


def policy_view(row: AccountRow, policy: Policy) -> dict[str, Any]:
    """The account's profile and overrides, every overridable field's value now
    (``fields``), and each with where it comes from (``effective``)."""
    return {
        "profile": row.profile,
        "overrides": row.overrides,
        "name": policy.name,
        "fields": override_values(policy),
        "effective": effective_fields(policy, row.overrides),
    }


def sender_view(row: SenderRow) -> dict[str, Any]:
    # Credentials are write-only: show which are set, never their values.
    return {
        "number": row.number,
        "kind": row.kind.value,
        "provider": row.provider,
        "credentials": sorted(row.credentials),
        "provider_replies": row.provider_replies,
    }


def contact_view(state: ContactState, record: Projection | None = None) -> dict[str, Any]:
    """A contact; with its ``record``, every scope of its consent with the method,
    time and event that set it (``scopes``)."""
    view: dict[str, Any] = {
        "phone": state.phone,
        "status": state.status_from(None).value,
        "blocked": state.blocked,
        "senders": {k: v.value for k, v in state.sender_status.items()},
        "lists": dict(state.lists),
        "purposes": {k: v.value for k, v in state.purposes.items()},
    }
    if record is not None:
        view["scopes"] = [row.as_dict() for row in record.rows()]
    return view


def list_view(row: ListRow) -> dict[str, Any]:
    return {"name": row.name, "opt_out_keyword": row.opt_out_keyword, "purpose": row.purpose}


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
        "disclosure": message.disclosure,
        "provider_id": message.provider_id,
        "at": message.created_at.isoformat(),
        "redacted_at": message.redacted_at.isoformat() if message.redacted_at else None,
        "sent_by": message.sent_by,
        "sent_via": message.sent_via,
    }


def page_of(rows: list[T], limit: int) -> tuple[list[T], T | None]:
    """The first ``limit`` of ``rows`` (read as ``limit + 1``) and, when more follow,
    the last row of the page, whose key is the next page's cursor."""
    page = rows[:limit]
    return page, page[-1] if len(rows) > limit and page else None


def user_view(user: UserRow, keys: int | None = None) -> dict[str, Any]:
    """A user as the API and the CLI show them (``keys``: how many API keys they hold)."""
    data: dict[str, Any] = {
        "name": user.name,
        "role": user.role.value,
        "active": user.active,
        "created_at": user.created_at.isoformat(),
        "created_by": user.created_by,
        "last_sign_in_at": user.last_sign_in_at.isoformat() if user.last_sign_in_at else None,
    }
    return data if keys is None else {**data, "api_keys": keys}


def user_change_view(change: UserChangeRow) -> dict[str, Any]:
    return {
        "user": change.user_name,
        "change": change.change.value,
        "by": change.by,
        "via": change.via,
        "at": change.at.isoformat(),
    }
