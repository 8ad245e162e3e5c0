"""The console page of unsettled sends under /ui, through the real app on SQLite and
PostgreSQL: what it lists, the settle form, what it refuses, and the home page's count."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote_plus

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_api_support import (
    BOB,
    EVE,
    OTHER,
    ZED,
    A,
    Tenant,
)
from web_support import sign_in

from optline.engine import Engine

HOST = {"origin": "http://testserver"}


@pytest.fixture
def signed_in(acme: Tenant) -> TestClient:
    assert sign_in(acme.client, acme.key).status_code == 303
    return acme.client


def page(client: TestClient, path: str) -> httpx.Response:
    response: httpx.Response = client.get(path, follow_redirects=False)
    return response


def plain(response: httpx.Response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.text).split())


def left(engine: Engine, account: str, to: str, status: str, ago: timedelta, body: str) -> int:
    """A send a crash left ``status`` (queued or sending), recorded ``ago``."""
    with engine.store.transaction() as tx:
        row = tx.accounts.by_name(account)
        assert row is not None
        return tx.messages.record_outbound(
            row.id,
            phone=to,
            sender=OTHER if account == "other" else A,
            body=body,
            status=status,
            reason=None,
            list_name=None,
            campaign=False,
            at=datetime.now(UTC) - ago,
        )


def settle(client: TestClient, message_id: int | str, **form: str) -> httpx.Response:
    response: httpx.Response = client.post(
        f"/ui/unsettled/{message_id}", data=form, headers=HOST, follow_redirects=False
    )
    return response


def test_the_page_needs_a_signed_in_account(client: TestClient) -> None:
    assert page(client, "/ui/unsettled").headers["location"] == "/ui/login"
    response = client.post("/ui/unsettled/1", data={"as": "sent"}, headers=HOST)
    assert response.url.path == "/ui/login"


def test_the_page_lists_sends_in_doubt_and_home_counts_them(
    signed_in: TestClient, engine: Engine, other: Tenant
) -> None:
    assert "None: every send has its outcome on record." in plain(page(signed_in, "/ui/"))
    sending = left(engine, "acme", BOB, "sending", timedelta(seconds=30), "Cut <off>")
    old = left(engine, "acme", EVE, "queued", timedelta(minutes=6), "Queued long ago")
    left(engine, "acme", ZED, "queued", timedelta(seconds=10), "Queued just now")
    left(engine, "other", BOB, "sending", timedelta(minutes=1), "other's")

    response = page(signed_in, "/ui/unsettled")
    assert response.status_code == 200
    shown = re.findall(r'<article class="card send" id="send-(\d+)"', response.text)
    assert [int(n) for n in shown] == [sending, old]
    assert "Cut &lt;off&gt;" in response.text and "other's" not in response.text
    assert "1 sending, 1 queued for over 5 minutes" in plain(response)
    assert f'action="/ui/unsettled/{sending}"' in response.text
    assert '<a href="/ui/unsettled">Unsettled</a>' in response.text  # in the navigation

    home = page(signed_in, "/ui/")
    card = plain(home).split("Unsettled sends")[1]
    assert card.startswith(" 1 sending with no answer from the provider, 1 queued for over 5")
    assert 'href="/ui/unsettled"' in home.text.split('id="unsettled"')[1]


def test_a_send_settled_through_the_form_leaves_the_page_and_joins_the_ledger(
    signed_in: TestClient, engine: Engine
) -> None:
    engine.receive("acme", BOB, A, "hi")
    stuck = left(engine, "acme", BOB, "sending", timedelta(minutes=1), "Cut off")
    done = settle(signed_in, stuck, **{"as": "failed", "reason": "not in Twilio's log"})
    assert done.status_code == 303
    assert unquote_plus(done.headers["location"]) == (
        f"/ui/unsettled?done=#{stuck} to {BOB} settled as failed."
    )
    after = page(signed_in, done.headers["location"])
    assert f"#{stuck} to {BOB} settled as failed." in plain(after)
    assert "Nothing to settle" in plain(after)
    message = engine.message("acme", stuck)
    assert (message.status, message.reason) == ("failed", "settled_by_operator")
    event = engine.history("acme", BOB)[0][-1]
    assert event.type == "send_settled"
    assert (event.data["by"], event.data["via"], event.data["reason"]) == (
        "default",  # the name of the key the UI was signed in with
        "ui",
        "not in Twilio's log",
    )
    (result,) = engine.verify("acme")
    assert result.ok
    # Settled already: the form is refused with the API's status, nothing changes.
    again = settle(signed_in, stuck, **{"as": "sent", "reason": "again"})
    assert again.status_code == 409 and "only a send still queued or sending" in plain(again)


@pytest.mark.parametrize(
    "form",
    [{"as": "sent"}, {"as": "sent", "reason": "  "}, {"as": "lost", "reason": "x"}, {}],
)
def test_a_bad_settlement_form_changes_nothing(
    signed_in: TestClient, engine: Engine, form: dict[str, str]
) -> None:
    stuck = left(engine, "acme", BOB, "sending", timedelta(minutes=1), "Cut off")
    refused = settle(signed_in, stuck, **form)
    assert refused.status_code == 422, refused.text
    assert engine.message("acme", stuck).status == "sending"
    assert engine.history("acme", BOB)[0] == []


def test_unknown_foreign_and_other_sites_settlements_are_refused(
    signed_in: TestClient, engine: Engine, other: Tenant
) -> None:
    theirs = left(engine, "other", BOB, "sending", timedelta(minutes=1), "other's")
    ok = {"as": "sent", "reason": "checked"}
    assert settle(signed_in, theirs, **ok).status_code == 404
    for bad in ("x", "0", "-1", str(2**63), "١٢"):
        assert settle(signed_in, bad, **ok).status_code == 404, bad
    mine = left(engine, "acme", BOB, "sending", timedelta(minutes=1), "mine")
    forged = signed_in.post(
        f"/ui/unsettled/{mine}", data=ok, headers={"origin": "https://evil.example"}
    )
    assert forged.status_code == 403
    assert engine.message("acme", mine).status == "sending"
    assert engine.message("other", theirs).status == "sending"


def test_arbitrary_settlement_forms_never_cause_a_5xx(
    signed_in: TestClient, engine: Engine
) -> None:
    stuck = left(engine, "acme", BOB, "sending", timedelta(minutes=1), "Cut off")

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        message_id=st.one_of(st.just(str(stuck)), st.text(max_size=25)),
        fields=st.dictionaries(st.sampled_from(["as", "reason"]), st.text(max_size=40)),
    )
    def check(message_id: str, fields: dict[str, str]) -> None:
        path = "/ui/unsettled/" + quote(message_id, safe="")
        response = signed_in.post(path, data=fields, headers=HOST, follow_redirects=False)
        assert response.status_code < 500, response.text

    check()
