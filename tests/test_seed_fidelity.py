"""Where a profile follows its seed or the carriers to the letter, through the engine and
the REST API on real databases (SQLite and PostgreSQL): the account's HELP trigger as
its help reply (seed 001), the first-text notice as a text of its own (seed 004),
opt-out language said once, and toll-free numbers whose network answers STOP and START.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from account_support import HELP_CONTACT
from cli_support import Cli
from store_support import ANY_HOUR, consent_body, give_written_consent
from test_api_support import BOB, TF, A, Tenant, assert_problem
from test_profiles import seed_text
from webhook_support import ACCOUNT_SID, AUTH_TOKEN, TW, World, twilio_form, twiml_messages

from optline.engine import Engine
from optline.errors import BadInput
from optline.store import Store

ACME = "acme"
EVE = "+12025550143"

# -- seed 001: the account's HELP trigger -------------------------------------------------

# Seed 001's "Trigger / Intelligent Response" table, row by row.
SEED_001_TABLE = {
    "HELP": (
        "To opt out of these marketing messages, reply OPTOUT. To no longer receive any "
        "communication from us, reply STOP. \u2013 Company"
    ),
    "OPTOUT": "You will not receive any further marketing messages from us. \u2013 Company",
}


def _seed_001_account(engine: Engine) -> None:
    engine.create_account(ACME, "business_text")
    engine.add_sender(ACME, A)
    engine.create_list(ACME, "marketing")
    engine.add_trigger(ACME, "HELP", SEED_001_TABLE["HELP"])
    engine.add_trigger(ACME, "OPTOUT", SEED_001_TABLE["OPTOUT"], unsubscribe_list="marketing")


def test_the_seed_001_table_is_quoted_from_the_seed() -> None:
    seed = seed_text("business_text")
    for keyword, reply in SEED_001_TABLE.items():
        assert f"{keyword} {reply}".casefold() in seed


def test_seed_001_s_trigger_table_answers_as_the_seed_says(engine: Engine) -> None:
    _seed_001_account(engine)
    engine.subscribe(ACME, "marketing", BOB)
    helped = engine.receive(ACME, BOB, A, "HELP")
    assert (helped.intent, helped.reply) == ("help", SEED_001_TABLE["HELP"])
    left = engine.receive(ACME, BOB, A, "OPTOUT")
    assert (left.intent, left.reply) == ("trigger", SEED_001_TABLE["OPTOUT"])
    state = engine.contact(ACME, BOB)
    assert state is not None and dict(state.lists) == {"marketing": False}
    # STOP still ends everything; HELP is still answered, with the account's reply.
    engine.receive(ACME, BOB, A, "STOP")
    again = engine.receive(ACME, BOB, A, "help")
    assert (again.reply, again.status) == (SEED_001_TABLE["HELP"], "opted_out")
    events, _ = engine.history(ACME, BOB)
    assert [e.type for e in events][-2:] == ["opted_out", "help_answered"]
    assert events[-1].data["trigger"] == "HELP"


@pytest.mark.parametrize(
    "make",
    [
        lambda e: e.add_trigger(ACME, "STOP", "no"),
        lambda e: e.add_trigger(ACME, "START", "no"),
        lambda e: e.add_trigger(ACME, "unstop", "no"),
        lambda e: e.create_list(ACME, "promos", opt_out_keyword="HELP"),
        lambda e: e.create_list(ACME, "promos", opt_out_keyword="info"),
        # A help keyword's trigger is the help reply, never a list action.
        lambda e: e.add_trigger(ACME, "INFO", "Hi", subscribe_list="marketing"),
    ],
)
def test_the_other_reserved_words_stay_reserved(
    engine: Engine, make: Callable[[Engine], object]
) -> None:
    _seed_001_account(engine)
    with pytest.raises(BadInput):
        make(engine)


def test_the_api_takes_a_help_trigger_and_answers_help_with_it(
    acme: Tenant, engine: Engine
) -> None:
    made = acme.ok("POST", "/v1/triggers", {"keyword": "help", "reply": "Call 555-0100."}, 201)
    assert made == {"keyword": "HELP", "reply": "Call 555-0100."}
    assert_problem(acme.post("/v1/triggers", {"keyword": "start", "reply": "x"}), 422, "bad_input")
    acme.ok("POST", f"/v1/contacts/{BOB}/opt-out")
    assert engine.receive(ACME, BOB, A, "INFO").reply == "Call 555-0100."


def test_the_cli_adds_seed_001_s_help_trigger(db_url: str) -> None:
    cli = Cli(db_url)
    cli("accounts", "create", ACME, "--profile", "business_text")
    cli("senders", "add", "--account", ACME, A)
    cli("triggers", "add", "--account", ACME, "HELP", "--reply", SEED_001_TABLE["HELP"])
    classified = cli.json("receive", "--account", ACME, "--from", BOB, "--to", A, "HELP")
    assert classified["reply"] == SEED_001_TABLE["HELP"]


# -- opt-out language said once ----------------------------------------------------------

SALE = "Spring sale: 20% off today. Reply STOP to opt out"


def test_a_first_campaign_text_with_its_own_opt_out_language_gets_no_second_copy(
    engine: Engine,
) -> None:
    # default: "Reply STOP to opt out." on a first text
    engine.create_account(ACME, overrides={**HELP_CONTACT, **ANY_HOUR})
    engine.add_sender(ACME, A)
    give_written_consent(engine, ACME, BOB)  # campaign texts need written consent
    sent = engine.send(ACME, A, BOB, SALE, campaign=True)
    assert sent.allowed and sent.body == SALE
    _, messages = engine.history(ACME, BOB)
    assert [m.body for m in messages] == [SALE]


def test_the_api_sends_a_first_text_with_opt_out_language_as_written(acme: Tenant) -> None:
    acme.ok("PUT", "/v1/policy", {"overrides": {**HELP_CONTACT, **ANY_HOUR}})  # any hour
    for number in (BOB, "+12025550143"):  # consent on record, a first text all the same
        acme.ok("POST", "/v1/consents", consent_body(number), status=201)
    sent = acme.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": SALE, "campaign": True})
    assert (sent["allowed"], sent["body"]) == (True, SALE)
    other = acme.ok("POST", "/v1/messages", {"from": A, "to": "+12025550143", "body": "Hi"})
    assert other["body"] == "Hi\n\nReply STOP to opt out."


# -- toll-free numbers: the carrier network answers STOP and START --------------------------

TWILIO_TF = "+18885550123"


def test_toll_free_keywords_are_recorded_and_left_to_the_network_to_answer(
    engine: Engine,
) -> None:
    engine.create_account(ACME, "twilio")
    engine.add_sender(ACME, TF, "toll_free")
    engine.add_sender(ACME, A)
    stop = engine.receive(ACME, BOB, TF, "STOP")
    assert (stop.status, stop.events, stop.reply) == ("opted_out", ("opted_out",), None)
    helped = engine.receive(ACME, BOB, TF, "HELP")
    assert (helped.intent, helped.reply, helped.events) == ("help", None, ())
    assert engine.receive(ACME, BOB, A, "HELP").reply is not None  # a long code answers
    start = engine.receive(ACME, BOB, TF, "UNSTOP")
    assert (start.status, start.events, start.reply) == ("opted_in", ("opted_in",), None)
    events, messages = engine.history(ACME, BOB)
    assert [(e.type, e.data["sender"]) for e in events] == [
        ("opted_out", TF),
        ("help_answered", A),
        ("opted_in", TF),
    ]
    # No reply of optline's went out from the toll-free number.
    assert [m.direction for m in messages if m.sender == TF] == ["in", "in", "in"]


def test_an_account_can_have_optline_answer_on_toll_free(engine: Engine) -> None:
    engine.create_account(ACME, "twilio", {"toll_free_network_replies": False})
    engine.add_sender(ACME, TF, "toll_free")
    assert engine.receive(ACME, BOB, TF, "STOP").reply is not None


def test_a_twilio_toll_free_stop_gets_no_twiml_reply(world: World) -> None:
    credentials = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
    world.engine.add_sender(ACME, TWILIO_TF, "toll_free", "twilio", credentials)
    assert twiml_messages(world.twilio(twilio_form("STOP", To=TWILIO_TF))) == []
    assert world.events() == ["opted_out"]
    # A long code of the same account still answers with optline's confirmation.
    assert twiml_messages(world.twilio(twilio_form("STOP", "SM" + "1" * 32))) != []


def test_the_api_lists_the_toll_free_field_and_takes_an_override(acme: Tenant) -> None:
    assert acme.ok("GET", "/v1/policy")["fields"]["toll_free_network_replies"] is True
    overrides = {**HELP_CONTACT, "toll_free_network_replies": False}
    acme.ok("PUT", "/v1/policy", {"overrides": overrides})
    assert acme.ok("GET", "/v1/policy")["fields"]["toll_free_network_replies"] is False


# -- seed 004: the first-text notice as a text of its own -----------------------------------

NOTICE = "Prefer a phone call or email? Reply STOP to unsubscribe."


def _sends(engine: Engine, number: str) -> list[tuple[str, bool, str]]:
    _, messages = engine.history(ACME, number)
    return [(m.body, m.disclosure, m.status) for m in messages if m.direction == "out"]


def test_command_s_first_text_is_preceded_by_its_notice_as_a_text_of_its_own(
    engine: Engine,
) -> None:
    engine.create_account(ACME, "command")
    engine.add_sender(ACME, A)
    first = engine.send(ACME, A, BOB, "Hi Bob, the house on Elm St is open Sunday.")
    assert first.body == "Hi Bob, the house on Elm St is open Sunday."
    assert first.notice_message_id is not None and first.notice_message_id < first.message_id
    engine.send(ACME, A, BOB, "See you there")
    assert _sends(engine, BOB) == [
        (NOTICE, True, "sent"),
        ("Hi Bob, the house on Elm St is open Sunday.", False, "sent"),
        ("See you there", False, "sent"),
    ]


def test_the_provider_gets_the_notice_first_and_a_refused_text_sends_none(world: World) -> None:
    world.engine.set_policy(ACME, "command")
    world.engine.send(ACME, TW, BOB, "Hi Bob")
    world.engine.receive(ACME, EVE, TW, "STOP")
    refused = world.engine.send(ACME, TW, EVE, "Hi Eve")
    assert (refused.reason, refused.notice_message_id) == ("opted_out", None)
    assert [(r.form["To"][0], r.form["Body"][0]) for r in world.fake.requests] == [
        (BOB, NOTICE),
        (BOB, "Hi Bob"),
    ]


def test_a_notice_refused_at_its_hand_over_is_told_with_the_next_text(world: World) -> None:
    # The gate decides the notice again when it is handed over, as any text: a STOP
    # committed in between refuses it (and its text), and the contact was never told.
    world.engine.set_policy(ACME, "command")
    pending = world.engine.decide_send(ACME, TW, BOB, "Hi Bob")
    world.engine.receive(ACME, BOB, TW, "STOP")
    result = world.engine.deliver(pending)
    assert (result.status, result.reason) == ("failed", "opted_out")
    assert [(body, status) for body, _, status in _sends(world.engine, BOB)][:2] == [
        (NOTICE, "failed"),
        ("Hi Bob", "failed"),
    ]
    assert world.fake.requests == []
    state = world.engine.contact(ACME, BOB)
    assert state is not None and not state.texted


def test_a_retried_send_whose_first_try_stopped_sends_its_notice_first(world: World) -> None:
    # The first request recorded both texts and stopped before handing them over; its
    # retry with the same idempotency key sends them, the notice first, once.
    world.engine.set_policy(ACME, "command")
    world.engine.decide_send(ACME, TW, BOB, "Hi Bob", idempotency_key="k1")
    again = world.engine.send(ACME, TW, BOB, "Hi Bob", idempotency_key="k1")
    assert again.replayed and again.status == "sent" and again.notice_message_id is not None
    assert [r.form["Body"][0] for r in world.fake.requests] == [NOTICE, "Hi Bob"]
    assert world.engine.send(ACME, TW, BOB, "Hi Bob", idempotency_key="k1").replayed
    assert len(world.fake.requests) == 2
    assert [status for _, _, status in _sends(world.engine, BOB)] == ["sent", "sent"]


def test_a_broadcast_sends_the_notice_first_to_every_first_time_recipient(
    engine: Engine,
) -> None:
    engine.create_account(ACME, "command")
    engine.add_sender(ACME, A)
    zed = "+13125550123"
    engine.send(ACME, A, EVE, "Hello Eve")  # Eve was texted before
    results = engine.broadcast(ACME, A, "Open house Sunday", numbers=[BOB, EVE, zed])
    assert [r.notice_message_id is not None for r in results] == [True, False, True]
    for number in (BOB, zed):
        assert _sends(engine, number) == [
            (NOTICE, True, "sent"),
            ("Open house Sunday", False, "sent"),
        ]
    assert [body for body, _, _ in _sends(engine, EVE)] == [
        NOTICE,
        "Hello Eve",
        "Open house Sunday",
    ]


def test_the_api_shows_the_notice_and_marks_its_message(acme: Tenant) -> None:
    acme.ok("PUT", "/v1/policy", {"profile": "command"})
    policy = acme.ok("GET", "/v1/policy")
    assert policy["fields"]["first_text_disclosure_form"] == "separate"
    sent = acme.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": "Hi Bob"})
    assert (sent["body"], sent["notice"]) == ("Hi Bob", NOTICE)
    notice = acme.ok("GET", f"/v1/messages/{sent['notice_message_id']}")
    assert (notice["body"], notice["disclosure"], notice["status"]) == (NOTICE, True, "sent")
    history = acme.ok("GET", f"/v1/contacts/{BOB}/history")["messages"]
    assert [(m["body"], m["disclosure"]) for m in history] == [(NOTICE, True), ("Hi Bob", False)]
    # The appended form, by override, is the one text it was before.
    acme.ok("PUT", "/v1/policy", {"overrides": {"first_text_disclosure_form": "appended"}})
    other = acme.ok("POST", "/v1/messages", {"from": A, "to": EVE, "body": "Hi Eve"})
    assert (other["body"], other["notice"]) == (f"Hi Eve\n\n{NOTICE}", None)


def test_messages_stored_before_the_column_upgrade_in_place_as_no_notice(db_url: str) -> None:
    from alembic import command

    from optline.store.migrate import alembic_config

    store = Store.open(db_url)
    try:
        engine = Engine(store)
        engine.create_account(ACME, "command")
        engine.add_sender(ACME, A)
        config = alembic_config()
        with store.engine.connect() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "r0008")
            conn.exec_driver_sql(
                "INSERT INTO messages (account_id, id, direction, phone, sender, body, hidden,"
                " status, campaign, reply, created_at) VALUES (1, 1, 'out', '+14155552671',"
                " '+14155550100', 'Hi', false, 'sent', false, false, '2026-12-01 10:00:00')"
            )
            command.upgrade(config, "head")
            conn.commit()
        assert _sends(engine, BOB) == [("Hi", False, "sent")]
    finally:
        store.close()
