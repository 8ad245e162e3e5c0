"""A policy change that widens scope widens the opt-outs already on record.

Under a per-sender profile (twilio) a STOP to one number leaves the others open; once
the account moves to account scope (default), one opt-out covers every number, and
so must the opt-outs made before the move: otherwise changing a setting would make
opted-out people textable again.
"""

from __future__ import annotations

import itertools
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from account_support import HELP_CONTACT
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_api_support import (
    assert_problem,
    new_tenant,
)
from typer.testing import CliRunner, Result

from optline.cli import app as cli_app
from optline.domain.consent_codes import ChangeReason, Reason, Source, Status
from optline.engine import Engine
from optline.errors import ConfirmationRequired

ACME = "acme"
A = "+14155550100"
B = "+14155550101"
C = "+14155550102"
BOB = "+14155552671"
EVE = "+12025550143"


def make_account(
    engine: Engine, name: str = ACME, profile: str = "twilio", senders: tuple[str, ...] = (A, B, C)
) -> None:
    engine.create_account(name, profile, HELP_CONTACT)
    for number in senders:
        engine.add_sender(name, number)


def test_a_stop_to_one_number_covers_every_number_after_the_switch(engine: Engine) -> None:
    make_account(engine)
    engine.receive(ACME, BOB, A, "STOP", "SM1")
    assert engine.check(ACME, B, BOB).allowed  # per sender: B is still open
    with pytest.raises(ConfirmationRequired) as refused:
        engine.set_policy(ACME, "default")
    assert refused.value.changes == 1
    # Unconfirmed, nothing was written: the profile and the contact are as they were.
    assert engine.account(ACME).profile == "twilio"
    assert engine.check(ACME, B, BOB).allowed
    assert [e.type for e in engine.history(ACME, BOB)[0]] == ["opted_out"]

    change = engine.set_policy(ACME, "default", confirm=True)
    assert change.contacts_changed == 1
    assert engine.account(ACME).profile == "default"
    for number in (A, B, C):
        decision = engine.check(ACME, number, BOB)
        assert (decision.allowed, decision.reason) == (False, Reason.OPTED_OUT)
    events, messages = engine.history(ACME, BOB)
    assert [e.type for e in events] == ["opted_out", "opted_out"]
    widened = events[-1].data
    assert widened["source"] == Source.POLICY
    assert widened["reason"] == ChangeReason.SCOPE_WIDENED
    assert widened["opted_out_of"] == [A]
    # No text went to the contact for it: the STOP's confirmation is the only reply.
    assert [m.direction for m in messages] == ["in", "out"]
    assert all(result.ok for result in engine.verify(ACME))


def test_a_switch_with_nothing_to_widen_needs_no_confirmation(engine: Engine) -> None:
    make_account(engine)
    engine.receive(ACME, BOB, A, "Hello there", "SM1")
    assert engine.set_policy(ACME, "default").contacts_changed == 0
    assert engine.history(ACME, BOB)[0] == []


def test_an_opt_in_on_one_number_after_a_stop_all_does_not_survive_the_switch(
    engine: Engine,
) -> None:
    # STOPALL ended consent everywhere; START on A reopened A alone. Under account
    # scope the contact has one consent, and the opt-out on the other numbers wins.
    make_account(engine)
    engine.receive(ACME, BOB, A, "STOPALL", "SM1")
    engine.receive(ACME, BOB, A, "START", "SM2")
    assert engine.check(ACME, A, BOB).allowed and not engine.check(ACME, B, BOB).allowed
    assert engine.set_policy(ACME, "default", confirm=True).contacts_changed == 1
    assert not engine.check(ACME, A, BOB).allowed
    assert engine.history(ACME, BOB)[0][-1].data["opted_in_to"] == [A]


def test_narrowing_keeps_account_wide_opt_outs(engine: Engine) -> None:
    make_account(engine, profile="default")
    engine.receive(ACME, BOB, A, "STOP", "SM1")
    assert engine.set_policy(ACME, "twilio").contacts_changed == 0
    for number in (A, B, C):
        assert not engine.check(ACME, number, BOB).allowed
    assert len(engine.history(ACME, BOB)[0]) == 1


def test_stops_racing_a_switch_are_all_widened(engine: Engine) -> None:
    # STOPs to number A under the per-sender profile, sent while the account switches
    # to account scope: each is either widened by the switch or made under the new
    # scope, never left covering A alone.
    make_account(engine)
    people = [f"+1415555{n:04d}" for n in range(3000, 3040)]
    start = threading.Barrier(9)

    def stop(batch: list[str]) -> None:
        start.wait()
        for person in batch:
            engine.receive(ACME, person, A, "STOP", f"SM-{person}")

    def switch() -> None:
        start.wait()
        engine.set_policy(ACME, "default", confirm=True)

    with ThreadPoolExecutor(9) as pool:
        batches = [people[i::8] for i in range(8)]
        done = [pool.submit(stop, batch) for batch in batches] + [pool.submit(switch)]
        for future in done:
            future.result()
    assert engine.account(ACME).profile == "default"
    still_open = [p for p in people if engine.check(ACME, B, p).allowed]
    assert still_open == []


def test_the_api_asks_for_confirmation_and_says_how_many_changed(
    client: TestClient,
    engine: Engine,
) -> None:
    tenant = new_tenant(client, ACME, profile="twilio", senders=(A, B))
    engine.receive(ACME, BOB, A, "STOP", "SM1")
    refused = assert_problem(
        tenant.put("/v1/policy", {"profile": "default"}), 409, "confirmation_required"
    )
    assert refused["contacts_changed"] == 1
    assert tenant.ok("GET", "/v1/policy")["profile"] == "twilio"
    applied = tenant.client.put(
        "/v1/policy",
        params={"confirm": "true"},
        json={"profile": "default"},
        headers=tenant.headers,
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["contacts_changed"] == 1
    assert engine.check(ACME, B, BOB).reason is Reason.OPTED_OUT


# -- the decision and the broadcast's suppression agree after a switch -------------------

PEOPLE = (BOB, EVE, "+14155552672")
# What a person texts to which of the account's three numbers, under the per-sender
# profile.
TEXTS = st.sampled_from(["STOP", "START", "STOPALL", "hello"])
HISTORY = st.lists(
    st.tuples(st.sampled_from(PEOPLE), st.integers(0, 2), TEXTS), min_size=1, max_size=8
)
_accounts = itertools.count()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=HISTORY)
def test_single_decisions_and_broadcast_suppression_agree_after_widening(
    engine: Engine, history: list[tuple[str, int, str]]
) -> None:
    # A sender number belongs to one account: each example has its own three.
    k = next(_accounts)
    name, senders = f"acct{k}", tuple(f"+1415556{3 * k + i:04d}" for i in range(3))
    make_account(engine, name, senders=senders)
    for n, (person, sender, text) in enumerate(history):
        engine.receive(name, person, senders[sender], text, f"SM{n}")
    opted_out_somewhere = {
        person
        for person in PEOPLE
        if (state := engine.contact(name, person)) is not None
        and any(state.status_from(s) is Status.OPTED_OUT for s in senders)
    }
    engine.set_policy(name, "default", confirm=True)
    for number in senders:
        broadcast = engine.decide_broadcast(name, number, list(PEOPLE), campaign=False)
        for person in PEOPLE:
            single = engine.check(name, number, person)
            assert (person in broadcast.allowed) == single.allowed
            if not single.allowed:
                assert broadcast.refused[person] == single.reason
            # Whoever was opted out of any number before is opted out of all of them.
            assert not (person in opted_out_somewhere and single.allowed)


def test_the_cli_refuses_an_unconfirmed_widening_and_applies_a_confirmed_one(
    db_url: str,
) -> None:
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(cli_app, ["--db", db_url, *args])

    with Engine.open(db_url) as opened:
        make_account(opened)
        opened.receive(ACME, BOB, A, "STOP", "SM1")
    refused = run("policy", "set", "--account", ACME, "--profile", "default")
    assert refused.exit_code == 2
    assert "1 contact(s)" in refused.stderr and "confirm" in refused.stderr
    assert json.loads(run("policy", "show", "--account", ACME, "--json").stdout) == {
        "profile": "twilio",
        "overrides": HELP_CONTACT,
    }
    applied = run("policy", "set", "--account", ACME, "--profile", "default", "--confirm", "--json")
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout)["contacts_changed"] == 1
    with Engine.open(db_url) as opened:
        assert opened.check(ACME, B, BOB).reason is Reason.OPTED_OUT
    overridden = run(
        "policy", "set", "--account", ACME, "--override", "brand=Acme Dental",
        "--override", "support_contact=help@acme.example",
    )  # fmt: skip
    assert overridden.exit_code == 0, overridden.output
    shown = json.loads(run("policy", "show", "--account", ACME, "--json").stdout)
    assert shown == {
        "profile": "default",
        "overrides": {"brand": "Acme Dental", "support_contact": "help@acme.example"},
    }
