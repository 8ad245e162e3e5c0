"""Unsettled sends through the REST API: listed by age, settled by hand with the
ledger naming the API key's account, counted by /v1/stats; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from test_api_support import (
    BOB,
    EVE,
    OTHER,
    A,
    Tenant,
    assert_problem,
)

from optline.engine import Engine


def left(engine: Engine, account: str, to: str, status: str, ago: timedelta, body: str) -> int:
    """A send a crash left ``status`` (queued or sending), recorded ``ago``."""
    with engine.store.transaction() as tx:
        row = tx.accounts.by_name(account)
        assert row is not None
        return tx.messages.record_outbound(
            row.id,
            phone=to,
            sender=OTHER if account == "other" else A,
            body=body,
            status=status,
            reason=None,
            list_name=None,
            campaign=False,
            at=datetime.now(UTC) - ago,
        )


def test_the_listing_takes_an_age_and_refuses_a_bad_one(acme: Tenant, engine: Engine) -> None:
    old = left(engine, "acme", BOB, "queued", timedelta(minutes=10), "old")
    left(engine, "acme", EVE, "queued", timedelta(seconds=5), "new")
    listed = acme.ok("GET", "/v1/messages?status=queued&older_than=300")["messages"]
    assert [m["id"] for m in listed] == [old]
    assert len(acme.ok("GET", "/v1/messages?status=queued")["messages"]) == 2
    for bad in ("-1", "x", str(10**12)):
        assert_problem(acme.get(f"/v1/messages?status=queued&older_than={bad}"), 422)


def test_an_operator_settles_a_send_through_the_api(acme: Tenant, engine: Engine) -> None:
    acme.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": "hello"})  # BOB's first
    stuck = left(engine, "acme", BOB, "sending", timedelta(minutes=1), "Cut off")
    assert acme.ok("GET", "/v1/stats") == {
        "unsettled_sends": {"queued": 0, "sending": 1},
        "older_than": 300,
    }

    settled = acme.ok(
        "POST", f"/v1/messages/{stuck}/settle", {"as": "failed", "reason": "not in Twilio's log"}
    )
    assert (settled["id"], settled["status"], settled["reason"]) == (
        stuck,
        "failed",
        "settled_by_operator",
    )
    event = acme.ok("GET", f"/v1/contacts/{BOB}/history")["events"][-1]
    assert event["type"] == "send_settled"
    assert {k: event["data"][k] for k in ("by", "via", "reason", "was", "status")} == {
        "by": "default",  # the name of the key that asked
        "via": "api",
        "reason": "not in Twilio's log",
        "was": "sending",
        "status": "failed",
    }
    assert acme.ok("GET", "/v1/ledger/verify")["ok"] is True
    assert acme.ok("GET", "/v1/stats")["unsettled_sends"] == {"queued": 0, "sending": 0}
    assert_problem(
        acme.post(f"/v1/messages/{stuck}/settle", {"as": "sent", "reason": "again"}),
        409,
        "already_settled",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"as": "lost", "reason": "x"},
        {"as": "sent"},
        {"as": "sent", "reason": ""},
        {"as": "sent", "reason": "x" * 501},
        {"as": "sent", "reason": "two\nlines"},
        {"as": "sent", "reason": "   "},
        {"reason": "x"},
        [],
    ],
)
def test_a_bad_settlement_is_a_422_and_changes_nothing(
    acme: Tenant, engine: Engine, body: object
) -> None:
    stuck = left(engine, "acme", BOB, "sending", timedelta(minutes=1), "Cut off")
    assert_problem(acme.post(f"/v1/messages/{stuck}/settle", body), 422)
    assert acme.ok("GET", f"/v1/messages/{stuck}")["status"] == "sending"
    assert acme.ok("GET", f"/v1/contacts/{BOB}/history")["events"] == []


def test_only_the_accounts_own_unsettled_sends_can_be_settled(
    acme: Tenant, other: Tenant, engine: Engine
) -> None:
    theirs = left(engine, "other", BOB, "sending", timedelta(minutes=1), "B's")
    ok = {"as": "sent", "reason": "checked"}
    assert_problem(acme.post(f"/v1/messages/{theirs}/settle", ok), 404, "unknown_message")
    assert acme.ok("GET", "/v1/stats")["unsettled_sends"]["sending"] == 0
    assert other.ok("GET", "/v1/stats")["unsettled_sends"]["sending"] == 1
    assert other.ok("GET", f"/v1/messages/{theirs}")["status"] == "sending"
    for bad in ("0", "x", str(2**63)):
        assert_problem(acme.post(f"/v1/messages/{bad}/settle", ok), 422)
    # An inbound text, and a send already settled, are not the operator's to settle.
    engine.receive("acme", EVE, A, "hello", provider_id="SMin")
    received = acme.ok("GET", f"/v1/contacts/{EVE}/history")["messages"][0]["id"]
    assert_problem(acme.post(f"/v1/messages/{received}/settle", ok), 409, "already_settled")
    assert_problem(acme.get("/v1/stats?older_than=-5"), 422)
    assert acme.client.get("/v1/stats").status_code == 401
