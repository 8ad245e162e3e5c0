"""The contacts listing's search, filters and counts, "may I text them now" on a
contact's page, and the work pages (lists, triggers, senders, policy, event webhooks,
import, suppression export), through the real app on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import httpx
import pytest
from account_support import HELP_CONTACT
from fastapi.testclient import TestClient
from test_api_support import BOB, EVE, A, Tenant
from test_web import HOST, _page, _sign_in, _text

from optline.domain.consent_codes import Status
from optline.engine import Engine


@pytest.fixture
def signed_in(acme: Tenant) -> TestClient:
    assert _sign_in(acme.client, acme.key).status_code == 303
    return acme.client


def _shown(response: httpx.Response) -> list[str]:
    return re.findall(r'href="/ui/contacts/(\+\d+)"', response.text)


def _post(client: TestClient, path: str, data: dict[str, str]) -> httpx.Response:
    response: httpx.Response = client.post(path, data=data, headers=HOST, follow_redirects=True)
    return response


def test_the_listing_searches_filters_counts_and_pages(
    signed_in: TestClient, engine: Engine
) -> None:
    numbers = [f"+1415555{3000 + i:04d}" for i in range(55)]
    for n in numbers:
        engine.receive("acme", n, A, "hi")
    engine.receive("acme", numbers[7], A, "STOP")
    first = _page(signed_in, "/ui/contacts")
    assert "55 contacts match" in _text(first) and _shown(first) == numbers[:50]
    nxt = re.search(r'href="(/ui/contacts\?[^"]*after=[^"]+)"', first.text)
    assert nxt is not None
    second = _page(signed_in, nxt.group(1).replace("&amp;", "&"))
    assert _shown(second) == numbers[50:] and "first page" in _text(second)
    found = _page(signed_in, "/ui/contacts?number=555-3007")
    assert _shown(found) == [numbers[7]] and "1 contact matches" in _text(found)
    keyword = _page(signed_in, "/ui/contacts?status=opted_out&method=keyword")
    assert _shown(keyword) == [numbers[7]]
    assert _shown(_page(signed_in, "/ui/contacts?status=opted_out&method=manual")) == []
    today = _page(signed_in, "/ui/contacts?status=opted_out&since=2000-01-01&before=2999-12-31")
    assert _shown(today) == [numbers[7]]
    assert _shown(_page(signed_in, "/ui/contacts?status=opted_out&before=2000-01-01")) == []
    for bad in ("number=abc", "status=maybe", "method=fax", "since=yesterday"):
        assert _page(signed_in, f"/ui/contacts?{bad}").status_code == 422


def test_the_contact_page_says_who_may_text_them_now_for_what(
    signed_in: TestClient, engine: Engine
) -> None:
    engine.set_policy("acme", "twilio")
    engine.receive("acme", BOB, A, "STOP")
    text = _text(_page(signed_in, f"/ui/contacts/{BOB}"))
    assert "May I text them now?" in text
    # Opted out of A only (per-sender consent): B still decides as the account does.
    assert f"{A} campaign: no: opted out 1:1: no: opted out" in text
    engine.opt_in("acme", EVE, "signed form")
    eve = _text(_page(signed_in, f"/ui/contacts/{EVE}"))
    assert f"{A} campaign: yes" in eve and "1:1: yes" in eve


def test_lists_triggers_and_senders_pages_create_and_show(
    signed_in: TestClient, engine: Engine
) -> None:
    assert "List news created" in _text(_post(signed_in, "/ui/lists", {"name": "news"}))
    engine.add_to_list("acme", "news", [BOB])
    members = _page(signed_in, "/ui/contacts?list=news")
    assert _shown(members) == [BOB]
    added = _post(signed_in, "/ui/triggers", {"keyword": "join", "reply": "Welcome!"})
    assert "Trigger JOIN added" in _text(added) and "Welcome!" in added.text
    secret = "tok-" + "s" * 32
    sender = _post(
        signed_in,
        "/ui/senders",
        {
            "number": "+14155550142",
            "kind": "long_code",
            "provider": "twilio",
            "credentials": f"account_sid=AC{'1' * 32}\nauth_token={secret}",
        },
    )
    assert sender.status_code == 200 and "account_sid, auth_token" in _text(sender)
    assert secret not in sender.text and "AC111" not in sender.text
    bad = _post(signed_in, "/ui/senders", {"number": "+14155550143", "credentials": "x"})
    assert bad.status_code == 422
    assert "+14155550143" not in [s.number for s in engine.senders("acme")]


def test_the_policy_page_and_api_say_where_each_field_comes_from(
    signed_in: TestClient, acme: Tenant
) -> None:
    acme.ok("PUT", "/v1/policy", {"overrides": {**HELP_CONTACT, "brand": "Acme Dental"}})
    effective = acme.ok("GET", "/v1/policy")["effective"]
    assert effective["brand"] == {"value": "Acme Dental", "origin": "override"}
    assert effective["scope"]["origin"] == "profile"
    rows = re.findall(r'<tr class="(\w+)">\s*<td>(\w+)</td>', _page(signed_in, "/ui/policy").text)
    assert ("override", "brand") in rows and ("profile", "scope") in rows
    assert {name for _, name in rows} == set(effective)


def test_event_webhooks_show_the_secret_once_and_their_deliveries(
    signed_in: TestClient, engine: Engine
) -> None:
    added = _post(
        signed_in,
        "/ui/subscriptions",
        {"url": "https://hooks.example.com/optline", "events": "opted_out"},
    )
    secret = re.search(r"whsec_[\w-]+", added.text)
    assert secret is not None
    engine.receive("acme", BOB, A, "STOP")
    page = _page(signed_in, "/ui/subscriptions")
    assert secret.group(0) not in page.text
    assert "pending: 1" in _text(page) and "never" in _text(page)
    nothing = _post(signed_in, "/ui/subscriptions", {"url": "https://hooks.example.com/x"})
    assert nothing.status_code == 422


def test_the_event_webhook_form_offers_the_logs_checkpoints(
    signed_in: TestClient, engine: Engine
) -> None:
    assert 'name="events" value="checkpoint"' in _page(signed_in, "/ui/subscriptions").text
    _post(
        signed_in,
        "/ui/subscriptions",
        {"url": "https://audit.example.com/optline", "events": "checkpoint"},
    )
    (sub,) = engine.subscriptions("acme")
    assert sub.events == ["checkpoint"]


def _upload(client: TestClient, text: str) -> httpx.Response:
    response: httpx.Response = client.post(
        "/ui/import", files={"file": ("people.csv", text.encode(), "text/csv")}, headers=HOST
    )
    return response


def test_an_import_lists_every_bad_row_and_imports_nothing_or_all(
    signed_in: TestClient, engine: Engine, acme: Tenant
) -> None:
    bad = "phone,status\n+14155552671,opted_in\nnot a number,opted_in\n+12025550143,subscribed\n"
    refused = _upload(signed_in, bad)
    assert refused.status_code == 422
    text = _text(refused)
    assert "Nothing was imported" in text and "line 3" in text and "line 4" in text
    assert "opted_in, opted_out, blocked" in text
    assert engine.contacts("acme") == []
    good = "phone,status\n+14155552671,opted_in\n+12025550143,opted_out\n"
    assert "Imported 2 contacts" in _text(_upload(signed_in, good))
    export = signed_in.get("/ui/suppression.csv")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    api = acme.get("/v1/contacts.csv?status=opted_out")
    assert export.text == api.text and "+12025550143,account,opted_out" in export.text
    other_site = signed_in.post(
        "/ui/import",
        files={"file": ("p.csv", good.encode(), "text/csv")},
        headers={"origin": "https://evil.example"},
    )
    assert other_site.status_code == 403


def test_the_review_queue_shows_each_reply_and_resolves_it_both_ways(
    signed_in: TestClient, engine: Engine
) -> None:
    engine.receive("acme", BOB, A, "not interested")
    engine.receive("acme", EVE, A, "no thanks")
    page = _page(signed_in, "/ui/review")
    assert "not interested" in page.text and "no thanks" in page.text
    seqs = dict(re.findall(r'id="flag-(\d+)".*?href="/ui/contacts/(\+\d+)"', page.text, re.S))
    by_phone = {phone: seq for seq, phone in seqs.items()}
    dismissed = _post(
        signed_in, f"/ui/review/{by_phone[BOB]}/dismiss", {"reason": "means the offer"}
    )
    assert "resolved (dismissed)" in _text(dismissed) and "not interested" not in dismissed.text
    opted = _post(signed_in, f"/ui/review/{by_phone[EVE]}/opt-out", {})
    assert "resolved (opted_out)" in _text(opted) and "Nothing flagged" in _text(opted)
    eve = engine.contact("acme", EVE)
    assert eve is not None and eve.status_from(None) is Status.OPTED_OUT
    bob = engine.contact("acme", BOB)
    assert bob is not None and bob.status_from(None) is not Status.OPTED_OUT
