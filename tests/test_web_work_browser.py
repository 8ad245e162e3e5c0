"""The contacts listing and the work pages in a real browser (Debian's chromium,
driven by Playwright) against ``optline serve --demo``: each page at a desktop's and a
phone's width (no sideways scroll, no console error, a screenshot for review), and
each flow end to end."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, ViewportSize, expect, sync_playwright
from test_web_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    Service,
    _sign_in,
    service,
)

from optline.cli_serve import DEMO_SECRET, DEMO_SENDER, DEMO_TEXTS
from optline.providers import signing

_PAGES = (
    ("contacts-filtered", "/ui/contacts?number=415&status=opted_in"),
    ("contacts-purpose", f"/ui/contacts?status=opted_in&purpose=marketing&sender={DEMO_SENDER}"),
    ("contact-may-text", f"/ui/contacts/{DEMO_TEXTS[1][0]}"),
    ("lists", "/ui/lists"),
    ("triggers", "/ui/triggers"),
    ("senders", "/ui/senders"),
    ("policy", "/ui/policy"),
    ("subscriptions", "/ui/subscriptions"),
    ("import", "/ui/import"),
)


@pytest.fixture
def errors() -> list[str]:
    """The page's console errors; a test removes those it expects."""
    return []


@pytest.fixture(params=[DESKTOP, PHONE], ids=["1280px", "375px"])
def page(
    service: Service,  # noqa: F811
    request: pytest.FixtureRequest,
    errors: list[str],
) -> Iterator[Page]:
    """A signed-in page at the width given; console errors fail the test."""
    viewport: ViewportSize = request.param
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(base_url=service.base, viewport=viewport)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            _sign_in(page, service)
            yield page
        finally:
            browser.close()
    assert not errors, errors


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None and width <= viewport["width"], f"{page.url} is {width} px wide"


def test_each_work_page_fits_and_loads(page: Page) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    viewport = page.viewport_size
    assert viewport is not None
    for name, path in _PAGES:
        response = page.goto(path, wait_until="networkidle")
        assert response is not None and response.status == 200, (path, response)
        _fits(page)
        page.screenshot(path=SCREENSHOTS / f"{name}-{viewport['width']}.png", full_page=True)


def test_contacts_are_searched_filtered_counted_and_answer_may_i_text(page: Page) -> None:
    number = DEMO_TEXTS[1][0]
    page.get_by_role("link", name="Contacts").click()
    expect(page.locator("#total")).to_contain_text("match")
    page.get_by_label("Number (part of it)").fill(number[-4:])
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("link", name=number)).to_be_visible()
    expect(page.locator("#total")).to_contain_text(re.compile(r"^\d+ contacts? match"))
    _fits(page)
    page.get_by_role("link", name=number).click()
    gate = page.locator("#may-text")
    expect(gate).to_contain_text("May I text them now?")
    expect(gate).to_contain_text(DEMO_SENDER)
    expect(gate).to_contain_text("campaign:")
    expect(gate).to_contain_text("1:1:")
    _fits(page)


def test_contacts_are_filtered_by_the_status_a_purpose_is_decided_by(page: Page) -> None:
    page.goto("/ui/contacts")
    page.get_by_label("Status").select_option("opted_out")
    page.get_by_label("For texts of").select_option("marketing")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"purpose=marketing"))
    expect(page.locator("#total")).to_contain_text(re.compile(r"^\d+ contacts? match"))
    expect(page.get_by_label("For texts of")).to_have_value("marketing")
    # The demo's opted-out contacts: each one's marketing text is refused as opted out.
    expect(page.locator("#contacts th").nth(1)).to_have_text("Status for marketing")
    expect(page.locator("#contacts td .status").first).to_have_text("opted_out")
    _fits(page)


def test_a_list_and_a_trigger_are_made_and_the_list_members_shown(page: Page) -> None:
    viewport = page.viewport_size
    assert viewport is not None
    name = f"vip{viewport['width']}"
    page.get_by_role("link", name="Lists").click()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create list").click()
    expect(page.get_by_role("status")).to_contain_text(f"List {name} created")
    page.get_by_role("link", name=f"members of {name}").click()
    expect(page.locator("#total")).to_contain_text("0 contacts match")
    page.get_by_role("link", name="Triggers").click()
    page.get_by_label("Keyword").fill(f"JOIN{viewport['width']}")
    page.get_by_label("Reply").fill("Welcome to the VIP list!")
    page.get_by_label("Subscribes to").select_option(name)
    page.get_by_role("button", name="Add trigger").click()
    expect(page.locator("#triggers")).to_contain_text(f"JOIN{viewport['width']}")
    _fits(page)


def test_sender_credentials_are_never_shown_and_a_webhook_secret_once(page: Page) -> None:
    viewport = page.viewport_size
    assert viewport is not None
    number = f"+1415555{viewport['width'] + 1000:04d}"
    secret = "tok-" + "q" * 32
    page.get_by_role("link", name="Senders").click()
    page.get_by_label("Number", exact=True).fill(number)
    page.get_by_label("Provider", exact=True).select_option("generic")
    page.get_by_label("Credentials").fill(f"secret={secret}")
    page.get_by_role("button", name="Add sender").click()
    expect(page.locator("#senders")).to_contain_text(number)
    assert secret not in page.content()
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("URL (HTTPS)").fill("https://hooks.example.com/optline")
    page.get_by_label("opted_out").check()
    page.get_by_role("button", name="Subscribe").click()
    shown = page.locator("#secret").inner_text()
    assert shown.startswith("whsec_")
    page.get_by_role("link", name="Back to the event webhooks").click()
    expect(page.locator("#subscriptions")).to_contain_text("hooks.example.com")
    assert shown not in page.content()
    _fits(page)


def test_an_import_lists_its_bad_rows_then_imports_and_the_export_downloads(
    page: Page,
    service: Service,  # noqa: F811
    tmp_path: Path,
    errors: list[str],
) -> None:
    viewport = page.viewport_size
    assert viewport is not None
    first = f"+1202555{viewport['width'] + 2000:04d}"
    bad = tmp_path / "bad.csv"
    bad.write_text(f"phone,status\n{first},opted_out\nnope,opted_in\n+12025550111,maybe\n")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("CSV file").set_input_files(bad)
    page.get_by_role("button", name="Import").click()
    problems = page.locator("#problems")
    expect(problems).to_contain_text("Nothing was imported")
    expect(problems).to_contain_text("line 3")
    expect(problems).to_contain_text("line 4")
    # The browser's own line about the 422 the refused file was answered with.
    errors[:] = [e for e in errors if "422" not in e]
    _fits(page)
    headers = {"Authorization": f"Bearer {service.key}"}
    assert httpx.get(f"{service.base}/v1/contacts/{first}", headers=headers).status_code == 404
    good = tmp_path / "good.csv"
    good.write_text(f"phone,status\n{first},opted_out\n")
    page.get_by_label("CSV file").set_input_files(good)
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#imported")).to_have_text("Imported 1 contacts.")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the suppression list (CSV)").click()
    saved = Path(download.value.path())
    api = httpx.get(f"{service.base}/v1/contacts.csv?status=opted_out", headers=headers)
    assert saved.read_text() == api.text and f"{first},account,opted_out" in api.text


def _text_from(service: Service, number: str, text: str) -> None:  # noqa: F811 (fixture)
    """An inbound text through the demo sender's signed generic webhook."""
    body = json.dumps({"id": f"{number}-{text}", "from": number, "to": DEMO_SENDER, "text": text})
    response = httpx.post(
        f"{service.base}/webhooks/generic",
        content=body,
        headers={
            "Content-Type": "application/json",
            signing.HEADER: signing.sign(DEMO_SECRET, body.encode()),
        },
    )
    assert response.status_code == 200, response.text


def test_flagged_replies_are_read_and_resolved_both_ways(
    page: Page,
    service: Service,  # noqa: F811
) -> None:
    viewport = page.viewport_size
    assert viewport is not None
    kept, stopped = (f"+1415555{viewport['width'] + n:04d}" for n in (3000, 4000))
    _text_from(service, kept, "not interested")
    _text_from(service, stopped, "no thanks")
    page.get_by_role("link", name="Review", exact=True).click()
    card = page.locator(".flag", has=page.get_by_role("link", name=kept))
    expect(card).to_contain_text("not interested")
    card.get_by_label("Why it is not a revocation").fill("means the offer, not the texts")
    card.get_by_role("button", name="Not a revocation").click()
    expect(page.get_by_role("status")).to_contain_text(f"{kept}: flag")
    expect(page.get_by_role("link", name=kept)).to_have_count(0)
    _fits(page)
    card = page.locator(".flag", has=page.get_by_role("link", name=stopped))
    expect(card).to_contain_text("no thanks")
    card.get_by_role("button", name="Opt out").click()
    expect(page.get_by_role("status")).to_contain_text("resolved (opted_out)")
    page.goto(f"/ui/contacts/{stopped}")
    expect(page.locator("#status")).to_have_text("opted_out")
    expect(page.locator("#may-text")).to_contain_text("no: opted out")
    _fits(page)
