"""Telnyx webhooks end to end: inbound texts, replies sent through its API, delivery events."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from fakeprovider import Reply
from nacl.signing import SigningKey
from web_support import sign_in
from webhook_support import (
    ACME,
    BOB,
    EVE,
    PROFILE_ID,
    TELNYX_API_KEY,
    TW,
    TX,
    World,
    _outbound,
    _sent_sid,
    _status,
    assert_problem,
    telnyx_delivery,
    telnyx_inbound,
    twilio_status,
)

from optline.domain.consent_codes import Status
from optline.engine import Engine
from optline.notify import Worker
from optline.providers.base import RetryPolicy
from optline.providers.registry import Dispatcher


def test_telnyx_stop_opts_out_and_sends_the_confirmation_through_telnyx(world: World) -> None:
    response = world.telnyx(telnyx_inbound("STOP"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["intent"], body["status"], body["duplicate"]) == ("opt_out", "opted_out", False)
    assert world.status(TX) is Status.OPTED_OUT
    assert world.events() == ["opted_out"]

    [sent] = world.replies_sent()
    assert sent == {"from": TX, "to": BOB, "text": body["reply"]}
    [request] = world.fake.requests
    assert request.headers["Authorization"] == f"Bearer {TELNYX_API_KEY}"
    _, messages = world.engine.history(ACME, BOB)
    assert [(m.direction, m.status, m.body) for m in messages] == [
        ("in", "received", "STOP"),
        ("out", "sent", body["reply"]),
    ]
    assert messages[1].provider_id is not None and messages[1].provider_id.startswith("fake-")


def test_telnyx_duplicate_delivery_sends_no_second_reply(world: World) -> None:
    event = telnyx_inbound("STOP")
    first = world.telnyx(event)
    second = world.telnyx(event)
    assert second.status_code == 200
    assert {**first.json(), "duplicate": True} == second.json()
    assert len(world.replies_sent()) == 1
    assert world.events() == ["opted_out"]
    assert len(world.engine.history(ACME, BOB)[1]) == 2


def test_telnyx_concurrent_duplicates_send_one_reply(world: World) -> None:
    event = telnyx_inbound("STOP")
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: world.telnyx(event), range(6)))
    assert [r.status_code for r in responses] == [200] * 6
    assert sorted(r.json()["duplicate"] for r in responses) == [False] + [True] * 5
    assert len({json.dumps({**r.json(), "duplicate": None}) for r in responses}) == 1
    assert len(world.replies_sent()) == 1
    assert world.events() == ["opted_out"]
    assert len(world.engine.history(ACME, BOB)[1]) == 2


def test_telnyx_ordinary_text_sends_nothing(world: World) -> None:
    response = world.telnyx(telnyx_inbound("running 5 min late"))
    assert response.status_code == 200 and response.json()["reply"] is None
    assert world.fake.requests == []
    assert world.events() == []


def test_telnyx_mms_without_text_is_recorded(world: World) -> None:
    media = [{"url": "https://media.example/1.jpg", "content_type": "image/jpeg"}]
    response = world.telnyx(telnyx_inbound(None, media=media))
    assert response.status_code == 200, response.text
    assert world.engine.history(ACME, BOB)[1][0].body == ""


def test_telnyx_autoresponse_records_the_change_without_a_reply(world: World) -> None:
    response = world.telnyx(telnyx_inbound("STOP", autoresponse_type="stop"))
    assert response.status_code == 200 and response.json()["reply"] is None
    assert world.status(TX) is Status.OPTED_OUT
    assert world.events() == ["opted_out"]
    assert world.fake.requests == []
    assert [m.direction for m in world.engine.history(ACME, BOB)[1]] == ["in"]


def test_telnyx_autoresponse_stop_opts_out_a_text_the_policy_does_not_read(
    world: World,
) -> None:
    response = world.telnyx(telnyx_inbound("ALTO", autoresponse_type="stop"))
    assert response.status_code == 200 and response.json()["reply"] is None
    assert world.status(TX) is Status.OPTED_OUT
    assert world.events() == ["opted_out"]
    assert world.fake.requests == []


def test_telnyx_refusing_the_stop_confirmation_adds_no_second_opt_out(world: World) -> None:
    # Telnyx saw the STOP too and answers 40300 to the confirmation.
    world.fake.script(Reply.opted_out())
    assert world.telnyx(telnyx_inbound("STOP")).status_code == 200
    assert world.events() == ["opted_out"]
    _, messages = world.engine.history(ACME, BOB)
    assert [(m.direction, m.status, m.reason) for m in messages] == [
        ("in", "received", None),
        ("out", "failed", "opted_out"),
    ]


def test_telnyx_reply_refused_by_the_provider_is_recorded_failed(world: World) -> None:
    world.fake.script(Reply.error(500))
    response = world.telnyx(telnyx_inbound("HELP"))
    assert response.status_code == 200
    _, messages = world.engine.history(ACME, BOB)
    assert [(m.direction, m.status, m.reason) for m in messages] == [
        ("in", "received", None),
        ("out", "failed", "provider_error"),
    ]


def _engine_later(world: World, seconds: float) -> Engine:
    """Another engine on the same database whose clock runs ``seconds`` ahead."""
    dispatcher = Dispatcher(
        {"twilio": world.fake.url, "telnyx": world.fake.url},
        retry=RetryPolicy(attempts=1, initial_wait=0.0, timeout=5.0),
    )
    return Engine(
        world.store,
        clock=lambda: datetime.now(UTC) + timedelta(seconds=seconds),
        dispatch=dispatcher,
    )


def _sent_texts(world: World) -> list[tuple[str, str | None]]:
    return [
        (m.status, m.provider_id)
        for m in world.engine.history(ACME, BOB)[1]
        if m.direction == "out"
    ]


def test_a_telnyx_reply_whose_send_never_started_is_sent_by_the_reply_worker(
    world: World,
) -> None:
    # As if the process stopped right after answering the webhook: the STOP and its
    # confirmation, queued, are on record together, and nothing was sent.
    result = world.engine.receive(ACME, BOB, TX, "STOP", "tx-lost-1", reply_by_api=True)
    assert result.reply is not None
    assert _sent_texts(world) == [("queued", None)]

    # Within the grace period its own send may still start: the worker leaves it.
    assert _engine_later(world, 5).send_queued_replies() == 0
    assert world.replies_sent() == []

    later = _engine_later(world, 31)
    assert later.send_queued_replies() == 1
    assert world.replies_sent() == [{"from": TX, "to": BOB, "text": result.reply}]
    [(status, provider_id)] = _sent_texts(world)
    assert status == "sent" and provider_id is not None
    assert later.send_queued_replies() == 0  # once only
    assert len(world.replies_sent()) == 1


def test_a_late_reply_is_not_sent_once_the_contact_has_changed_their_consent(
    world: World,
) -> None:
    # Both sends never started; between the two texts the contact opted out.
    help_reply = world.engine.receive(ACME, BOB, TX, "HELP", "tx-late-1", reply_by_api=True)
    stop = world.engine.receive(ACME, BOB, TX, "STOP", "tx-late-2", reply_by_api=True)
    assert help_reply.reply and stop.reply

    assert _engine_later(world, 31).send_queued_replies() == 2
    # Only the STOP's confirmation goes: the HELP answer is from before the opt-out.
    assert world.replies_sent() == [{"from": TX, "to": BOB, "text": stop.reply}]
    replies = [(m.body, m.status, m.reason) for m in world.engine.history(ACME, BOB)[1] if m.reply]
    assert replies == [
        (help_reply.reply, "failed", "superseded"),
        (stop.reply, "sent", None),
    ]


def test_the_service_worker_sends_queued_replies(world: World) -> None:
    result = world.engine.receive(ACME, BOB, TX, "HELP", "tx-lost-2", reply_by_api=True)
    worker = Worker(_engine_later(world, 60), interval=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not world.replies_sent() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert world.replies_sent() == [{"from": TX, "to": BOB, "text": result.reply}]


def test_a_queued_reply_is_handed_to_the_provider_once(world: World) -> None:
    result = world.engine.receive(ACME, BOB, TX, "STOP", "tx-twice", reply_by_api=True)
    assert result.reply is not None and result.reply_message_id is not None
    sender = world.engine.sender(TX)
    assert sender is not None
    attempts = [
        world.engine.dispatch_recorded(sender, BOB, result.reply, result.reply_message_id)
        for _ in range(2)
    ]
    assert attempts[0][0] == "sent"
    assert attempts[1] == ("sending", None, "already being sent")
    assert len(world.replies_sent()) == 1


def test_a_send_decided_but_not_yet_handed_over_is_on_record_as_queued(world: World) -> None:
    pending = world.engine.decide_send(ACME, TX, BOB, "Your table is ready")
    assert _sent_texts(world) == [("queued", None)]  # not "sent": nothing has left yet
    result = world.engine.deliver(pending)
    assert result.status == "sent"
    [(status, provider_id)] = _sent_texts(world)
    assert status == "sent" and provider_id == result.provider_id


def test_telnyx_stale_or_future_timestamps_are_403(world: World) -> None:
    before = world.counts()
    # Well past the 300 s window either way, so a slow test run cannot bring them back in.
    for skew in (-330, 330, -3600, 10**6):
        response = world.telnyx(telnyx_inbound("STOP"), timestamp=int(time.time()) + skew)
        assert response.status_code == 403, skew
        assert_problem(response, 403, "bad_signature")
    assert world.counts() == before
    assert world.fake.requests == []


def test_telnyx_timestamp_within_the_window_is_accepted(world: World) -> None:
    response = world.telnyx(telnyx_inbound("STOP"), timestamp=int(time.time()) - 250)
    assert response.status_code == 200


def test_telnyx_forged_requests_are_403(world: World) -> None:
    body = json.dumps(telnyx_inbound("STOP")).encode()
    good = world.telnyx_headers(body)
    t = good["telnyx-timestamp"]
    other_key = SigningKey.generate().sign(t.encode() + b"|" + body).signature
    signature = "telnyx-signature-ed25519"
    cases: dict[str, tuple[bytes, dict[str, str]]] = {
        "unsigned": (body, {k: v for k, v in good.items() if k != signature}),
        "no timestamp": (body, {k: v for k, v in good.items() if k != "telnyx-timestamp"}),
        "other key": (body, {**good, signature: base64.b64encode(other_key).decode()}),
        "tampered": (body.replace(BOB.encode(), EVE.encode()), good),
        "retimed": (body, {**good, "telnyx-timestamp": str(int(t) - 1)}),
        "not base64": (body, {**good, signature: "not base64!"}),
        "short": (body, {**good, signature: base64.b64encode(b"x" * 32).decode()}),
    }
    before = world.counts()
    for case, (content, headers) in cases.items():
        response = world.client.post("/webhooks/telnyx", content=content, headers=headers)
        assert response.status_code == 403, case
        assert_problem(response, 403, "bad_signature")
    assert world.counts() == before
    assert world.fake.requests == []


def test_telnyx_delivery_40300_opts_the_recipient_out(world: World) -> None:
    sent = _sent_sid(world, TX)
    errors = [{"code": "40300", "title": "Blocked due to STOP message", "detail": "..."}]
    response = world.telnyx(telnyx_delivery(sent, "delivery_failed", errors))
    assert response.status_code == 200, response.text
    message = _outbound(world, sent)
    assert (message.status, message.reason) == ("delivery_failed", "opted_out")
    assert world.status(TX) is Status.OPTED_OUT
    assert world.status(TW) is Status.NO_CONSENT  # twilio profile: per number
    events = world.engine.history(ACME, BOB)[0]
    assert [(e.type, e.data["source"]) for e in events] == [("opted_out", "provider")]
    # The same event again changes nothing.
    assert world.telnyx(telnyx_delivery(sent, "delivery_failed", errors)).status_code == 200
    assert world.events() == ["opted_out"]


def test_telnyx_40300_records_that_telnyx_blocks_the_whole_messaging_profile(
    world: World,
) -> None:
    """Under per-sender consent a 40300 opts out the one number, as the account's
    scope says, and its event records that Telnyx's own opt-out covers the messaging
    profile (named by the report): the other numbers of the profile drift."""
    sent = _sent_sid(world, TX)
    errors = [{"code": "40300", "title": "Blocked due to STOP message"}]
    assert world.telnyx(telnyx_delivery(sent, "delivery_failed", errors)).status_code == 200
    assert world.status(TX) is Status.OPTED_OUT
    assert world.status(TW) is Status.NO_CONSENT
    [event], [message] = world.engine.history(ACME, BOB)
    assert dict(event.data) == {
        "source": "provider",
        "sender": TX,
        "scope": "sender",
        "method": "provider",
        "provider": "telnyx",
        "code": "40300",
        "provider_scope": "messaging_profile",
        "provider_scope_id": PROFILE_ID,
        "message_id": message.id,  # the send Telnyx refused, committed by its body's hash
        "message_sha256": hashlib.sha256(message.body.encode("utf-8")).hexdigest(),
    }
    assert world.engine.verify(ACME)[0].ok


def test_telnyx_40300_under_account_scope_opts_out_everywhere_and_says_so(
    default_world: World,
) -> None:
    world = default_world
    world.engine.opt_in(ACME, BOB, "signed up at the front desk")  # consent on record
    sent = _sent_sid(world, TX)
    errors = [{"code": "40300"}]
    assert world.telnyx(telnyx_delivery(sent, "delivery_failed", errors)).status_code == 200
    assert world.status(TX) is Status.OPTED_OUT and world.status(TW) is Status.OPTED_OUT
    [_, event] = world.engine.history(ACME, BOB)[0]
    assert (event.data["scope"], event.data["provider_scope"]) == ("account", "messaging_profile")


def test_a_send_refused_with_40300_records_the_provider_scope_without_a_profile(
    world: World,
) -> None:
    """Telnyx's answer to the send names no messaging profile: the scope is recorded
    without one."""
    world.fake.script(Reply.opted_out())
    result = world.engine.send(ACME, TX, BOB, "Your table is ready")
    assert result.status == "failed"
    [event] = world.engine.history(ACME, BOB)[0]
    assert event.data["provider_scope"] == "messaging_profile"
    assert "provider_scope_id" not in event.data
    assert world.status(TX) is Status.OPTED_OUT and world.status(TW) is Status.NO_CONSENT


def test_a_twilio_21610_keeps_to_its_number(world: World) -> None:
    sid = _sent_sid(world, TW)
    _status(world, twilio_status(sid, "undelivered", "21610"))
    [event] = world.engine.history(ACME, BOB)[0]
    assert "provider_scope" not in event.data


def _contact_page(world: World) -> str:
    """Bob's page in the web UI, signed in with the account's key: its text."""
    key = world.engine.issue_api_key(ACME)
    assert sign_in(world.client, key).status_code == 303
    page = world.client.get(f"/ui/contacts/{BOB}")
    assert page.status_code == 200, page.text
    return " ".join(re.sub(r"<[^>]+>", " ", page.text).split())


def test_the_contact_page_shows_the_drift_of_a_telnyx_opt_out(world: World) -> None:
    sent = _sent_sid(world, TX)
    errors = [{"code": "40300"}]
    assert world.telnyx(telnyx_delivery(sent, "delivery_failed", errors)).status_code == 200
    text = _contact_page(world)
    assert "Telnyx blocks this contact on every number of its messaging profile" in text
    assert PROFILE_ID in text and f"from {TX}" in text
    assert "only that number is opted out" in text

    # An opt-in by the business leaves Telnyx's block in force: still shown.
    world.engine.set_policy(ACME, overrides={"resubscribe": "with_evidence"})
    world.engine.opt_in(ACME, BOB, "signed form", sender=TX)
    assert "Telnyx blocks this contact" in _contact_page(world)
    # The contact's own START lifts it at Telnyx too.
    world.engine.opt_out(ACME, BOB, sender=TX)
    assert world.telnyx(telnyx_inbound("START", "start-1")).status_code == 200
    assert "Telnyx blocks this contact" not in _contact_page(world)


def test_under_account_scope_the_page_says_who_lifts_telnyx_s_block(
    default_world: World,
) -> None:
    world = default_world
    world.engine.opt_in(ACME, BOB, "signed up at the front desk")  # consent on record
    sent = _sent_sid(world, TX)
    assert world.telnyx(telnyx_delivery(sent, "delivery_failed", [{"code": "40300"}])).is_success
    text = _contact_page(world)
    assert "Telnyx blocks this contact on every number of its messaging profile" in text
    assert "only that number" not in text and "texts START" in text


def test_the_contact_page_shows_no_drift_for_a_twilio_opt_out(world: World) -> None:
    sid = _sent_sid(world, TW)
    _status(world, twilio_status(sid, "undelivered", "21610"))
    assert "blocks this contact" not in _contact_page(world)


def test_telnyx_delivered_event_updates_the_message(world: World) -> None:
    sent = _sent_sid(world, TX)
    assert world.telnyx(telnyx_delivery(sent, "delivered", [])).status_code == 200
    assert _outbound(world, sent).status == "delivered"
    assert world.events() == []


def test_telnyx_other_event_types_are_acknowledged_and_ignored(world: World) -> None:
    event = {"data": {"event_type": "call.initiated", "id": "x", "payload": {}}}
    response = world.telnyx(event)
    assert response.status_code == 200 and response.json() == {"ignored": "call.initiated"}
    assert world.counts()["messages"] == 0


@pytest.mark.parametrize("forged", ["unsigned", "other key", "stale"])
def test_telnyx_other_event_types_must_be_signed_too(world: World, forged: str) -> None:
    event = {"data": {"event_type": "call.initiated", "id": "x", "payload": {}}}
    body = json.dumps(event).encode()
    t = str(int(time.time()) - (1000 if forged == "stale" else 0))
    key = world.telnyx_key if forged == "stale" else SigningKey.generate()
    headers = {
        "Content-Type": "application/json",
        "telnyx-signature-ed25519": base64.b64encode(
            key.sign(t.encode() + b"|" + body).signature
        ).decode(),
        "telnyx-timestamp": t,
    }
    if forged == "unsigned":
        headers = {"Content-Type": "application/json"}
    assert_problem(world.telnyx(event, headers=headers), 403, "bad_signature")


def test_telnyx_for_a_twilio_number_is_403(world: World) -> None:
    event = telnyx_inbound("STOP")
    event["data"]["payload"]["to"] = [{"phone_number": TW}]
    assert_problem(world.telnyx(event), 403, "bad_signature")
    assert world.counts()["events"] == 0


def test_telnyx_malformed_bodies_are_400(world: World) -> None:
    bodies = [b"", b"{", b"[]", b"\xff\xfe", b'{"data": 1}', b'{"data": {"event_type": 5}}']
    event = telnyx_inbound("STOP")
    event["data"]["payload"]["to"] = []
    bodies.append(json.dumps(event).encode())
    for body in bodies:
        response = world.client.post(
            "/webhooks/telnyx", content=body, headers=world.telnyx_headers(body)
        )
        assert response.status_code == 400, body
        assert_problem(response, 400, "bad_payload")
    assert world.counts()["messages"] == 0
