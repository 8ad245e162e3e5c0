"""The web UI's contacts filtered per purpose, the "may I send?" page with a purpose,
and CSV imports past the API's body limit, through the real app on SQLite and
PostgreSQL."""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from test_api_support import BOB, EVE, A, Tenant
from test_web import HOST, _page, _sign_in, _text

from optline.api.deps import UPLOAD_BODY_BYTES
from optline.domain.consent_codes import Reason, Status
from optline.domain.contact_filter import ContactFilter
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


def _answer(response: httpx.Response) -> tuple[bool, str | None, str | None]:
    """The check page's answer: allowed, the refusal's reason, the text as it goes."""
    assert response.status_code == 200, response.text
    section = re.search(r'<section id="decision" class="decision (\w+)">(.*?)</section>',
                        response.text, re.S)  # fmt: skip
    assert section is not None
    if section.group(1) == "refused":
        reason = re.search(r"<h2>Refused: (\w+)</h2>", section.group(2))
        assert reason is not None
        return False, reason.group(1), None
    bodies = re.findall(r"<blockquote>(.*?)</blockquote>", section.group(2), re.S)
    return True, None, html.unescape(bodies[-1])


def test_the_check_page_answers_as_the_api_sends_for_a_purpose(
    signed_in: TestClient, acme: Tenant, engine: Engine
) -> None:
    """Each case is asked on the page (recording nothing), then sent through the API
    with the same fields to a contact in the same state: the same answer."""
    engine.add_purpose("acme", "reminders")
    acme.ok("POST", "/v1/lists", {"name": "visits", "purpose": "reminders"}, status=201)
    cases: list[tuple[str, dict[str, str]]] = [
        ("opted_out_of_marketing", {"purpose": "marketing", "campaign": "1"}),
        ("opted_out_of_marketing", {"purpose": "reminders"}),
        ("opted_out_of_marketing", {"list": "visits"}),
        ("opted_out_of_marketing", {"campaign": "1"}),
        ("reminders_only", {"purpose": "reminders"}),
        ("reminders_only", {"purpose": "informational"}),
        ("reminders_only", {}),
    ]
    numbers = iter(f"+1415555{4000 + i:04d}" for i in range(100))
    seen: set[tuple[bool, str | None]] = set()
    for kind, fields in cases:
        number = next(numbers)
        if kind == "opted_out_of_marketing":
            engine.opt_in("acme", number, "signed form")
            engine.opt_out("acme", number, purpose="marketing")
        else:
            engine.opt_in("acme", number, "booked online", purpose="reminders")
        query = {"sender": A, "to": number, "body": "Your visit is at 3", **fields}
        page = _answer(_page(signed_in, f"/ui/check?{urlencode(query)}"))
        body: dict[str, object] = {"from": A, "to": number, "body": query["body"]}
        body.update({k: v for k, v in fields.items() if k != "campaign"})
        if "campaign" in fields:
            body["campaign"] = True
        sent = acme.ok("POST", "/v1/messages", body)
        api = (sent["allowed"], sent["reason"], sent["body"] if sent["allowed"] else None)
        assert page == api, (kind, fields)
        seen.add(page[:2])
    # Both sides of the purpose are covered: refused as opted out, and allowed.
    assert (False, "opted_out") in seen and (True, None) in seen
    chosen = _page(
        signed_in, f"/ui/check?{urlencode({'sender': A, 'to': BOB, 'purpose': 'reminders'})}"
    )
    assert '<option value="reminders" selected>' in chosen.text
    assert (
        _page(signed_in, f"/ui/check?sender={quote(A)}&to={quote(BOB)}&purpose=weekly").status_code
        == 404
    )


def test_an_import_takes_a_file_past_the_api_body_limit(
    signed_in: TestClient, engine: Engine
) -> None:
    """The upload's own limit (16 MiB), not the 64 KiB of a JSON body; past it, 413
    and nothing imported."""
    evidence = "signed the paper form at the front desk, kept in the binder"
    numbers = [f"+1415555{i:04d}" for i in range(1200)]
    text = "phone,status,lists,evidence\n" + "".join(f"{n},opted_in,,{evidence}\n" for n in numbers)
    assert len(text.encode()) > 64 * 1024 + 10_000
    done = signed_in.post(
        "/ui/import", files={"file": ("big.csv", text.encode(), "text/csv")}, headers=HOST
    )
    assert done.status_code == 200 and "Imported 1200 contacts" in _text(done)
    assert engine.count_contacts("acme", ContactFilter(Status.OPTED_IN)) == 1200
    # Past the upload's limit: refused before anything is read or imported.
    huge = ("+14155559999,opted_out\n" * (UPLOAD_BODY_BYTES // 23 + 1)).encode()
    refused = signed_in.post(
        "/ui/import", files={"file": ("huge.csv", huge, "text/csv")}, headers=HOST
    )
    assert refused.status_code == 413
    assert engine.contact("acme", "+14155559999") is None
    # Every other form keeps the smaller limit.
    note = signed_in.post(f"/ui/contacts/{BOB}/opt-out", data={"note": "x" * 70_000}, headers=HOST)
    assert note.status_code == 413
