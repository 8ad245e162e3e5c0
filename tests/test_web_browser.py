"""The web UI in a real browser (Debian's chromium, driven by Playwright) against
``optline serve --demo`` on SQLite, as ``make run`` starts it."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from optline.cli_serve import DEMO_ACCOUNT, DEMO_SECRET, DEMO_SENDER, DEMO_TEXTS, DEMO_USER
from optline.engine import Engine
from optline.providers import signing
from optline.store import Store

CHROMIUM = Path("/usr/bin/chromium")
# As root in a container, with no network: no sandbox, no background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PATIENT = "+14155552671"
# An iPhone's screen in CSS pixels: the pages must fit it without sideways scrolling.
PHONE: ViewportSize = {"width": 375, "height": 812}

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI installs chromium (.ci/run): /usr/bin/chromium is missing")
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )

from playwright.sync_api import Page, Route, ViewportSize, expect, sync_playwright  # noqa: E402


@dataclass
class Service:
    base: str
    key: str
    db: str
    #: The demo admin user's password (``make run`` prints it, with the user's name).
    password: str = ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(db: Path, **env: str) -> Iterator[Service]:
    """``optline serve --demo`` on a free port over SQLite file ``db``, with ``env``
    added to a clean environment, until the block ends."""
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPTLINE_")}
    optline = Path(sys.executable).with_name("optline")
    proc = subprocess.Popen(
        [str(optline), "--db", f"sqlite:///{db}", "serve", "--port", str(port), "--demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**clean, **env},
    )
    assert proc.stdout is not None
    key = password = None
    for line in proc.stdout:
        user = re.search(rf"Demo user:\s+{DEMO_USER} \(admin\), password (\S+)", line)
        password = user.group(1) if user else password
        found = re.search(r"Demo API key:\s+(\S+)", line)
        if found:
            key = found.group(1)
            break
    assert key is not None, "optline serve --demo printed no key"
    assert password is not None, "optline serve --demo printed no demo user"
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/ui/login", timeout=1)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the service did not come up"
            time.sleep(0.1)
    try:
        yield Service(base, key, f"sqlite:///{db}", password)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with serving(tmp_path_factory.mktemp("ui") / "demo.db") as started:
        yield started


@pytest.fixture
def page(service: Service) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(base_url=service.base)
        finally:
            browser.close()


def _text_in(service: Service, text: str, message_id: str) -> None:
    """An inbound text through the demo sender's signed generic webhook."""
    body = json.dumps({"id": message_id, "from": PATIENT, "to": DEMO_SENDER, "text": text})
    response = httpx.post(
        f"{service.base}/webhooks/generic",
        content=body,
        headers={
            "Content-Type": "application/json",
            signing.HEADER: signing.sign(DEMO_SECRET, body.encode()),
        },
    )
    assert response.status_code == 200, response.text


def _sign_in(page: Page, service: Service, user: str = DEMO_USER, password: str = "") -> None:
    """Sign in as ``make run`` says: the demo account, its admin user and password (or
    another user of the account and theirs)."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    page.get_by_label("Account").fill(DEMO_ACCOUNT)
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password or service.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("demo")


def test_the_demo_account_starts_with_contacts_and_a_flagged_reply(
    page: Page, service: Service
) -> None:
    _sign_in(page, service)
    page.get_by_role("link", name="Contacts").click()
    for number, _text in DEMO_TEXTS:
        expect(page.get_by_role("link", name=number)).to_be_visible()
    page.get_by_role("link", name="Review").click()
    expect(page.get_by_role("link", name="+14155550126")).to_be_visible()


def test_a_wrong_key_or_password_stays_on_the_sign_in_page(page: Page) -> None:
    page.goto("/ui/login")
    page.get_by_text("Sign in with an API key instead").click()
    page.get_by_label("API key").fill("wrong")
    page.get_by_role("button", name="Sign in with the key").click()
    expect(page.get_by_role("alert")).to_contain_text("belongs to no account")
    page.get_by_label("Account").fill(DEMO_ACCOUNT)
    page.get_by_label("User name").fill(DEMO_USER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an active user")
    page.goto("/ui/contacts")
    expect(page).to_have_url(re.compile(r"/ui/login$"))


def test_the_account_key_still_signs_in_as_its_admin(page: Page, service: Service) -> None:
    page.goto("/ui/login")
    page.get_by_text("Sign in with an API key instead").click()
    page.get_by_label("API key").fill(service.key)
    page.get_by_role("button", name="Sign in with the key").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("demo")
    expect(page.get_by_role("link", name="Users")).to_be_visible()


def test_a_stop_seen_changed_back_with_evidence_and_the_ledger_checked(
    page: Page, service: Service
) -> None:
    _text_in(service, "please stop texting me", "ui-1")
    _sign_in(page, service)

    page.get_by_label("Phone number").fill("(415) 555-2671")
    page.get_by_role("button", name="Look up").click()
    expect(page).to_have_url(re.compile(r"/ui/contacts/\+14155552671$"))
    expect(page.locator("#status")).to_have_text("opted_out")
    expect(page.locator("#events")).to_contain_text("opted_out")
    expect(page.locator("#messages")).to_contain_text("please stop texting me")

    # A send to them now is refused.
    page.get_by_role("link", name="May I send?").click()
    page.get_by_label("To").fill(PATIENT)
    page.get_by_label("Text").fill("Your cleaning is tomorrow at 9")
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#decision")).to_contain_text("Refused: opted_out")

    # Opting back in without evidence is refused and changes nothing.
    page.goto(f"/ui/contacts/{PATIENT}")
    page.get_by_role("button", name="Opt in").click()
    expect(page.get_by_role("alert")).to_contain_text("evidence")
    page.goto(f"/ui/contacts/{PATIENT}")
    expect(page.locator("#status")).to_have_text("opted_out")

    page.get_by_label("opt-in evidence").fill("asked at the front desk, 2026-11-24")
    page.get_by_role("button", name="Opt in").click()
    expect(page.get_by_role("status")).to_have_text("Done: opt-in.")
    expect(page.locator("#status")).to_have_text("opted_in")

    page.get_by_role("link", name="optline").click()
    page.get_by_role("button", name="Verify the ledger").click()
    ledger = httpx.get(
        f"{service.base}/v1/ledger/verify", headers={"Authorization": f"Bearer {service.key}"}
    ).json()
    expect(page.locator("#verdict")).to_contain_text(f"Intact: {ledger['checked']} events")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/ui/login$"))


def _fits(page: Page) -> None:
    """Nothing sticks out sideways: the page scrolls only up and down."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


def test_sends_in_doubt_are_settled_on_a_phone(service: Service) -> None:
    # A crash left one send of the demo account sending and one queued for ten minutes.
    ago = datetime.now(UTC) - timedelta(minutes=10)
    with Engine(Store.open(service.db), clock=lambda: ago, dispatch=lambda *_: None) as e:
        to = DEMO_TEXTS[0][0]
        queued = e.decide_send(DEMO_ACCOUNT, DEMO_SENDER, to, "Your cleaning is on Tuesday")
        sending = e.decide_send(DEMO_ACCOUNT, DEMO_SENDER, to, "Reply C to confirm, " * 8)
        with e.store.transaction() as tx:
            account_id = e.account(DEMO_ACCOUNT).id
            tx.messages.move(account_id, sending.message_id, "queued", "sending")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(base_url=service.base, viewport=PHONE)
            _sign_in(page, service)
            expect(page.locator("#unsettled")).to_contain_text("1 sending")
            page.get_by_role("link", name="Unsettled").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Unsettled sends")
            card = page.locator(f"#send-{sending.message_id}")
            expect(card).to_contain_text("sending")
            expect(page.locator(f"#send-{queued.message_id}")).to_contain_text("queued")
            _fits(page)

            card.get_by_label("The text was").select_option("failed")
            card.get_by_label("How you know").fill("not in the gateway's log")
            card.get_by_role("button", name=f"Settle #{sending.message_id}").click()
            expect(page.get_by_role("status")).to_contain_text("settled as failed")
            expect(page.locator(f"#send-{sending.message_id}")).to_have_count(0)
            _fits(page)
        finally:
            browser.close()
    history = httpx.get(
        f"{service.base}/v1/contacts/{to}/history",
        headers={"Authorization": f"Bearer {service.key}"},
    ).json()
    settled = history["events"][-1]
    assert (settled["type"], settled["data"]["via"], settled["data"]["by"]) == (
        "send_settled",
        "ui",
        f"user:{DEMO_USER}",  # the demo admin user, whom the browser signed in as
    )
    ledger = httpx.get(
        f"{service.base}/v1/ledger/verify", headers={"Authorization": f"Bearer {service.key}"}
    ).json()
    assert ledger["ok"] is True


# -- every page at a desktop's and a phone's width ---------------------------------------

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
#: Written by each run for a person to look at; build/ is ignored by git.
SCREENSHOTS = Path(__file__).parent.parent / "build" / "screenshots"
#: A text with a long unbroken run (a link), as people paste them: it must wrap inside
#: its column without widening the page or squeezing the column to a letter a line.
LONG_TEXT = "Is this still on? https://example.com/appointments/" + "x" * 60 + " thanks"
_PAGES = (
    ("login", "/ui/login"),
    ("home", "/ui/"),
    ("dashboard-90", "/ui/?days=90"),
    ("inbox", "/ui/inbox"),
    ("inbox-blocked", "/ui/inbox?blocked=1"),
    ("conversation", f"/ui/inbox/{DEMO_TEXTS[1][0]}"),
    ("contacts", "/ui/contacts"),
    ("contact", f"/ui/contacts/{DEMO_TEXTS[2][0]}"),
    ("long-text", f"/ui/contacts/{PATIENT}"),
    ("check", f"/ui/check?sender=%2B{DEMO_SENDER[1:]}&to=%2B{DEMO_TEXTS[1][0][1:]}&body=Hi"),
    ("review", "/ui/review"),
    ("purposes", "/ui/purposes"),
    ("users", "/ui/users"),
    ("unsettled", "/ui/unsettled"),
    ("ledger", "/ui/ledger/verify"),
    ("not-found", "/ui/nope"),
    ("api-docs", "/docs"),
    ("api-redoc", "/redoc"),
)
#: What each documentation page shows once its script has run.
_RENDERED = {"api-docs": ".swagger-ui .info .title", "api-redoc": ".api-info h1"}
#: ReDoc's sidebar shows its maker's logo from its maker's site, whatever its options;
#: with no network the image removes itself. The one request allowed to fail.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "375px"])
def test_every_page_fits_the_screen_loads_nothing_from_elsewhere_and_logs_no_error(
    service: Service, viewport: ViewportSize
) -> None:
    _text_in(service, LONG_TEXT, f"long-{viewport['width']}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=service.base, viewport=viewport)
            elsewhere: list[str] = []

            def refuse(route: Route) -> None:
                elsewhere.append(route.request.url)
                route.abort()

            # The service must need no network: any request to another host is refused.
            context.route(re.compile(r"^(?!" + re.escape(service.base) + r"/)"), refuse)
            page = context.new_page()
            errors: list[str] = []
            page.on(
                "console",
                lambda m: (
                    errors.append(f"{m.text} ({m.location.get('url')})")
                    if m.type == "error" and m.location.get("url") != REDOC_LOGO
                    else None
                ),
            )
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            _sign_in(page, service)
            for name, path in _PAGES:
                errors.clear()
                response = page.goto(path, wait_until="networkidle")
                assert response is not None
                if name in _RENDERED:
                    # ReDoc lays out the whole schema first: seconds on a busy machine.
                    expect(page.locator(_RENDERED[name])).to_contain_text("optline", timeout=30_000)
                if name == "not-found":
                    assert response.status == 404
                    # The browser's own line about the 404 it was given is expected.
                    errors[:] = [e for e in errors if "404" not in e]
                else:
                    assert response.status == 200, (path, response.status)
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > viewport["width"]:
                    problems.append(f"{path} is {width} px wide")
                squeezed = page.evaluate(
                    "[...document.querySelectorAll('td.body')]"
                    ".map(td => td.clientWidth).filter(w => w < 120)"
                )
                if squeezed:
                    problems.append(f"{path}: message texts squeezed to {squeezed} px")
                problems.extend(f"{path}: console: {e}" for e in errors)
                page.screenshot(
                    path=SCREENSHOTS / f"{name}-{viewport['width']}.png", full_page=True
                )
            # Signing out stays within reach on a phone: in view, not off the right edge.
            sign_out = page.get_by_role("button", name="Sign out")
            page.goto("/ui/")
            box = sign_out.bounding_box()
            assert box is not None and box["x"] + box["width"] <= viewport["width"]
            assert set(elsewhere) <= {REDOC_LOGO}, elsewhere
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
