"""The generic gateway's webhook end to end, signed with optline's own HMAC scheme."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from store_support import FullDisk
from webhook_support import (
    ACME,
    BOB,
    EVE,
    GEN,
    GENERIC_SECRET,
    TW,
    World,
    assert_problem,
    generic_message,
)

from optline.domain.consent_codes import Status
from optline.providers import signing


def test_generic_stop_returns_the_reply_in_the_body(world: World) -> None:
    response = world.generic(generic_message("STOP"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["intent"] == "opt_out" and body["duplicate"] is False
    assert body["reply"].startswith("You have successfully been unsubscribed")
    assert world.status(GEN) is Status.OPTED_OUT
    assert world.fake.requests == []  # the gateway sends the reply itself

    again = world.generic(generic_message("STOP"))
    assert again.json() == {**body, "duplicate": True}
    assert world.events() == ["opted_out"]


def test_a_message_id_already_another_text_s_is_refused_and_keeps_nothing(world: World) -> None:
    # A gateway numbering texts per number: the same id from someone else is not a
    # repeat of Bob's text. Answered 409, never Bob's outcome, and nothing is kept.
    assert world.generic(generic_message("hello")).status_code == 200
    before = world.counts()
    other = {**generic_message("STOP"), "from": EVE}
    assert_problem(world.generic(other), 409, "provider_id_conflict")
    assert world.counts() == before
    assert world.engine.contact(ACME, EVE) is None


def test_a_failed_commit_answers_503_keeps_nothing_and_the_retry_lands(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    if world.store.dialect != "sqlite":
        pytest.skip("PostgreSQL commits each write on its own")
    before = world.counts()
    open_group = world.store.group_commit._open_group

    def full_disk_group() -> Any:
        group = open_group()
        if group is not None and not isinstance(group.driver, FullDisk):
            group.driver = FullDisk(group.driver)  # type: ignore[assignment]
        return group

    monkeypatch.setattr(world.store.group_commit, "_open_group", full_disk_group)
    response = world.generic(generic_message("STOP"))
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "commit_failed"
    assert world.counts() == before

    monkeypatch.undo()  # the disk has room again; the gateway sends the text again
    again = world.generic(generic_message("STOP"))
    assert again.status_code == 200 and again.json()["duplicate"] is False
    assert world.events() == ["opted_out"]


def test_generic_provider_replied_suppresses_the_reply(world: World) -> None:
    response = world.generic(generic_message("STOP", provider_replied=True))
    assert response.json()["reply"] is None
    assert world.status(GEN) is Status.OPTED_OUT


def test_generic_refuses_replayed_or_forged_signatures(world: World) -> None:
    message = generic_message("STOP")
    body = json.dumps(message).encode()
    now = int(time.time())
    tampered = body.replace(b"STOP", b"STOP ")
    cases: dict[str, tuple[bytes, dict[str, str]]] = {
        "old": (body, {signing.HEADER: signing.sign(GENERIC_SECRET, body, now - 330)}),
        "future": (body, {signing.HEADER: signing.sign(GENERIC_SECRET, body, now + 330)}),
        "secret": (body, {signing.HEADER: signing.sign("guess", body)}),
        "missing": (body, {}),
        "tampered": (tampered, {signing.HEADER: signing.sign(GENERIC_SECRET, body)}),
        "retimed": (
            body,
            {
                signing.HEADER: signing.sign(GENERIC_SECRET, body, now - 1).replace(
                    f"t={now - 1}", f"t={now}"
                )
            },
        ),
    }
    before = world.counts()
    for case, (content, headers) in cases.items():
        response = world.client.post("/webhooks/generic", content=content, headers=headers)
        assert response.status_code == 403, case
        assert_problem(response, 403, "bad_signature")
    assert world.counts() == before


def test_generic_replay_of_a_captured_request_later_is_refused(world: World) -> None:
    message = generic_message("STOP")
    body = json.dumps(message).encode()
    captured = signing.sign(GENERIC_SECRET, body, int(time.time()) - 600)
    response = world.client.post(
        "/webhooks/generic", content=body, headers={signing.HEADER: captured}
    )
    assert_problem(response, 403, "bad_signature")
    assert world.engine.contact(ACME, BOB) is None


def test_generic_for_a_twilio_number_is_403(world: World) -> None:
    assert_problem(world.generic(generic_message("STOP", to=TW)), 403, "bad_signature")
