"""The inbox under /ui/inbox, through the real app on SQLite and PostgreSQL:
conversations newest first with unread counts, a thread with its consent changes
inline, replies through the send's gate, blocked contacts' texts kept hidden, and the
answer the pages poll."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from test_api_support import BOB, EVE, ZED, A, B, Tenant
from test_web import HOST, _page, _sign_in, _text

from optline.engine import Engine
from optline.errors import BadInput


@pytest.fixture
def signed_in(acme: Tenant) -> TestClient:
    assert _sign_in(acme.client, acme.key).status_code == 303
    return acme.client


def _form_key(page: httpx.Response) -> str:
    found = re.search(r'name="key" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def _reply(client: TestClient, phone: str, body: str, sender: str = A) -> httpx.Response:
    key = _form_key(_page(client, f"/ui/inbox/{phone}"))
    response: httpx.Response = client.post(
        f"/ui/inbox/{phone}/reply",
        data={"key": key, "sender": sender, "body": body},
        headers=HOST,
        follow_redirects=False,
    )
    return response


def _latest(client: TestClient) -> dict[str, int]:
    response = _page(client, "/ui/inbox/latest")
    assert response.status_code == 200
    body: dict[str, int] = response.json()
    return body


def test_conversations_newest_first_with_unread_counts_read_when_opened(
    signed_in: TestClient, engine: Engine
) -> None:
    engine.receive("acme", BOB, A, "Is my cleaning on Tuesday?", "SM1")
    engine.receive("acme", BOB, A, "Or Wednesday?", "SM2")
    engine.receive("acme", EVE, B, "Hello", "SM3")
    inbox = _page(signed_in, "/ui/inbox")
    assert inbox.status_code == 200
    text = _text(inbox)
    assert text.index(EVE) < text.index(BOB)  # EVE wrote last
    assert f"{BOB} 2 " in text and f"{EVE} 1 " in text
    assert "3 unread texts" in text
    assert _latest(signed_in)["unread"] == 3

    thread = _page(signed_in, f"/ui/inbox/{BOB}")
    assert "Or Wednesday?" in thread.text
    assert _latest(signed_in)["unread"] == 1
    assert f"{BOB} 2 " not in _text(_page(signed_in, "/ui/inbox"))

    # A new text makes the conversation unread again and moves it to the top.
    engine.receive("acme", BOB, A, "Never mind, see you then", "SM4")
    latest = _latest(signed_in)
    assert latest["unread"] == 2
    assert latest["latest"] == engine.recent_messages("acme", 1)[0].id
    text = _text(_page(signed_in, "/ui/inbox"))
    assert text.index(BOB) < text.index(EVE)


def test_a_read_marker_only_moves_forward(engine: Engine, acme: Tenant) -> None:
    first = engine.receive("acme", BOB, A, "one", "SM1")
    engine.receive("acme", BOB, A, "two", "SM2")
    assert first.status
    ids = [m.id for m in engine.history("acme", BOB)[1] if m.direction == "in"]
    engine.mark_read("acme", BOB, ids[1])
    engine.mark_read("acme", BOB, ids[0])  # a page opened earlier, answered later
    assert engine.unread("acme")[0] == 0
    with pytest.raises(BadInput):
        engine.conversations("acme", limit=0)


def test_the_thread_shows_consent_changes_between_the_texts(
    signed_in: TestClient, engine: Engine
) -> None:
    engine.receive("acme", BOB, A, "Hi there", "SM1")
    engine.receive("acme", BOB, A, "STOP", "SM2")
    engine.receive("acme", BOB, A, "not interested anymore", "SM3")
    text = _text(_page(signed_in, f"/ui/inbox/{BOB}"))
    stop = text.index("STOP")
    opted_out = text.index("Opted out")
    confirmation = text.index("unsubscribed")
    assert text.index("Hi there") < stop < opted_out < confirmation
    assert "method: keyword keyword: STOP language: en" in text
    # An opted-out contact's text still arrives (seed 000), and the page says a reply
    # waits until they resubscribe.
    assert "not interested anymore" in text
    assert "You cannot reply now: opted_out" in text and "resubscribe" in text


def test_a_reply_is_sent_through_the_sends_gate_and_a_refused_one_recorded(
    signed_in: TestClient, engine: Engine, acme: Tenant
) -> None:
    engine.receive("acme", BOB, A, "Can I move my appointment?", "SM1")
    sent = _reply(signed_in, BOB, "Of course, which day suits you?")
    assert sent.status_code == 303
    page = signed_in.get(sent.headers["location"])
    assert "Reply sent." in _text(page)
    last = engine.history("acme", BOB)[1][-1]
    # The first text to them carries the first-text disclosure, as from the API.
    assert (last.direction, last.status) == ("out", "sent")
    assert last.body.startswith("Of course, which day suits you?")

    engine.receive("acme", BOB, A, "STOP", "SM2")
    refused = _reply(signed_in, BOB, "Sorry to see you go")
    page = signed_in.get(refused.headers["location"])
    assert "Not sent, refused: opted_out" in _text(page)
    # Recorded as the API's send records it: a failed text with its reason, and a
    # send_refused event on the contact's ledger.
    api = acme.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": "Sorry to see you go"})
    assert (api["allowed"], api["reason"]) == (False, "opted_out")
    events, messages = engine.history("acme", BOB)
    from_ui, from_api = messages[-2], messages[-1]
    assert (from_ui.status, from_ui.reason) == (from_api.status, from_api.reason)
    assert [e.type for e in events][-2:] == ["send_refused", "send_refused"]


def test_the_same_reply_form_posted_twice_sends_once(signed_in: TestClient, engine: Engine) -> None:
    engine.receive("acme", BOB, A, "hello?", "SM1")
    key = _form_key(_page(signed_in, f"/ui/inbox/{BOB}"))
    form = {"key": key, "sender": A, "body": "Hello! How can we help?"}
    for _ in range(2):
        answer = signed_in.post(
            f"/ui/inbox/{BOB}/reply", data=form, headers=HOST, follow_redirects=False
        )
        assert answer.status_code == 303
    assert [m.direction for m in engine.history("acme", BOB)[1]] == ["in", "out"]
    # A form with no key, another sender's number or an empty text changes nothing.
    assert (
        signed_in.post(f"/ui/inbox/{BOB}/reply", data={**form, "key": ""}, headers=HOST).status_code
        == 422
    )
    key = _form_key(_page(signed_in, f"/ui/inbox/{BOB}"))
    assert (
        signed_in.post(
            f"/ui/inbox/{BOB}/reply", data={**form, "key": key, "sender": ZED}, headers=HOST
        ).status_code
        == 404
    )
    assert (
        signed_in.post(
            f"/ui/inbox/{BOB}/reply", data={**form, "key": key, "body": ""}, headers=HOST
        ).status_code
        == 422
    )
    assert len(engine.history("acme", BOB)[1]) == 2


def test_a_blocked_contacts_texts_are_hidden_behind_toggles(
    signed_in: TestClient, engine: Engine
) -> None:
    engine.receive("acme", BOB, A, "hi", "SM1")
    engine.block("acme", EVE, "abusive")
    engine.receive("acme", EVE, A, "a nasty text", "SM2")
    inbox = _page(signed_in, "/ui/inbox")
    assert EVE not in inbox.text and "1 unread text." in _text(inbox)
    shown = _page(signed_in, "/ui/inbox?blocked=1")
    assert EVE in shown.text and "a nasty text" not in shown.text
    assert "(hidden: blocked contact)" in shown.text
    thread = _page(signed_in, f"/ui/inbox/{EVE}")
    folded = re.search(
        r"<details><summary>Hidden text from a blocked contact</summary>(.*?)</details>",
        thread.text,
        re.S,
    )
    assert folded is not None and "a nasty text" in folded.group(1)


def test_the_inbox_needs_a_signed_in_account_and_knows_only_its_own(
    client: TestClient, signed_in: TestClient, engine: Engine, other: Tenant
) -> None:
    for path in ("/ui/inbox", "/ui/inbox/latest", f"/ui/inbox/{BOB}"):
        anonymous = TestClient(client.app).get(path, follow_redirects=False)
        assert anonymous.headers["location"] == "/ui/login"
    engine.receive("other", BOB, "+14155550177", "for other only", "SM9")
    assert _page(signed_in, f"/ui/inbox/{BOB}").status_code == 404
    assert BOB not in _page(signed_in, "/ui/inbox").text
    assert _page(signed_in, "/ui/inbox/not-a-number").status_code == 422


def test_a_redacted_text_shows_as_redacted_in_the_inbox_and_its_thread(
    signed_in: TestClient, engine: Engine
) -> None:
    secret = "My card number is 4111 1111"
    engine.receive("acme", BOB, A, secret, "SM1")
    text = engine.recent_messages("acme", 1)[0]
    engine.redact_message("acme", text.id, "the contact asked to erase it")
    for page in (_page(signed_in, "/ui/inbox"), _page(signed_in, f"/ui/inbox/{BOB}")):
        assert page.status_code == 200
        assert secret not in page.text
        assert "(redacted)" in page.text
