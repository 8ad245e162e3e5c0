"""The review queue through the API, the CLI and the web UI (on SQLite and PostgreSQL):
listed in pages with the exact count, resolved as an opt-out or dismissed with a
reason, each resolution on the ledger with who made it; the home page counts exactly."""

from __future__ import annotations

import getpass

from cli_support import Cli
from fastapi.testclient import TestClient
from test_api_support import BOB, EVE, A, Tenant, assert_problem
from web_support import sign_in

from optline.cli import app as cli_app
from optline.engine import Engine

MAYBE = "how do i stop these texts?"
HOST = {"origin": "http://testserver"}


def _flag_seqs(tenant: Tenant) -> list[int]:
    return [f["seq"] for f in tenant.ok("GET", "/v1/review")["flagged"]]


def test_the_api_pages_and_resolves_flags(acme: Tenant, engine: Engine) -> None:
    for number in (BOB, EVE, "+13125550111"):
        engine.receive("acme", number, A, MAYBE)
    first = acme.ok("GET", "/v1/review?limit=2")
    assert (len(first["flagged"]), first["open"]) == (2, 3)
    rest = acme.ok("GET", f"/v1/review?limit=2&before={first['next']}")
    assert (len(rest["flagged"]), rest["next"]) == (1, None)
    assert_problem(acme.client.get("/v1/review?limit=0", headers=acme.headers), 422)

    bob, eve = (f for f in first["flagged"] + rest["flagged"] if f["phone"] in (BOB, EVE))
    out = acme.ok("POST", f"/v1/review/{bob['seq']}/opt-out", {"note": "clearly stop"})
    assert (out["resolution"], out["phone"]) == ("opted_out", bob["phone"])
    assert acme.ok("GET", f"/v1/contacts/{bob['phone']}")["status"] == "opted_out"
    again = acme.client.post(f"/v1/review/{bob['seq']}/opt-out", headers=acme.headers)
    assert_problem(again, 409, "already_resolved")

    url = f"/v1/review/{eve['seq']}/dismiss"
    assert_problem(acme.client.post(url, json={"reason": ""}, headers=acme.headers), 422)
    dismissed = acme.ok("POST", url, {"reason": "asked about the bill"})
    assert dismissed["resolution"] == "dismissed"
    assert acme.ok("GET", "/v1/review")["open"] == 1
    missing = acme.client.post(
        "/v1/review/999999/dismiss", json={"reason": "x"}, headers=acme.headers
    )
    assert_problem(missing, 404, "unknown_flag")

    events = acme.ok("GET", f"/v1/contacts/{eve['phone']}/history")["events"]
    assert events[-1]["type"] == "flag_dismissed"
    data = events[-1]["data"]
    assert (data["flag"], data["by"], data["via"], data["note"]) == (
        eve["seq"],
        "default",  # the name of the API key that asked
        "api",
        "asked about the bill",
    )


def test_a_seq_past_the_ledgers_range_is_refused_not_a_crash(acme: Tenant) -> None:
    # The ledger's seq is a 32-bit column: PostgreSQL would refuse a larger number.
    past = 2**31
    assert_problem(acme.client.get(f"/v1/review?before={past}", headers=acme.headers), 422)
    refused = acme.client.post(f"/v1/review/{past}/opt-out", headers=acme.headers)
    assert_problem(refused, 422)
    assert sign_in(acme.client, acme.key).status_code == 303
    assert acme.client.get(f"/ui/review?before={10**12}").status_code == 200
    assert acme.client.post(f"/ui/review/{past}/opt-out", headers=HOST).status_code == 404


def test_another_accounts_flag_is_unknown(acme: Tenant, other: Tenant, engine: Engine) -> None:
    engine.receive("acme", BOB, A, MAYBE)
    (seq,) = _flag_seqs(acme)
    refused = other.client.post(f"/v1/review/{seq}/opt-out", headers=other.headers)
    assert_problem(refused, 404, "unknown_flag")
    assert _flag_seqs(acme) == [seq]


def test_the_cli_lists_and_resolves_flags_as_its_actor(db_url: str, engine: Engine) -> None:
    cli = Cli(db_url)
    cli("accounts", "create", "acme", "--support-contact", "help@acme.example")
    cli("senders", "add", "--account", "acme", A)
    for number in (BOB, EVE):
        engine.receive("acme", number, A, MAYBE)
    listed = cli.json("review", "list", "--account", "acme", "--limit", "1")
    assert (len(listed["flagged"]), listed["open"]) == (1, 2) and listed["next"]
    older = cli.json("review", "list", "--account", "acme", "--before", str(listed["next"]))
    (eve_flag,) = older["flagged"]
    (bob_flag,) = listed["flagged"]

    assert "reason" in cli.error(
        "review", "dismiss", str(eve_flag["seq"]), "--account", "acme", "--reason", " "
    )
    args = (
        "review",
        "dismiss",
        str(eve_flag["seq"]),
        "--account",
        "acme",
        "--reason",
        "a question",
    )
    out = cli.runner.invoke(cli_app, ["--db", db_url, "--actor", "ann", *args])
    assert out.exit_code == 0, out.output
    resolved = cli.json("review", "opt-out", str(bob_flag["seq"]), "--account", "acme")
    assert resolved["resolution"] == "opted_out"
    assert "already resolved" in cli.error(
        "review", "opt-out", str(bob_flag["seq"]), "--account", "acme"
    )
    assert cli.json("review", "list", "--account", "acme")["open"] == 0

    eve_events = cli.json("contacts", "history", "--account", "acme", eve_flag["phone"])["events"]
    assert (eve_events[-1]["data"]["by"], eve_events[-1]["data"]["via"]) == ("ann", "cli")
    bob_events = cli.json("contacts", "history", "--account", "acme", bob_flag["phone"])["events"]
    assert bob_events[-1]["data"]["by"] == getpass.getuser()  # no --actor: the OS user
    assert bob_events[-1]["data"]["flag"] == bob_flag["seq"]


def test_the_web_ui_resolves_flags_and_counts_them_exactly(acme: Tenant, engine: Engine) -> None:
    client: TestClient = acme.client
    assert sign_in(client, acme.key).status_code == 303
    numbers = [f"+1415555{n:04d}" for n in range(12)]
    for number in numbers:
        engine.receive("acme", number, A, MAYBE)
    home = client.get("/ui/")
    assert "12 possible opt-outs" in home.text  # exact, not "10+"
    page = client.get("/ui/review")
    assert "12 open" in page.text
    first, second = engine.flagged("acme", None, 2).flags

    opted = client.post(f"/ui/review/{first.seq}/opt-out", headers=HOST, follow_redirects=False)
    assert opted.status_code == 303
    no_reason = client.post(f"/ui/review/{second.seq}/dismiss", data={"reason": ""}, headers=HOST)
    assert no_reason.status_code == 422
    dismissed = client.post(
        f"/ui/review/{second.seq}/dismiss",
        data={"reason": "asked about parking"},
        headers=HOST,
        follow_redirects=False,
    )
    assert dismissed.status_code == 303
    assert "10 possible opt-outs" in client.get("/ui/").text
    after = client.get("/ui/review")
    assert f"flag-{first.seq}" not in after.text and f"flag-{second.seq}" not in after.text
    events, _ = engine.history("acme", second.phone)
    assert (events[-1].type, events[-1].data["by"], events[-1].data["via"]) == (
        "flag_dismissed",
        "default",
        "ui",
    )
    state = engine.contact("acme", first.phone)
    assert state is not None and state.status_from(A).value == "opted_out"
    again = client.post(f"/ui/review/{first.seq}/opt-out", headers=HOST)
    assert again.status_code == 409
