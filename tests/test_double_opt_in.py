"""The double opt-in: a join keyword answered with the CTIA opt-in confirmation, and only a
YES in the contact's language within the policy's window records written consent (with
the confirmation as its language). The domain's texts and words, then the engine and the
real app's Twilio webhook on both databases, and the trigger setting through the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from account_support import HELP_CONTACT
from fastapi.testclient import TestClient
from store_support import ANY_HOUR, Clock
from test_api_support import ADMIN_KEY, A, Tenant, assert_problem, new_tenant
from webhook_support import ACME as WORLD_ACME
from webhook_support import BOB, TW, World, twilio_form, twiml_messages

from optline.api.app import Settings, create_app
from optline.domain import written_consent
from optline.domain.consent_codes import Reason
from optline.domain.policy_overrides import with_overrides
from optline.domain.profiles import get_profile
from optline.engine import Engine
from optline.errors import BadInput
from optline.store import Store

ACME = "acme"
SALE = "Winter sale: 20% off. Reply STOP to opt out."
NOW = datetime.fromisoformat("2026-12-07T17:00:00+00:00")
DEFAULT = get_profile("default")


# -- the confirmation and its answer ---------------------------------------------------


def test_the_confirmation_says_what_ctia_asks_for() -> None:
    overrides = {"brand": "Acme", "message_frequency": "Up to 4 msgs/mo"}
    policy = with_overrides(DEFAULT, overrides)
    text = written_consent.confirmation_text(policy, "appointment_reminders", None)
    for part in ("Acme", "appointment reminders", "Up to 4 msgs/mo", "Msg & data rates may"):
        assert part in text
    assert "HELP" in text and "STOP" in text and "not a condition of purchase" in text
    assert "SI" in written_consent.confirmation_text(policy, "marketing", "es")


@pytest.mark.parametrize("reply", ["YES", "yes!", "Sí", "SI", "oui", "Ja", "SIM", "Sì"])
def test_a_yes_in_the_contacts_language_confirms(reply: str) -> None:
    assert written_consent.confirms(reply)


@pytest.mark.parametrize("reply", ["Y", "yes please stop", "NO", "START", "maybe", "ok"])
def test_anything_else_does_not_confirm(reply: str) -> None:
    assert not written_consent.confirms(reply)


# -- through the engine, on both databases ----------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def timed(store: Store, clock: Clock) -> Engine:
    engine = Engine(store, clock=clock)
    engine.create_account(ACME, overrides={**HELP_CONTACT, **ANY_HOUR, "brand": "Acme"})
    engine.add_sender(ACME, A)
    return engine


@pytest.fixture
def joining(timed: Engine) -> Engine:
    timed.create_list(ACME, "vip")
    timed.add_trigger(
        ACME, "JOIN", "Welcome to Acme VIP!", subscribe_list="vip", confirm_purpose="marketing"
    )
    return timed


def test_a_join_keyword_asks_and_only_a_yes_records_consent(joining: Engine) -> None:
    asked = joining.receive(ACME, BOB, A, "join")
    assert asked.reply is not None and "reply YES" in asked.reply
    assert "Msg & data rates may apply" in asked.reply and "Acme" in asked.reply
    assert asked.events == ("confirmation_requested",)
    assert joining.check(ACME, A, BOB, SALE, campaign=True).reason is Reason.NO_CONSENT
    joining.receive(ACME, BOB, A, "what is this?")
    assert joining.consents(ACME, BOB) == []
    confirmed = joining.receive(ACME, BOB, A, "Sí")
    assert confirmed.reply == "Welcome to Acme VIP!"
    assert confirmed.events == ("consent_recorded", "opted_in", "list_subscribed")
    (record,) = joining.consents(ACME, BOB)
    assert record.language == asked.reply  # the confirmation is what they agreed to
    assert record.as_dict()["method"] == "double_opt_in"
    assert record.as_dict()["message_id"] is not None
    assert joining.contact(ACME, BOB) is not None
    assert joining.check(ACME, A, BOB, SALE, campaign=True, list_name="vip").allowed
    assert joining.verify(ACME)[0].ok
    # A second YES confirms nothing more: the confirmation was answered.
    assert joining.receive(ACME, BOB, A, "YES").events == ("opted_in",)
    assert len(joining.consents(ACME, BOB)) == 1


def test_a_yes_after_the_window_records_no_written_consent(joining: Engine, clock: Clock) -> None:
    joining.receive(ACME, BOB, A, "JOIN")
    clock.now = NOW + timedelta(hours=24, minutes=1)  # double_opt_in_hours: 24
    late = joining.receive(ACME, BOB, A, "YES")
    assert "consent_recorded" not in late.events  # YES is then the opt-in keyword alone
    assert joining.consents(ACME, BOB) == []
    assert joining.check(ACME, A, BOB, SALE, campaign=True).reason is Reason.NO_WRITTEN_CONSENT


def test_a_stop_before_the_yes_cancels_the_confirmation(joining: Engine) -> None:
    joining.receive(ACME, BOB, A, "JOIN")
    joining.receive(ACME, BOB, A, "STOP")
    joining.receive(ACME, BOB, A, "oui")
    assert joining.consents(ACME, BOB) == []


def test_a_trigger_with_a_bad_purpose_is_refused(timed: Engine) -> None:
    with pytest.raises(BadInput, match="purpose"):
        timed.add_trigger(ACME, "JOIN", "Welcome", confirm_purpose="VIP Deals")


# -- the double opt-in through the real app's Twilio webhook ------------------------------


def test_the_double_opt_in_round_trip_through_the_twilio_webhook(default_world: World) -> None:
    world = default_world
    world.engine.set_policy(WORLD_ACME, None, {**HELP_CONTACT, **ANY_HOUR, "brand": "Acme"})
    world.engine.add_trigger(WORLD_ACME, "JOIN", "You're in!", confirm_purpose="marketing")
    (asked,) = twiml_messages(world.twilio(twilio_form("JOIN", sid="SM" + "1" * 32)))
    assert asked.startswith("Acme: reply YES") and "Reply HELP for help, STOP" in asked
    assert world.engine.check(WORLD_ACME, TW, BOB, SALE, campaign=True).reason is (
        Reason.NO_CONSENT
    )
    (welcome,) = twiml_messages(world.twilio(twilio_form("yes", sid="SM" + "2" * 32)))
    assert welcome == "You're in!"
    (record,) = world.engine.consents(WORLD_ACME, BOB)
    assert record.language == asked
    assert world.engine.check(WORLD_ACME, TW, BOB, SALE, campaign=True).allowed
    assert world.engine.verify(WORLD_ACME)[0].ok


@pytest.fixture
def api(store: Store) -> Iterator[Tenant]:
    app = create_app(Settings(admin_key=ADMIN_KEY, notify=False), engine=Engine(store))
    with TestClient(app) as client:
        yield new_tenant(client, ACME, senders=(A,), overrides=ANY_HOUR)


def test_api_triggers_take_a_confirm_purpose(api: Tenant) -> None:
    body = {"keyword": "join", "reply": "Welcome", "confirm_purpose": "marketing"}
    api.ok("POST", "/v1/triggers", body, status=201)
    (trigger,) = api.ok("GET", "/v1/triggers")["triggers"]
    assert trigger["confirm_purpose"] == "marketing"
    bad = {"keyword": "vip", "reply": "Welcome", "confirm_purpose": "VIP"}
    assert_problem(api.post("/v1/triggers", bad), 422, "bad_input")
