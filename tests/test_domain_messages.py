"""The pure rules of settling a send: failure reasons, the operator's reason and the
ledger event (a provider's status names are its own: test_providers_registry)."""

from __future__ import annotations

import pytest

from optline.domain.consent_codes import EventType, Source
from optline.domain.messages import (
    MAX_REASON_CHARS,
    UNSETTLED,
    MessageStatus,
    SettledAs,
    Via,
    may_replace,
    operator_reason,
    provider_failure,
    settled_event,
)
from optline.providers.registry import FINAL_STATUSES
from optline.store.schema import UNSETTLED_STATUSES


def test_failure_reasons_follow_the_status_reports() -> None:
    assert provider_failure("30003", opted_out=False) == "provider_30003"
    assert provider_failure("21610", opted_out=True) == "opted_out"
    assert provider_failure(None, opted_out=False) == "provider_error"


def test_an_operators_reason_is_required_short_and_on_one_line() -> None:
    assert operator_reason("  checked the log ") == "checked the log"
    for bad in ("", "   ", "a\nb", "tab\there", "x" * (MAX_REASON_CHARS + 1)):
        with pytest.raises(ValueError):
            operator_reason(bad)
    assert operator_reason("x" * MAX_REASON_CHARS)


def test_the_settled_event_says_what_who_and_why() -> None:
    event = settled_event(
        "+14155552671",
        "+14155550100",
        7,
        MessageStatus.SENDING.value,
        SettledAs.FAILED,
        Source.MANUAL,
        "ann",
        Via.UI,
        reason="no record",
        code=None,
    )
    assert event.type is EventType.SEND_SETTLED and event.phone == "+14155552671"
    assert dict(event.data) == {
        "source": "manual",
        "sender": "+14155550100",
        "message_id": 7,
        "was": "sending",
        "status": "failed",
        "by": "ann",
        "via": "ui",
        "reason": "no record",
    }


def test_the_stores_partial_index_holds_the_same_statuses() -> None:
    assert UNSETTLED_STATUSES == tuple(s.value for s in UNSETTLED) == ("queued", "sending")


def test_a_final_status_is_never_replaced_by_an_earlier_one() -> None:
    final = FINAL_STATUSES
    # Reports arrive out of order: a late "sent" never undoes "delivered".
    assert not may_replace("delivered", "sent", final)
    assert not may_replace(MessageStatus.FAILED, MessageStatus.SENT, final)
    assert not may_replace("undelivered", "queued", final)
    # A final status may still become another final one.
    assert may_replace("delivered", "undelivered", final)
    assert may_replace("sent", "delivered", final)
    # optline's own moves all pass.
    for old, new in [
        (MessageStatus.QUEUED, MessageStatus.SENDING),
        (MessageStatus.SENDING, MessageStatus.SENT),
        (MessageStatus.SENDING, MessageStatus.FAILED),
        (MessageStatus.QUEUED, MessageStatus.FAILED),
    ]:
        assert may_replace(old, new, final)
    assert MessageStatus.FAILED in FINAL_STATUSES
    assert not {MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT} & FINAL_STATUSES
