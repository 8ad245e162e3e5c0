"""The inbox and the dashboard in a real browser (Debian's chromium, driven by
Playwright) against ``optline serve --demo``, at a desktop's and a phone's width: a
text arrives through Twilio's webhook, shows up without a reload, is read and
answered through Twilio's API (a fake on loopback); after the contact's STOP a reply
is refused and says why."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fakeprovider import FakeProvider
from playwright.sync_api import ConsoleMessage, Page, ViewportSize, expect, sync_playwright
from test_web_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    Service,
    _fits,
    _sign_in,
    serving,
)
from twilio.request_validator import RequestValidator
from webhook_support import ACCOUNT_SID, AUTH_TOKEN, twilio_form

TWILIO_NUMBER = "+14155550142"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, fake: FakeProvider) -> Iterator[Service]:
    db = tmp_path_factory.mktemp("inbox") / "demo.db"
    with serving(db, OPTLINE_TWILIO_API_URL=fake.url) as started:
        sender = {
            "number": TWILIO_NUMBER,
            "provider": "twilio",
            "credentials": {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
        }
        answer = httpx.post(f"{started.base}/v1/senders", json=sender, headers=_auth(started))
        assert answer.status_code == 201, answer.text
        yield started


def _auth(service: Service) -> dict[str, str]:
    return {"Authorization": f"Bearer {service.key}"}


def _twilio_text(service: Service, contact: str, body: str, sid: str) -> None:
    """A text from ``contact`` through Twilio's webhook, signed as Twilio signs it."""
    url = f"{service.base}/webhooks/twilio"
    form = twilio_form(body, sid, From=contact, To=TWILIO_NUMBER)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    answer = httpx.post(url, data=form, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200, answer.text


@pytest.fixture(params=[DESKTOP, PHONE], ids=["1280px", "375px"])
def browser_page(
    request: pytest.FixtureRequest, service: Service
) -> Iterator[tuple[Page, list[str], int]]:
    viewport: ViewportSize = request.param
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(base_url=service.base, viewport=viewport)
            errors: list[str] = []

            def console(message: ConsoleMessage) -> None:
                if message.type == "error":
                    errors.append(message.text)

            page.on("console", console)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page, errors, viewport["width"]
        finally:
            browser.close()


def _fits_width(page: Page, width: int) -> None:
    if width == PHONE["width"]:
        _fits(page)
    else:
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_text_arrives_is_read_answered_and_a_reply_after_stop_is_refused(
    browser_page: tuple[Page, list[str], int], service: Service, fake: FakeProvider
) -> None:
    page, errors, width = browser_page
    contact = f"+1415555{width:04d}"
    _sign_in(page, service)
    page.get_by_role("link", name="Inbox", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")

    # The text comes in while the inbox is open: it appears without a reload, unread.
    _twilio_text(service, contact, "Can I come in at 3pm today?", f"SM{width:032d}")
    link = page.get_by_role("link", name=contact)
    expect(link).to_be_visible(timeout=15_000)
    row = page.locator(".conversation", has_text=contact)
    expect(row.get_by_label("1 unread")).to_be_visible()
    _fits_width(page, width)

    link.click()
    expect(page.locator("#thread")).to_contain_text("Can I come in at 3pm today?")
    expect(page.locator("#sender")).to_have_value(TWILIO_NUMBER)  # the number it came to
    page.get_by_label("Text").fill("Yes, 3pm works. See you then!")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_have_text("Reply sent.")
    expect(page.locator("#thread")).to_contain_text("Yes, 3pm works. See you then!")
    assert any("Yes, 3pm works." in str(r.form) for r in fake.requests), "not sent to Twilio"
    _fits_width(page, width)
    page.screenshot(path=SCREENSHOTS / f"conversation-reply-{width}.png", full_page=True)

    # Read: the inbox shows no unread count for it any more.
    page.get_by_role("link", name="← Inbox").click()
    expect(page.get_by_role("link", name=contact)).to_be_visible()
    expect(row.locator(".count")).to_have_count(0)

    # They text STOP while their thread is open: the opt-out shows up there by itself.
    page.get_by_role("link", name=contact).click()
    _twilio_text(service, contact, "STOP", f"SM{width + 1:032d}")
    expect(page.locator("#thread")).to_contain_text("Opted out", timeout=15_000)
    page.reload()
    expect(page.locator("#may-reply")).to_contain_text("until they resubscribe")
    page.get_by_label("Text").fill("Sorry to see you go, anything we could do better?")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("alert")).to_contain_text("Not sent, refused: opted_out")
    expect(page.locator("#thread")).to_contain_text("Send refused")
    _fits_width(page, width)
    page.screenshot(path=SCREENSHOTS / f"conversation-refused-{width}.png", full_page=True)
    history = httpx.get(f"{service.base}/v1/contacts/{contact}/history", headers=_auth(service))
    last = history.json()["messages"][-1]
    assert (last["status"], last["reason"]) == ("failed", "opted_out")
    assert not errors, errors


def test_the_dashboard_draws_its_chart_and_switches_to_90_days(
    browser_page: tuple[Page, list[str], int], service: Service
) -> None:
    page, errors, width = browser_page
    _sign_in(page, service)  # signing in opens the dashboard
    expect(page.locator("#chart rect.bar").first).to_be_attached()
    expect(page.locator("#chart-title")).to_contain_text("last 30 days")
    flags = httpx.get(f"{service.base}/v1/review", headers=_auth(service)).json()
    expect(page.locator("#flagged-total")).to_have_text(str(flags["open"]))
    _fits_width(page, width)
    # The breakdowns' titles keep to a line (not squeezed to a letter a line).
    title = page.locator("#opt-outs-by-method-title").bounding_box()
    assert title is not None and title["height"] < 40, title
    page.get_by_role("link", name="Last 90 days").click()
    expect(page.locator("#chart-title")).to_contain_text("last 90 days")
    expect(page.locator("#chart rect.bar").first).to_be_attached()
    page.get_by_text("The numbers by day").click()
    expect(page.locator("#by-day tbody tr")).to_have_count(90)
    _fits_width(page, width)
    page.screenshot(path=SCREENSHOTS / f"dashboard-90-{width}.png", full_page=True)
    assert not errors, errors
