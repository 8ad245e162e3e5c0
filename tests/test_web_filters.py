"""The web UI's contacts filtered per purpose, the "may I send?" page with a purpose,
and CSV imports past the API's body limit, through the real app on SQLite and
PostgreSQL."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from test_api_support import BOB, EVE, A, Tenant
from test_web import _page, _sign_in, _text

from optline.domain.consent import Reason
from optline.engine import Engine


@pytest.fixture
def signed_in(acme: Tenant) -> TestClient:
    assert _sign_in(acme.client, acme.key).status_code == 303
    return acme.client


def _shown(response: httpx.Response) -> list[str]:
    return re.findall(r'href="/ui/contacts/(\+\d+)"', response.text)


def test_contacts_filter_by_the_status_a_purpose_is_decided_by(
    signed_in: TestClient, engine: Engine
) -> None:
    engine.add_purpose("acme", "reminders")
    for number in (BOB, EVE):
        engine.opt_in("acme", number, "signed form")
    engine.opt_out("acme", BOB, purpose="marketing")
    page = _page(signed_in, "/ui/contacts?status=opted_out&purpose=marketing")
    assert _shown(page) == [BOB] and "1 contact matches" in _text(page)
    # The listing's status column is the purpose's, as the gate reads it.
    assert "Status for marketing" in _text(page)
    assert 'class="status opted_out">opted_out' in page.text
    allowed = _page(signed_in, f"/ui/contacts?status=opted_in&purpose=marketing&sender={A}")
    assert _shown(allowed) == [EVE] and f"Status for marketing from {A}" in _text(allowed)
    # The gate agrees: BOB's marketing text from A is refused as opted out, EVE's not.
    assert engine.check("acme", A, BOB, "hi", purpose="marketing").reason is Reason.OPTED_OUT
    assert engine.check("acme", A, EVE, "hi", purpose="marketing").reason is not Reason.OPTED_OUT
    both = _page(signed_in, "/ui/contacts?status=opted_in&purpose=reminders")
    assert _shown(both) == sorted([BOB, EVE]) and "2 contacts match" in _text(both)
    assert '<option value="reminders" selected>' in both.text
    # Without a purpose, BOB is opted in (the account's scope): any scope matches.
    assert sorted(_shown(_page(signed_in, "/ui/contacts?status=opted_in"))) == sorted([BOB, EVE])
    assert _page(signed_in, "/ui/contacts?purpose=weekly").status_code == 404
    assert _page(signed_in, "/ui/contacts?purpose=Bad%20Name").status_code == 422
