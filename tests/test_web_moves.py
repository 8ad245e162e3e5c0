"""The contact page's number change, through the real app on SQLite and PostgreSQL:
the form moves consent and lists with evidence and opens the new number's page; a
number with history of its own is refused unless the box is ticked."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_api_support import BOB, ZED, Tenant
from web_support import sign_in

from optline.domain.consent_codes import Status
from optline.engine import Engine

HOST = {"origin": "http://testserver"}


@pytest.fixture
def signed_in(acme: Tenant) -> TestClient:
    assert sign_in(acme.client, acme.key).status_code == 303
    return acme.client


def test_the_contact_page_moves_a_contact_to_its_new_number(
    signed_in: TestClient, engine: Engine
) -> None:
    engine.opt_in("acme", BOB, "signed form, 2026-11-24")
    engine.opt_out("acme", ZED)
    page = signed_in.get(f"/ui/contacts/{BOB}")
    assert 'id="move"' in page.text and "Move to new number" in page.text

    form = {"to": ZED, "evidence": "Bob at the desk, 2026-12-07"}
    refused = signed_in.post(f"/ui/contacts/{BOB}/move", data=form, headers=HOST)
    assert refused.status_code == 409 and "replace_history" in refused.text
    missing = signed_in.post(f"/ui/contacts/{BOB}/move", data={"to": ZED}, headers=HOST)
    assert missing.status_code == 422 and "evidence" in missing.text

    done = signed_in.post(
        f"/ui/contacts/{BOB}/move",
        data={**form, "replace_history": "on"},
        headers=HOST,
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/ui/contacts/{ZED}?done=move"
    old, new = engine.contact("acme", BOB), engine.contact("acme", ZED)
    assert old is not None and old.account_status is Status.NO_CONSENT
    assert new is not None and new.account_status is Status.OPTED_IN
    events, _ = engine.history("acme", ZED)
    assert (events[-1].type, events[-1].data["via"]) == ("number_moved_in", "ui")
