"""``POST /v1/contacts/{phone}/move`` through the real app on real databases: the
contact's consent and lists go to the new number with evidence, on both ledgers with
the key that did it; a number with history of its own is a clear 409."""

from __future__ import annotations

from test_api_support import BOB, EVE, ZED, Tenant, assert_problem


def opt_in(tenant: Tenant, phone: str) -> None:
    tenant.ok("POST", "/v1/lists", {"name": "news"}, status=201)
    tenant.ok("POST", f"/v1/contacts/{phone}/opt-in", {"evidence": "signed form 2026-11-30"})
    tenant.ok("POST", "/v1/lists/news/members", {"numbers": [phone]})


def test_a_move_answers_both_numbers_and_both_ledgers_name_the_key(acme: Tenant) -> None:
    opt_in(acme, BOB)
    moved = acme.ok("POST", f"/v1/contacts/{BOB}/move", {"to": ZED, "evidence": "Bob, by phone"})

    assert (moved["from"]["phone"], moved["from"]["status"]) == (BOB, "no_consent")
    assert moved["from"]["lists"] == {} and moved["from"]["scopes"][0]["method"] is None
    assert (moved["to"]["phone"], moved["to"]["status"]) == (ZED, "opted_in")
    assert moved["to"]["lists"] == {"news": True}
    assert moved["to"]["scopes"][0]["method"] == "manual"
    old = acme.ok("GET", f"/v1/contacts/{BOB}/history")["events"][-1]
    new = acme.ok("GET", f"/v1/contacts/{ZED}/history")["events"][-1]
    assert (old["type"], old["data"]["to"], old["data"]["via"]) == ("number_moved_out", ZED, "api")
    assert (new["type"], new["data"]["from"], new["data"]["by"]) == (
        "number_moved_in",
        BOB,
        "default",
    )
    assert old["data"]["evidence"] == new["data"]["evidence"] == "Bob, by phone"
    assert acme.ok("GET", "/v1/ledger/verify")["ok"] is True


def test_a_move_onto_a_number_with_history_is_409_until_confirmed(acme: Tenant) -> None:
    opt_in(acme, BOB)
    acme.ok("POST", f"/v1/contacts/{ZED}/opt-out")
    body = {"to": ZED, "evidence": "Bob, by email"}
    detail = assert_problem(acme.post(f"/v1/contacts/{BOB}/move", body), 409, "number_has_history")[
        "detail"
    ]
    assert "replace_history" in detail
    assert acme.ok("GET", f"/v1/contacts/{BOB}")["status"] == "opted_in"
    moved = acme.ok("POST", f"/v1/contacts/{BOB}/move", {**body, "replace_history": True})
    assert moved["to"]["status"] == "opted_in"


def test_a_bad_move_is_a_clear_4xx_and_writes_nothing(acme: Tenant) -> None:
    opt_in(acme, BOB)
    path = f"/v1/contacts/{BOB}/move"
    assert_problem(acme.post(path, {"to": ZED}), 422)
    assert_problem(acme.post(path, {"to": ZED, "evidence": "   "}), 422, "bad_input")
    assert_problem(acme.post(path, {"to": "12", "evidence": "x"}), 422, "bad_input")
    assert_problem(acme.post(path, {"to": BOB, "evidence": "x"}), 422, "bad_input")
    assert_problem(
        acme.post(f"/v1/contacts/{EVE}/move", {"to": ZED, "evidence": "x"}), 404, "unknown_contact"
    )
    assert acme.ok("GET", f"/v1/contacts/{ZED}/history")["events"] == []
    assert acme.ok("GET", f"/v1/contacts/{BOB}")["status"] == "opted_in"
