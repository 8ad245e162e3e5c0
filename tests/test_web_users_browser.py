"""The users page in a real browser (Debian's chromium, driven by Playwright) against
``optline serve --demo``, at a desktop's and a phone's width: an admin adds an agent,
issues them a key the API takes and then revokes it, the agent signs in and is refused
the admin's pages with the reason, and once disabled cannot sign in."""

from __future__ import annotations

import re
from collections.abc import Iterator

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


@pytest.fixture(params=[DESKTOP, PHONE], ids=["1280px", "375px"])
def page(service: Service, request: pytest.FixtureRequest) -> Iterator[Page]:  # noqa: F811
    """A page at the width given, signed in as the demo admin; console errors fail."""
    viewport: ViewportSize = request.param
    errors: list[str] = []
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
    # The browser's lines about the 403 page the agent is shown and the 401 of the
    # refused sign-in are expected; nothing else may fail.
    expected = ("status of 403", "status of 401")
    assert not [e for e in errors if not any(x in e for x in expected)], errors


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None and width <= viewport["width"], f"{page.url} is {width} px wide"


def _api(served: Service, method: str, path: str, key: str) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    body = {"number": "+14155550177"} if method == "POST" else None
    return httpx.request(method, f"{served.base}{path}", headers=headers, json=body).status_code


def test_an_admin_adds_an_agent_whose_key_and_role_hold_until_disabled(
    page: Page,
    service: Service,  # noqa: F811
) -> None:
    viewport = page.viewport_size
    assert viewport is not None
    name, password = f"agent{viewport['width']}", f"agent-pass-{viewport['width']}"
    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    page.get_by_label("Name (lower-case").fill(name)
    page.get_by_label("Role").select_option("agent")
    page.get_by_label("Initial password").fill(password)
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("status")).to_contain_text(f"User {name} added as agent")
    row = page.locator("#users tbody tr", has_text=name)
    expect(row).to_contain_text("never")
    _fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"users-{viewport['width']}.png", full_page=True)

    # A key of theirs, shown once: the API takes it for reads and contact work, and
    # refuses the account's set-up with the reason.
    row.get_by_role("button", name="New API key").click()
    key = page.locator("#key").inner_text()
    assert key.startswith("ol_")
    _fits(page)
    assert _api(service, "GET", "/v1/account", key) == 200
    assert _api(service, "POST", "/v1/senders", key) == 403
    page.get_by_role("link", name="Back to the users").click()
    assert key not in page.content()
    page.locator("#users tbody tr", has_text=name).get_by_role("button", name="Revoke keys").click()
    expect(page.get_by_role("status")).to_contain_text(f"1 API key(s) of {name} revoked")
    assert _api(service, "GET", "/v1/account", key) == 401

    # The agent signs in, and is refused the admin's page with the reason.
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, service, name, password)
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
    page.goto("/ui/users")
    expect(page.get_by_role("alert")).to_contain_text("only an admin may change")
    _fits(page)
    page.get_by_role("button", name="Sign out").click()

    # Disabled, they cannot sign in again.
    _sign_in(page, service)
    page.goto("/ui/users")
    page.locator("#users tbody tr", has_text=name).get_by_role("button", name="Disable").click()
    expect(page.get_by_role("status")).to_contain_text(f"User {name} disabled")
    expect(page.locator("#users tbody tr", has_text=name)).to_contain_text("disabled")
    _fits(page)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Account").fill("demo")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an active user")
    expect(page).to_have_url(re.compile(r"/ui/login$"))
