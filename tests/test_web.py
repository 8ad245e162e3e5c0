"""The web UI under /ui, through the real app on SQLite and PostgreSQL: signing in,
pages, consent changes through forms, and what it refuses."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_api_support import (
    ADMIN_KEY,
    BOB,
    EVE,
    OTHER,
    ZED,
    A,
    Tenant,
)
from web_support import sign_in

from optline.domain.consent_codes import Status
from optline.engine import Engine
from optline.web.session import COOKIE

HOST = {"origin": "http://testserver"}


def _sign_in(client: TestClient, key: str) -> httpx.Response:
    return sign_in(client, key)


def _page(client: TestClient, path: str) -> httpx.Response:
    response: httpx.Response = client.get(path, follow_redirects=False)
    return response


def _text(response: httpx.Response) -> str:
    """The page's text without its tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.text).split())


@pytest.fixture
def signed_in(acme: Tenant) -> TestClient:
    assert _sign_in(acme.client, acme.key).status_code == 303
    return acme.client


def test_pages_need_a_signed_in_account(client: TestClient) -> None:
    for path in ("/ui/", "/ui/contacts", f"/ui/contacts/{BOB}", "/ui/check", "/ui/review"):
        response = _page(client, path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/ui/login"
    assert _page(client, "/").headers["location"] == "/ui/"
    assert "API key" in _page(client, "/ui/login").text


def test_a_wrong_key_is_refused_and_sets_no_cookie(client: TestClient) -> None:
    response = _sign_in(client, "not-a-key")
    assert response.status_code == 401
    assert "belongs to no account" in response.text
    assert COOKIE not in response.cookies
    # The admin key is not an account's key either.
    assert _sign_in(client, ADMIN_KEY).status_code == 401


def test_signing_in_sets_a_strict_http_only_cookie_and_out_clears_it(acme: Tenant) -> None:
    response = _sign_in(acme.client, acme.key)
    assert response.headers["location"] == "/ui/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "Path=/ui", "SameSite=strict"):
        assert attribute.lower() in cookie.lower()
    home = _page(acme.client, "/ui/")
    assert home.status_code == 200 and "acme" in home.text and A in home.text

    out = acme.client.post("/ui/logout", headers=HOST, follow_redirects=False)
    assert out.status_code == 303
    assert _page(acme.client, "/ui/").status_code == 303


def test_a_form_from_another_site_changes_nothing(signed_in: TestClient, engine: Engine) -> None:
    engine.receive("acme", BOB, A, "hello")
    response = signed_in.post(
        f"/ui/contacts/{BOB}/opt-out",
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    state = engine.contact("acme", BOB)
    assert state is not None and state.status_from(None) is Status.NO_CONSENT


def test_a_stop_shows_on_the_contact_page_and_a_form_opts_back_in(
    signed_in: TestClient, engine: Engine
) -> None:
    engine.receive("acme", BOB, A, "STOP", "SM1")
    page = _page(signed_in, f"/ui/contacts/{BOB}")
    assert page.status_code == 200
    text = _text(page)
    assert "opted_out" in text and "STOP" in text
    assert "opted_out" in text.split("Consent events")[1]  # the ledger event is listed
    assert "sent · auto-reply" in text  # the confirmation, marked as the automatic answer

    # Opting back in needs evidence under the default profile: refused, nothing changed.
    refused = signed_in.post(f"/ui/contacts/{BOB}/opt-in", data={}, headers=HOST)
    assert refused.status_code in (409, 422), refused.text
    state = engine.contact("acme", BOB)
    assert state is not None and state.status_from(None) is Status.OPTED_OUT

    done = signed_in.post(
        f"/ui/contacts/{BOB}/opt-in",
        data={"evidence": "signed form at the front desk, 2026-11-24"},
        headers=HOST,
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/ui/contacts/{BOB}?done=opt-in"
    state = engine.contact("acme", BOB)
    assert state is not None and state.status_from(None) is Status.OPTED_IN


def test_block_and_unblock_through_the_page(signed_in: TestClient, engine: Engine) -> None:
    engine.receive("acme", EVE, A, "hi")
    for action, blocked in (("block", True), ("unblock", False)):
        response = signed_in.post(
            f"/ui/contacts/{EVE}/{action}", data={"note": "abuse"}, headers=HOST
        )
        assert response.status_code == 200
        state = engine.contact("acme", EVE)
        assert state is not None and state.blocked is blocked


def test_message_text_is_shown_escaped(signed_in: TestClient, engine: Engine) -> None:
    engine.receive("acme", BOB, A, "<script>alert(1)</script> & more")
    page = _page(signed_in, f"/ui/contacts/{BOB}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page.text


def test_bad_numbers_and_unknown_contacts_are_clear_errors(signed_in: TestClient) -> None:
    bad = _page(signed_in, "/ui/contacts/not-a-number")
    assert bad.status_code == 422 and "not-a-number" in _text(bad)
    unknown = _page(signed_in, f"/ui/contacts/{BOB}")
    assert unknown.status_code == 404 and f"No contact {BOB}" in _text(unknown)
    lookup = _page(signed_in, "/ui/contacts?phone=%2B1%20415%20555%202671")
    assert lookup.status_code == 404
    unknown_action = signed_in.post(f"/ui/contacts/{BOB}/delete", headers=HOST)
    assert unknown_action.status_code == 404


def test_the_look_up_box_goes_to_the_contact_in_e164(signed_in: TestClient, engine: Engine) -> None:
    engine.receive("acme", BOB, A, "hi")
    response = _page(signed_in, "/ui/contacts?phone=(415)%20555-2671")
    assert response.status_code == 303
    assert response.headers["location"] == f"/ui/contacts/{BOB}"


def test_the_contact_list_filters_by_status_and_pages(
    signed_in: TestClient, engine: Engine
) -> None:
    numbers = [f"+1415555{3000 + i:04d}" for i in range(55)]
    for n in numbers:
        engine.receive("acme", n, A, "hi")
    engine.receive("acme", numbers[7], A, "STOP")
    first = _page(signed_in, "/ui/contacts")
    assert first.status_code == 200
    shown = re.findall(r'href="/ui/contacts/(\+\d+)"', first.text)
    assert shown == numbers[:50]
    after = re.search(r'href="(/ui/contacts\?after=[^"]+)"', first.text)
    assert after is not None
    second = _page(signed_in, after.group(1).replace("&amp;", "&"))
    assert re.findall(r'href="/ui/contacts/(\+\d+)"', second.text) == numbers[50:]
    opted_out = _page(signed_in, "/ui/contacts?status=opted_out")
    assert re.findall(r'href="/ui/contacts/(\+\d+)"', opted_out.text) == [numbers[7]]


def test_may_i_send_gives_the_send_decision_and_records_nothing(
    signed_in: TestClient, engine: Engine
) -> None:
    engine.receive("acme", BOB, A, "STOP")
    before = len(engine.history("acme", BOB)[1])
    refused = _page(signed_in, f"/ui/check?sender={A}&to={BOB}&body=Sale+today")
    assert refused.status_code == 200
    assert "Refused: opted_out" in _text(refused)
    # Eve has texted first: the default profile answers her (no consent on record).
    no_consent = _page(signed_in, f"/ui/check?sender={A}&to={EVE}&body=Your+table+is+ready")
    assert "Refused: no_consent" in _text(no_consent)
    engine.receive("acme", EVE, A, "Is my table ready?")
    allowed = _page(signed_in, f"/ui/check?sender={A}&to={EVE}&body=Your+table+is+ready")
    assert "Allowed" in _text(allowed) and "Your table is ready" in allowed.text
    assert len(engine.history("acme", BOB)[1]) == before
    unknown_sender = _page(signed_in, f"/ui/check?sender=%2B12025550199&to={EVE}")
    assert unknown_sender.status_code == 404


def test_another_accounts_contact_is_not_found(
    signed_in: TestClient, other: Tenant, engine: Engine
) -> None:
    engine.receive("other", BOB, OTHER, "STOP")
    assert _page(signed_in, f"/ui/contacts/{BOB}").status_code == 404
    changed = signed_in.post(f"/ui/contacts/{BOB}/opt-out", headers=HOST, follow_redirects=False)
    assert changed.status_code == 303  # acme's own (new) contact, not other's
    theirs = engine.contact("other", BOB)
    assert theirs is not None and theirs.status_from(None) is Status.OPTED_OUT


def test_review_lists_flagged_replies_and_the_ledger_verifies(
    signed_in: TestClient, engine: Engine
) -> None:
    engine.receive("acme", BOB, A, "STOP")
    engine.receive("acme", EVE, A, "I don't want these anymore, take me off")
    flagged = engine.flagged("acme").flags
    review = _page(signed_in, "/ui/review")
    assert review.status_code == 200
    for event in flagged:
        assert f"/ui/contacts/{event.phone}" in review.text
    verdict = _page(signed_in, "/ui/ledger/verify")  # a GET: the verdict can be reloaded
    assert verdict.status_code == 200
    (result,) = engine.verify("acme")
    assert f"Intact: {result.checked} events" in _text(verdict)


def test_a_replaced_key_signs_the_browser_out(signed_in: TestClient, engine: Engine) -> None:
    assert _page(signed_in, "/ui/").status_code == 200
    engine.issue_api_key("acme")
    response = _page(signed_in, "/ui/")
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"


def test_forms_with_unstorable_text_or_too_big_change_nothing(
    signed_in: TestClient, engine: Engine
) -> None:
    engine.receive("acme", BOB, A, "STOP")
    nul = signed_in.post(
        f"/ui/contacts/{BOB}/opt-in", data={"evidence": "signed\x00form"}, headers=HOST
    )
    assert nul.status_code == 422 and "evidence" in _text(nul)
    huge = signed_in.post(
        f"/ui/contacts/{BOB}/opt-in", data={"evidence": "x" * 70_000}, headers=HOST
    )
    assert huge.status_code == 413
    state = engine.contact("acme", BOB)
    assert state is not None and state.status_from(None) is Status.OPTED_OUT
    assert [e.type for e in engine.history("acme", BOB)[0]] == ["opted_out"]
    # A NUL in a page's query or path is refused too, before any database sees it.
    assert _page(signed_in, "/ui/contacts?after=%00").status_code == 422
    assert _page(signed_in, "/ui/contacts/%2B1415%00").status_code == 422
    assert _sign_in(signed_in, "key\x00").status_code == 422


_ANY_TEXT = st.text(max_size=40)


def test_arbitrary_pages_and_forms_never_cause_a_5xx(signed_in: TestClient, engine: Engine) -> None:
    engine.receive("acme", BOB, A, "STOP")

    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        phone=st.one_of(st.just(BOB), _ANY_TEXT),
        action=st.sampled_from(["opt-out", "opt-in", "block", "unblock", "x"]),
        fields=st.dictionaries(st.sampled_from(["evidence", "note", "key"]), _ANY_TEXT),
        query=st.dictionaries(
            st.sampled_from(["phone", "status", "after", "sender", "to", "body"]), _ANY_TEXT
        ),
    )
    def check(phone: str, action: str, fields: dict[str, str], query: dict[str, str]) -> None:
        path = "/ui/contacts/" + quote(phone, safe="+")
        for response in (
            signed_in.get(path, follow_redirects=False),
            signed_in.post(f"{path}/{action}", data=fields, headers=HOST, follow_redirects=False),
            signed_in.get("/ui/contacts", params=query, follow_redirects=False),
            signed_in.get("/ui/check", params=query, follow_redirects=False),
        ):
            assert response.status_code < 500, response.text

    check()


def test_the_stylesheet_is_served_by_the_service_itself(client: TestClient) -> None:
    page = _page(client, "/ui/login")
    assert '<link rel="stylesheet" href="/ui/static/optline.css">' in page.text
    assert "http" not in re.sub(r'href="/ui/[^"]*"', "", page.text.split("<body>")[0])
    css = _page(client, "/ui/static/optline.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_home_lists_the_latest_messages_of_this_account_only(
    signed_in: TestClient, other: Tenant, engine: Engine
) -> None:
    engine.receive("acme", BOB, A, "first")
    engine.receive("acme", EVE, A, "HELP")  # its reply comes after it
    engine.block("acme", ZED)
    engine.receive("acme", ZED, A, "a text from a blocked number")
    engine.receive("other", BOB, OTHER, "not acme's")
    home = _page(signed_in, "/ui/")
    recent = home.text.split('id="recent"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", recent.split("<tbody>")[1], re.S)
    texts = [" ".join(re.sub(r"<[^>]+>", " ", r).split()) for r in rows]
    assert len(texts) == 4
    assert "(hidden: blocked contact)" in texts[0] and ZED in texts[0]
    assert "blocked number" not in recent
    assert texts[1].startswith("out") and EVE in texts[1]
    assert texts[2].startswith("in") and "HELP" in texts[2]
    assert texts[3].startswith("in") and "first" in texts[3]
    assert "not acme" not in home.text


def test_check_shows_a_separate_first_text_notice_and_history_marks_it(
    signed_in: TestClient, engine: Engine
) -> None:
    # Seed 004 (command): the notice goes first, as a text of its own.
    engine.set_policy("acme", "command")
    notice = "Prefer a phone call or email? Reply STOP to unsubscribe."
    page = _page(signed_in, f"/ui/check?sender={A}&to={EVE}&body=Open+house+Sunday")
    assert "as a text of its own" in _text(page) and notice in _text(page)
    engine.send("acme", A, EVE, "Open house Sunday")
    assert "disclosure" in _text(_page(signed_in, f"/ui/contacts/{quote(EVE)}"))


def test_the_contacts_page_shows_every_scope_and_filters_by_sender(
    signed_in: TestClient, engine: Engine
) -> None:
    engine.set_policy("acme", "twilio")
    engine.receive("acme", BOB, A, "STOP", "SM1")
    engine.receive("acme", EVE, A, "hello", "SM2")
    text = _text(_page(signed_in, "/ui/contacts?status=opted_out"))
    assert BOB in text and EVE not in text
    assert f"opted_out from {A} since" in text and "by keyword (event 1)" in text
    assert BOB in _text(_page(signed_in, f"/ui/contacts?status=opted_out&sender={A}"))
    page = _page(signed_in, f"/ui/contacts/{BOB}")
    assert f"opted_out from {A} since" in _text(page)


def test_the_ledger_page_names_an_altered_text_and_pages_show_a_redacted_one(
    signed_in: TestClient, engine: Engine
) -> None:
    engine.receive("acme", BOB, A, "STOP, my secret")
    events, _ = engine.history("acme", BOB)
    inbound = events[-1].data["message_id"]
    with engine.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE messages SET body = 'x' WHERE id = :id"), {"id": inbound})
    verdict = _text(_page(signed_in, "/ui/ledger/verify"))
    assert f"a text was altered after its events committed it: message {inbound}" in verdict
    engine.redact_message("acme", inbound, "deletion request")
    page = _text(_page(signed_in, "/ui/ledger/verify"))
    assert "Intact:" in page and "Transparency log: 0 entries" in page
    contact = _text(_page(signed_in, f"/ui/contacts/{BOB}"))
    assert "(redacted)" in contact and "my secret" not in contact
