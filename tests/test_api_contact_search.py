"""GET /v1/contacts at its fullest: search by part of a number, filters by status in a
scope, list, method and time of the change, and the exact count of what they keep."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from test_api_support import A, B, Tenant, assert_problem

from optline.domain.consent_codes import Reason
from optline.engine import Engine

NUMBERS = [f"+1415555{3000 + i:04d}" for i in range(12)] + ["+12025550143", "+13125550188"]


def walk(tenant: Tenant, limit: int = 5, **filters: str) -> tuple[list[str], int]:
    """Every page of a filtered listing, and the total the first page counted."""
    seen: list[str] = []
    cursor: str | None = None
    total = None
    while True:
        params = {**filters, "limit": str(limit), "count": "true"}
        if cursor:
            params["cursor"] = cursor
        page = tenant.ok("GET", f"/v1/contacts?{urlencode(params)}")
        total = page["total"] if total is None else total
        assert page["total"] == total
        seen += [c["phone"] for c in page["contacts"]]
        cursor = page["next_cursor"]
        if cursor is None:
            assert total == len(seen)
            return seen, total


@pytest.fixture
def people(acme: Tenant, engine: Engine) -> dict[str, Any]:
    """Per-sender consent (twilio profile): keyword opt-outs from A, a manual one for
    the whole account, opt-ins by hand and a web form, one blocked."""
    acme.ok("PUT", "/v1/policy", {"profile": "twilio"})
    acme.ok("POST", "/v1/lists", {"name": "news"}, status=201)
    acme.ok("POST", "/v1/lists/news/members", {"numbers": NUMBERS[:4]})
    for number in NUMBERS[4:7]:
        engine.receive("acme", number, A, "STOP")
    acme.ok("POST", f"/v1/contacts/{NUMBERS[7]}/opt-out", {"note": "asked by phone"})
    for number in NUMBERS[8:10]:
        acme.ok("POST", f"/v1/contacts/{number}/opt-in", {"evidence": "paper form"})
    acme.ok("POST", f"/v1/contacts/{NUMBERS[10]}/opt-in", {"evidence": "x", "method": "web_form"})
    acme.ok("POST", f"/v1/contacts/{NUMBERS[11]}/block")
    for number in NUMBERS[12:]:
        acme.ok("POST", f"/v1/contacts/{number}/opt-in", {"evidence": "x"})
    return {"stopped": NUMBERS[4:7]}


def test_every_filter_keeps_what_it_says_and_counts_it_exactly(
    acme: Tenant, people: dict[str, Any]
) -> None:
    everyone = sorted(NUMBERS)
    assert walk(acme) == (everyone, len(everyone))
    # Part of a number: its start as typed with separators, or digits anywhere.
    assert walk(acme, number="+1 (415) 555-300")[0] == NUMBERS[:10]
    assert walk(acme, number="+1202")[0] == ["+12025550143"]
    assert walk(acme, number="5550188")[0] == ["+13125550188"]
    assert walk(acme, number="3011", limit=1)[0] == [NUMBERS[11]]
    assert walk(acme, number="+1999") == ([], 0)
    # Opted out in some scope: A's own (keyword) and the account's (by hand).
    stopped = people["stopped"]
    assert walk(acme, status="opted_out")[0] == [*stopped, NUMBERS[7]]
    assert walk(acme, status="opted_out", sender=A)[0] == [*stopped, NUMBERS[7]]
    assert walk(acme, status="opted_out", sender=B)[0] == [NUMBERS[7]]
    assert walk(acme, status="opted_out", method="keyword")[0] == stopped
    assert walk(acme, status="opted_out", method="keyword", sender=B) == ([], 0)
    # A block opts out by hand too (the status filter leaves blocked contacts out).
    by_hand = sorted([*NUMBERS[7:10], NUMBERS[11], *NUMBERS[12:]])
    assert walk(acme, method="manual")[0] == by_hand
    assert walk(acme, method="web_form")[0] == [NUMBERS[10]]
    assert walk(acme, status="blocked")[0] == [NUMBERS[11]]
    assert walk(acme, status="opted_in", list="news") == ([], 0)
    assert walk(acme, status="no_consent", list="news")[0] == NUMBERS[:4]


def test_the_time_of_the_change_filters_by_the_scope_it_set(
    acme: Tenant, people: dict[str, Any]
) -> None:
    page = acme.ok("GET", "/v1/contacts?status=opted_in&limit=100")
    times = sorted(
        (scope["since"], c["phone"])
        for c in page["contacts"]
        for scope in c["scopes"]
        if scope["status"] == "opted_in"
    )
    middle, phone = times[len(times) // 2]
    later = sorted(p for at, p in times if at >= middle)
    assert phone in later
    found, _ = walk(acme, status="opted_in", changed_since=middle)
    assert found == later
    earlier, _ = walk(acme, status="opted_in", changed_before=middle)
    assert sorted(earlier + found) == sorted(p for _, p in times)
    assert walk(acme, changed_since="2999-01-01T00:00:00Z") == ([], 0)


def test_bad_filters_are_clear_problems(acme: Tenant, people: dict[str, Any]) -> None:
    assert_problem(acme.get("/v1/contacts?number=415abc"), 422, "bad_input")
    assert_problem(acme.get("/v1/contacts?number=%2B"), 422, "bad_input")
    assert_problem(acme.get("/v1/contacts?method=carrier_pigeon"), 422, "invalid_request")
    assert_problem(acme.get("/v1/contacts?changed_since=yesterday"), 422, "invalid_request")
    naive = acme.get("/v1/contacts?changed_since=2026-01-01T00:00:00")
    assert "time zone" in assert_problem(naive, 422, "bad_input")["detail"]
    assert_problem(acme.get("/v1/contacts?sender=%2B14155550177"), 404, "unknown_sender")
    # Without count=true no total is counted.
    assert "total" not in acme.ok("GET", "/v1/contacts")


def test_a_purpose_filter_is_the_status_the_send_gate_decides_by(
    acme: Tenant, engine: Engine
) -> None:
    """Per purpose: a purpose's own consent decides, else the account's; each contact
    kept agrees with the engine's own check of a text of that purpose."""
    acme.ok("POST", "/v1/purposes", {"name": "reminders"}, status=201)
    n0, n1, n2, n3, n4 = NUMBERS[:5]
    acme.ok("POST", "/v1/lists", {"name": "news"}, status=201)
    acme.ok("POST", "/v1/lists/news/members", {"numbers": [n4]})
    for number in (n0, n1):
        acme.ok("POST", f"/v1/contacts/{number}/opt-in", {"evidence": "paper form"})
    acme.ok("POST", f"/v1/contacts/{n0}/opt-out", {"purpose": "marketing", "note": "by phone"})
    acme.ok(
        "POST",
        f"/v1/contacts/{n2}/opt-in",
        {"evidence": "x", "purpose": "reminders", "method": "web_form"},
    )
    acme.ok("POST", f"/v1/contacts/{n3}/opt-out")
    assert walk(acme, status="opted_out", purpose="marketing") == ([n0, n3], 2)
    assert walk(acme, status="opted_in", purpose="marketing") == ([n1], 1)
    assert walk(acme, status="opted_in", purpose="informational")[0] == [n0, n1]
    assert walk(acme, status="opted_in", purpose="reminders")[0] == [n0, n1, n2]
    assert walk(acme, status="opted_in", purpose="reminders", sender=A)[0] == [n0, n1, n2]
    assert walk(acme, status="no_consent", purpose="reminders") == ([n4], 1)
    # The method and time are the deciding scope's: n0's marketing opt-out by hand.
    assert walk(acme, status="opted_out", purpose="marketing", method="manual")[0] == [n0, n3]
    assert walk(acme, method="manual", purpose="reminders")[0] == [n0, n1, n3]
    assert walk(acme, method="web_form", purpose="reminders") == ([n2], 1)
    assert walk(acme, purpose="reminders", changed_since="2999-01-01T00:00:00Z") == ([], 0)
    for purpose in ("marketing", "informational", "reminders"):
        out = set(walk(acme, status="opted_out", purpose=purpose, sender=A)[0])
        opted_in = set(walk(acme, status="opted_in", purpose=purpose, sender=A)[0])
        for number in NUMBERS:
            reason = engine.check("acme", A, number, "hi", purpose=purpose).reason
            assert (number in out) == (reason is Reason.OPTED_OUT), (number, purpose)
            if number in opted_in:
                assert reason not in (Reason.OPTED_OUT, Reason.NO_CONSENT), (number, purpose)
    assert_problem(acme.get("/v1/contacts?purpose=weekly"), 404, "unknown_purpose")
    assert_problem(acme.get("/v1/contacts?purpose=Not%20A%20Name"), 422, "bad_input")
