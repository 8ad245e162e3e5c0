"""An account's overrides of its profile's policy fields: which fields may be
overridden, the check that turns each stored JSON value into the field's value, and
the effective values (profile and overrides together) as JSON.

A field is overridable only through :data:`OVERRIDES`: adding a policy field an
account may change means adding its check here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from optline.domain import window_rules
from optline.domain.policy import (
    DisclosureForm,
    NoConsent,
    Policy,
    Replies,
    Resubscribe,
    Scope,
    WrongNumber,
)
from optline.domain.revoke_all import RevokeAll
from optline.domain.window_rules import SendWindow


class BadOverride(ValueError):
    pass


def _shown(value: Any) -> str:
    """A refused value as an error message quotes it: at most 40 characters of it."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _boolean(name: str, value: Any, _: Policy) -> bool:
    if not isinstance(value, bool):
        raise BadOverride(f"{name} must be true or false, not {_shown(value)}")
    return value


def _text(name: str, value: Any, _: Policy) -> str:
    if not isinstance(value, str):
        raise BadOverride(f"{name} must be a text, not {_shown(value)}")
    return value


def _hours(name: str, value: Any, _: Policy) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 24 * 30:
        raise BadOverride(f"{name} must be a whole number of hours from 1 to 720")
    return value


def _text_or_null(name: str, value: Any, policy: Policy) -> str | None:
    return None if value is None else _text(name, value, policy)


def _one_of(kind: type[StrEnum]) -> Callable[[str, Any, Policy], StrEnum]:
    def member(name: str, value: Any, _: Policy) -> StrEnum:
        try:
            return kind(value)
        except ValueError:
            raise BadOverride(f"{name} must be one of {[m.value for m in kind]}") from None

    return member


def _days_or_null(name: str, value: Any, _: Policy) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
        raise BadOverride(f"{name} must be a whole number of days from 1 to 3650, or null")
    return value


def _revoke_all(name: str, value: Any, _: Policy) -> RevokeAll:
    try:
        return RevokeAll.parse(value)
    except ValueError as exc:
        raise BadOverride(f"{name} {exc}, not {_shown(value)}") from None


def _minutes(name: str, value: Any, _: Policy) -> int:
    # One minute to a week: a question left open longer keeps the contact's campaign
    # texts in doubt for no reason.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10080:
        raise BadOverride(f"{name} must be a whole number of minutes from 1 to 10080")
    return value


def _send_windows(name: str, value: Any, _: Policy) -> tuple[SendWindow, ...]:
    try:
        return window_rules.from_json(value)
    except ValueError as exc:
        raise BadOverride(f"{name}: {exc}") from None


def _replies_or_null(name: str, value: Any, policy: Policy) -> Replies | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadOverride(f"{name} must be an object of reply texts")
    if not all(isinstance(text, str) for text in value.values()):
        raise BadOverride(f"{name}: every reply must be a text")
    try:
        return dataclasses.replace(policy.replies["en"], **dict(value))
    except TypeError as exc:
        raise BadOverride(f"{name}: {exc}") from None


#: Every field an account may override, with the check that turns its JSON value into
#: the field's value (or raises BadOverride): no field is overridable unchecked.
OVERRIDES: Mapping[str, Callable[[str, Any, Policy], Any]] = MappingProxyType(
    {
        "single_keyword_only": _boolean,
        "typo_tolerance": _boolean,
        "flag_plain_language": _boolean,
        "scope": _one_of(Scope),
        "opt_out_all_widens": _boolean,
        "opt_in_all_senders": _boolean,
        "implicit_opt_in": _boolean,
        "resubscribe": _one_of(Resubscribe),
        "no_consent": _one_of(NoConsent),
        "one_confirmation_per_opt_out": _boolean,
        "clarify_possible_opt_out": _boolean,
        "hold_campaigns_on_review": _boolean,
        "toll_free_network_replies": _boolean,
        "first_text_disclosure": _text_or_null,
        "first_text_disclosure_form": _one_of(DisclosureForm),
        "campaign_opt_out_language_required": _boolean,
        "brand": _text,
        "support_contact": _text,
        "custom_replies": _replies_or_null,
        "send_windows": _send_windows,
        "send_windows_informational": _boolean,
        "send_windows_on_replies": _boolean,
        "written_consent_required": _boolean,
        "double_opt_in_hours": _hours,
        "message_frequency": _text,
        "wrong_number": _one_of(WrongNumber),
        "reassigned_check_after_days": _days_or_null,
        "revoke_all": _revoke_all,
        "purpose_choice_minutes": _minutes,
    }
)


def with_overrides(policy: Policy, overrides: Mapping[str, Any]) -> Policy:
    """The policy with an account's field overrides applied (values as stored in JSON)."""
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        check = OVERRIDES.get(name)
        if check is None:
            raise BadOverride(f"policy field {name!r} cannot be overridden")
        changes[name] = check(name, value, policy)
    return dataclasses.replace(policy, **changes)


def override_values(policy: Policy) -> dict[str, Any]:
    """The policy's value of every field an account may override, as JSON values: what
    the account's texts follow now, its profile and overrides together."""
    values: dict[str, Any] = {}
    for name in OVERRIDES:
        value = getattr(policy, name)
        if isinstance(value, Replies):
            value = dataclasses.asdict(value)
        elif isinstance(value, StrEnum):
            value = value.value
        elif isinstance(value, RevokeAll):
            value = value.as_json()
        values[name] = value
    return values


class Origin(StrEnum):
    """Where an effective policy field's value comes from."""

    PROFILE = "profile"
    OVERRIDE = "override"  # the account's own override of its profile's value


def effective_fields(policy: Policy, overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every field an account may override, with the value its texts follow now and
    whether the profile or the account's ``overrides`` set it."""
    return {
        name: {"value": value, "origin": Origin.OVERRIDE if name in overrides else Origin.PROFILE}
        for name, value in override_values(policy).items()
    }
