"""The pure rules of settling a send: provider statuses, failure reasons, the
operator's reason and the ledger event."""

from __future__ import annotations

import pytest

from optline.domain.consent import EventType, Source
from optline.domain.messages import (
    MAX_REASON_CHARS,
    UNSETTLED,
    MessageStatus,
    SettledAs,
    Via,
    may_replace,
    operator_reason,
    provider_failure,
    settled_by_provider,
    settled_event,
)
from optline.providers.registry import FINAL_STATUSES
from optline.store.schema import UNSETTLED_STATUSES


@pytest.mark.parametrize(
    "status",
    ["accepted", "scheduled", "queued", "sending", "sent", "delivered", "read", " Delivered "],
)
def test_a_text_the_provider_took_is_sent(status: str) -> None:
    assert settled_by_provider(status) is SettledAs.SENT


@pytest.mark.parametrize(
    "status", ["failed", "undelivered", "canceled", "sending_failed", "delivery_failed"]
)
def test_a_text_the_provider_did_not_take_is_failed(status: str) -> None:
    assert settled_by_provider(status) is SettledAs.FAILED


@pytest.mark.parametrize("status", ["", "received", "receiving", "unknown", "lost"])
def test_a_status_that_says_neither_settles_nothing(status: str) -> None:
    assert settled_by_provider(status) is None


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
