"""Send windows and caps through the engine, the REST API and the CLI, on both databases,
with an injected clock and numbers from several states."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from account_support import HELP_CONTACT
from cli_support import Cli
from fastapi.testclient import TestClient
from store_support import (
    CONSENT_GIVEN_AT,
    CONSENT_LANGUAGE,
    Clock,
    consent_body,
    give_written_consent,
)
from test_api_support import ADMIN_KEY, Tenant, assert_problem, new_tenant

import optline.cli_common
from optline.api.app import Settings, create_app
from optline.domain.consent_codes import Reason
from optline.domain.messages import MessageStatus
from optline.domain.window_rules import US_SEND_WINDOWS
from optline.engine import Engine
from optline.errors import BadInput
from optline.store import Store

SENDER = "+14155550100"
TULSA = "+19185550123"  # Oklahoma, Central time: 8:00-20:00, 3 a day
MIAMI = "+13055550123"  # Florida, Eastern time: 8:00-20:00, 3 a day
NEW_YORK = "+12125550123"  # New York, Eastern time: 8:00-21:00, no cap
BOISE = "+12085550123"  # Idaho: Mountain or Pacific time
LONDON = "+447911123456"
SALE = "Winter sale: 20% off. Reply STOP to opt out."
# Consent on record for every number texted here: the default profile needs it.
PEOPLE = (TULSA, MIAMI, NEW_YORK, BOISE, LONDON)


def at(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # type: ignore[arg-type,misc]


# 04:38 in Tulsa on a Monday in December (CST).
TULSA_0438 = at("America/Chicago", 2026, 12, 7, 4, 38)
TULSA_0800 = at("America/Chicago", 2026, 12, 7, 8, 0)


@pytest.fixture
def clock() -> Clock:
    return Clock(TULSA_0438)


@pytest.fixture
def timed(store: Store, clock: Clock) -> Engine:
    engine = Engine(store, clock=clock)
    engine.create_account("acme", overrides=HELP_CONTACT)
    engine.add_sender("acme", SENDER)
    for number in PEOPLE:  # campaign texts need written consent on record
        give_written_consent(engine, "acme", number)
    return engine


def test_a_campaign_text_to_oklahoma_at_0438_is_held_until_8(timed: Engine) -> None:
    decision = timed.check("acme", SENDER, TULSA, SALE, campaign=True)
    assert not decision.allowed
    assert decision.reason is Reason.OUTSIDE_SEND_WINDOW
    assert decision.next_allowed_at == TULSA_0800


def test_the_same_text_goes_at_8_and_elsewhere_in_its_window(timed: Engine, clock: Clock) -> None:
    # 04:38 in Tulsa is 10:38 in London: no rule there.
    assert timed.check("acme", SENDER, LONDON, SALE, campaign=True).allowed
    clock.now = TULSA_0800
    assert timed.check("acme", SENDER, TULSA, SALE, campaign=True).allowed


def test_a_refused_send_is_recorded_failed_with_its_reason(timed: Engine) -> None:
    result = timed.send("acme", SENDER, TULSA, SALE, campaign=True)
    assert result.status == MessageStatus.FAILED
    assert result.reason is Reason.OUTSIDE_SEND_WINDOW
    assert result.as_dict()["next_allowed_at"] == TULSA_0800.isoformat()
    events, messages = timed.history("acme", TULSA)
    assert messages[-1].reason == "outside_send_window"
    assert events[-1].data["reason"] == "outside_send_window"
    assert events[-1].data["next_allowed_at"] == TULSA_0800.isoformat()


def test_informational_texts_are_not_windowed_unless_the_policy_says(timed: Engine) -> None:
    assert timed.check("acme", SENDER, TULSA, "Your order shipped.").allowed
    timed.set_policy("acme", None, {**HELP_CONTACT, "send_windows_informational": True})
    decision = timed.check("acme", SENDER, TULSA, "Your order shipped.")
    assert decision.reason is Reason.OUTSIDE_SEND_WINDOW


def test_a_reply_to_a_contact_who_wrote_today_is_not_held(timed: Engine, clock: Clock) -> None:
    clock.now = TULSA_0438 - timedelta(hours=2)
    timed.receive("acme", TULSA, SENDER, "Do you have the boots in size 9?")
    clock.now = TULSA_0438
    assert timed.check("acme", SENDER, TULSA, SALE, campaign=True).allowed
    # A broadcast is not a reply.
    (result,) = timed.broadcast("acme", SENDER, SALE, numbers=[TULSA])
    assert result.reason is Reason.OUTSIDE_SEND_WINDOW
    # A day after the contact wrote, the window holds again.
    clock.now = TULSA_0438 + timedelta(days=1)
    assert not timed.check("acme", SENDER, TULSA, SALE, campaign=True).allowed


def test_replies_are_held_too_when_the_policy_says(timed: Engine, clock: Clock) -> None:
    timed.set_policy("acme", None, {**HELP_CONTACT, "send_windows_on_replies": True})
    clock.now = TULSA_0438 - timedelta(hours=2)
    timed.receive("acme", TULSA, SENDER, "Do you have the boots in size 9?")
    clock.now = TULSA_0438
    assert not timed.check("acme", SENDER, TULSA, SALE, campaign=True).allowed


def test_a_fourth_campaign_text_in_24_hours_is_capped_in_florida(
    timed: Engine, clock: Clock
) -> None:
    first = at("America/New_York", 2026, 12, 7, 10, 0)
    for hour in range(3):
        clock.now = first + timedelta(hours=hour)
        assert timed.send("acme", SENDER, MIAMI, SALE, campaign=True).allowed
        assert timed.send("acme", SENDER, NEW_YORK, SALE, campaign=True).allowed
    clock.now = first + timedelta(hours=3)
    capped = timed.send("acme", SENDER, MIAMI, SALE, campaign=True)
    assert capped.reason is Reason.FREQUENCY_CAP
    assert capped.decision.next_allowed_at == first + timedelta(days=1)
    # Informational texts are another purpose, and New York caps nothing.
    assert timed.send("acme", SENDER, MIAMI, "Your order shipped.").allowed
    assert timed.send("acme", SENDER, NEW_YORK, SALE, campaign=True).allowed
    # The refused text did not count: once the first leaves the 24 hours, one may go.
    clock.now = first + timedelta(days=1)
    assert timed.send("acme", SENDER, MIAMI, SALE, campaign=True).allowed
    assert not timed.check("acme", SENDER, MIAMI, SALE, campaign=True).allowed


def test_an_ambiguous_number_waits_for_its_latest_zone(timed: Engine, clock: Clock) -> None:
    clock.now = at("America/Boise", 2026, 7, 1, 8, 30)  # 07:30 in Los Angeles
    decision = timed.check("acme", SENDER, BOISE, SALE, campaign=True)
    assert decision.reason is Reason.OUTSIDE_SEND_WINDOW
    assert decision.next_allowed_at == at("America/Los_Angeles", 2026, 7, 1, 8, 0)


def test_a_stored_location_replaces_the_numbers(timed: Engine, clock: Clock) -> None:
    clock.now = at("America/Chicago", 2026, 12, 7, 9, 30)  # 07:30 in Los Angeles
    assert timed.check("acme", SENDER, TULSA, SALE, campaign=True).allowed
    found = timed.set_contact_location("acme", TULSA, "America/Los_Angeles", "ca")
    assert (found.time_zone, found.state) == ("America/Los_Angeles", "CA")
    assert found.located.zones == ("America/Los_Angeles",)
    decision = timed.check("acme", SENDER, TULSA, SALE, campaign=True)
    assert decision.next_allowed_at == at("America/Los_Angeles", 2026, 12, 7, 8, 0)
    assert timed.contact_location("acme", TULSA) == found
    # Cleared, the number decides again.
    timed.set_contact_location("acme", TULSA, None, None)
    assert timed.check("acme", SENDER, TULSA, SALE, campaign=True).allowed


def test_a_bad_location_is_refused(timed: Engine) -> None:
    unseen = "+19185550199"  # no contact yet: a refused location makes none
    with pytest.raises(BadInput, match="time zone"):
        timed.set_contact_location("acme", unseen, "Mars/Olympus", None)
    with pytest.raises(BadInput, match="state"):
        timed.set_contact_location("acme", unseen, None, "XX")
    assert timed.contact("acme", unseen) is None


def test_the_checker_holds_texts_as_check_does(timed: Engine) -> None:
    timed.set_contact_location("acme", NEW_YORK, "America/Chicago", None)
    with timed.checker("acme", SENDER, campaign=True) as check:
        decisions = {to: check(to, SALE) for to in (TULSA, LONDON, NEW_YORK, "(918) 555-0123")}
    assert decisions[TULSA].reason is Reason.OUTSIDE_SEND_WINDOW
    assert decisions["(918) 555-0123"] == decisions[TULSA]
    assert decisions[LONDON].allowed
    assert decisions[NEW_YORK].reason is Reason.OUTSIDE_SEND_WINDOW  # stored: Central


def test_a_broadcast_reports_holds_per_recipient(timed: Engine) -> None:
    results = timed.broadcast("acme", SENDER, SALE, numbers=[TULSA, LONDON])
    assert [(r.to, r.status, r.reason) for r in results] == [
        (TULSA, MessageStatus.FAILED, Reason.OUTSIDE_SEND_WINDOW),
        (LONDON, MessageStatus.SENT, None),
    ]
    assert results[0].decision.next_allowed_at == TULSA_0800


def test_vendor_profiles_have_no_windows_unless_overridden(store: Store, clock: Clock) -> None:
    engine = Engine(store, clock=clock)
    engine.create_account("shop", "twilio")
    engine.add_sender("shop", SENDER)
    assert engine.check("shop", SENDER, TULSA, SALE, campaign=True).allowed
    table = [rule.as_dict() for rule in US_SEND_WINDOWS]
    engine.set_policy("shop", None, {"send_windows": table})
    refused = engine.check("shop", SENDER, TULSA, SALE, campaign=True)
    assert refused.reason is Reason.OUTSIDE_SEND_WINDOW


# -- REST API ---------------------------------------------------------------------------


@pytest.fixture
def api(store: Store, clock: Clock) -> Iterator[Tenant]:
    app = create_app(Settings(admin_key=ADMIN_KEY, notify=False), engine=Engine(store, clock=clock))
    with TestClient(app) as client:
        tenant = new_tenant(client, "acme", senders=(SENDER,))
        for number in PEOPLE:  # campaign texts need written consent on record
            tenant.ok("POST", "/v1/consents", consent_body(number), status=201)
        yield tenant


def _send(tenant: Tenant, to: str, **extra: Any) -> Any:
    text = {"from": SENDER, "to": to, "body": SALE, "campaign": True, **extra}
    return tenant.ok("POST", "/v1/messages", text)


def test_api_send_answers_the_hold_and_when(api: Tenant) -> None:
    answer = _send(api, TULSA)
    assert answer["allowed"] is False and answer["status"] == "failed"
    assert answer["reason"] == "outside_send_window"
    assert answer["next_allowed_at"] == TULSA_0800.isoformat()
    assert _send(api, LONDON)["next_allowed_at"] is None


def test_api_broadcast_reports_holds_per_recipient(api: Tenant) -> None:
    body = {"from": SENDER, "body": SALE, "numbers": [TULSA, LONDON]}
    answer = api.ok("POST", "/v1/broadcasts", body)
    assert [(r["to"], r["reason"]) for r in answer["results"]] == [
        (TULSA, "outside_send_window"),
        (LONDON, None),
    ]
    assert answer["results"][0]["next_allowed_at"] == TULSA_0800.isoformat()
    assert (answer["sent"], answer["refused"]) == (1, 1)


def test_api_sets_and_shows_a_contacts_location(api: Tenant, clock: Clock) -> None:
    shown = api.ok("GET", f"/v1/contacts/{TULSA}/location")
    assert shown == {
        "phone": TULSA,
        "time_zone": None,
        "state": None,
        "located": {"country": "US", "state": "OK", "zones": ["America/Chicago"]},
    }
    clock.now = at("America/Chicago", 2026, 12, 7, 9, 30)
    assert _send(api, TULSA)["allowed"] is True
    body = {"time_zone": "America/Los_Angeles", "state": "CA"}
    stored = api.ok("PUT", f"/v1/contacts/{TULSA}/location", body)
    assert stored["located"] == {"country": "US", "state": "CA", "zones": ["America/Los_Angeles"]}
    assert api.ok("GET", f"/v1/contacts/{TULSA}/location") == stored
    assert _send(api, TULSA)["reason"] == "outside_send_window"


def test_api_refuses_a_bad_location(api: Tenant) -> None:
    answer = api.put(f"/v1/contacts/{TULSA}/location", {"time_zone": "Mars/Olympus"})
    assert_problem(answer, 422)


# -- CLI --------------------------------------------------------------------------------


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    class At0438(Engine):
        """The CLI's engine, its clock at 04:38 in Tulsa."""

        def __init__(self, store: Store, **options: Any) -> None:
            super().__init__(store, clock=lambda: TULSA_0438, dispatch=options.get("dispatch"))

    monkeypatch.setattr(optline.cli_common, "Engine", At0438)
    run = Cli(db_url)
    run("accounts", "create", "acme", "--support-contact", "help@acme.example")
    run("senders", "add", SENDER, "--account", "acme")
    consent = ("--language", CONSENT_LANGUAGE, "--given-at", CONSENT_GIVEN_AT.isoformat())
    run("consents", "record", TULSA, "--account", "acme", *consent)
    return run


def test_cli_check_refuses_the_campaign_text_at_0438(cli: Cli) -> None:
    args = ("check", "--account", "acme", "--from", SENDER, "--to", TULSA, "--campaign")
    out = cli(*args, "--body", SALE, code=1)  # a refused check exits 1
    eight = TULSA_0800.isoformat()
    assert out.startswith(f"refused: outside_send_window (next allowed at {eight})")
    data = cli.json(*args, "--body", SALE, code=1)
    assert data["reason"] == "outside_send_window"
    assert data["next_allowed_at"] == TULSA_0800.isoformat()
    assert cli(*args[:-1], "--body", "Your order shipped.").startswith("allowed")


def test_cli_stores_and_shows_a_contacts_location(cli: Cli) -> None:
    shown = cli.json("contacts", "location", TULSA, "--account", "acme")
    assert shown["located"] == {"country": "US", "state": "OK", "zones": ["America/Chicago"]}
    out = cli("contacts", "location", TULSA, "--account", "acme", "--time-zone", "Asia/Tokyo")
    assert "Asia/Tokyo" in out
    # 04:38 in Tulsa is 19:38 in Tokyo: inside the window now (Oklahoma still closes at 20).
    args = ("check", "--account", "acme", "--from", SENDER, "--to", TULSA, "--campaign")
    assert cli(*args, "--body", SALE).startswith("allowed")
    cli("contacts", "location", TULSA, "--account", "acme", "--clear")
    assert cli(*args, "--body", SALE, code=1).startswith("refused: outside_send_window")
    error = cli.error("contacts", "location", TULSA, "--account", "acme", "--state", "XX")
    assert "state" in error
