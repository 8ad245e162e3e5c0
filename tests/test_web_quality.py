"""What every page under /ui owes its reader whatever it shows: error pages that are
pages, the API's documentation with no network, and colours that WCAG AA can read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_api_support import Tenant
from web_support import sign_in

from optline.engine import Engine
from optline.web.session import COOKIE

CSS = Path(__file__).parent.parent / "optline" / "web" / "static" / "optline.css"
HOST = {"origin": "http://testserver"}

# -- error pages ------------------------------------------------------------------------


@pytest.fixture
def signed_in(acme: Tenant) -> TestClient:
    sign_in(acme.client, acme.key)
    assert COOKIE in acme.client.cookies
    return acme.client


def _is_page(response: object) -> bool:
    content_type: str = response.headers["content-type"]  # type: ignore[attr-defined]
    return content_type.startswith("text/html")


def test_an_unknown_page_under_ui_is_a_page_with_the_menu(signed_in: TestClient) -> None:
    missing = signed_in.get("/ui/nope")
    assert missing.status_code == 404 and _is_page(missing)
    assert "<h1>Page not found</h1>" in missing.text and 'href="/ui/contacts"' in missing.text
    # Signed out, the same page without the menu.
    signed_in.cookies.clear()
    anonymous = signed_in.get("/ui/contacts/%2B14155552671/history/nope")
    assert anonymous.status_code == 404 and _is_page(anonymous)
    assert 'href="/ui/contacts"' not in anonymous.text


def test_a_form_address_opened_with_get_is_a_page_not_json(signed_in: TestClient) -> None:
    opened = signed_in.get("/ui/logout")
    assert opened.status_code == 405 and _is_page(opened)
    assert "answers a form" in opened.text


def test_a_body_over_the_limit_under_ui_is_a_page(signed_in: TestClient) -> None:
    huge = signed_in.post("/ui/contacts/+14155552671/opt-in", data={"evidence": "x" * 70_000},
                          headers=HOST)  # fmt: skip
    assert huge.status_code == 413 and _is_page(huge)
    assert 'role="alert"' in huge.text


def test_a_crash_under_ui_is_a_page_that_says_no_more_than_the_api(
    signed_in: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(engine, "flagged", boom)
    client = TestClient(signed_in.app, raise_server_exceptions=False, cookies=signed_in.cookies)
    crashed = client.get("/ui/review")
    assert crashed.status_code == 500 and _is_page(crashed)
    assert "failed to handle this request" in crashed.text and "secret" not in crashed.text


def test_the_ledger_verdict_can_be_reloaded(signed_in: TestClient) -> None:
    first = signed_in.get("/ui/ledger/verify")
    again = signed_in.get("/ui/ledger/verify")
    assert first.status_code == again.status_code == 200
    assert 'id="verdict"' in again.text


def test_the_api_keeps_answering_problem_json(client: TestClient) -> None:
    for path, status in (("/v1/nope", 404), ("/nope", 404), ("/ui-not-the-ui", 404)):
        response = client.get(path)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json", path


# -- the API's documentation ------------------------------------------------------------

_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_docs_load_nothing_from_another_host(client: TestClient, page: str) -> None:
    html = client.get(page)
    assert html.status_code == 200 and _is_page(html)
    assert not _EXTERNAL.search(html.text), html.text
    assets = re.findall(r"""(?:src|href)\s*=\s*["']?(/docs-assets/[^"' >]+)""", html.text)
    assert assets
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200 and len(served.content) > 1000, asset


def test_the_ui_links_to_the_api_docs_served_here(signed_in: TestClient) -> None:
    home = signed_in.get("/ui/")
    assert '<a href="/docs">API</a>' in home.text
    assert signed_in.get("/docs").status_code == 200


# -- colours: WCAG 2.1 AA, 4.5:1 for text of normal size --------------------------------

AA = 4.5


def _rules(css: str) -> list[tuple[str, dict[str, str]]]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    declaration = re.compile(r"([\w-]+)\s*:([^;]+)")
    return [
        (selector.strip(), {k.strip(): v.strip() for k, v in declaration.findall(body)})
        for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)
    ]


def _colours() -> tuple[list[tuple[str, dict[str, str]]], dict[str, str]]:
    rules = _rules(CSS.read_text(encoding="utf-8"))
    root = next(d for s, d in rules if s == ":root")
    variables = {name: value for name, value in root.items() if name.startswith("--")}
    return rules, variables


def _hex(value: str, variables: dict[str, str]) -> str:
    found = re.fullmatch(r"var\((--[\w-]+)\)", value.strip())
    value = variables[found.group(1)] if found else value.strip()
    assert re.fullmatch(r"#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}", value), value
    return value


def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)

    def channel(pair: str) -> float:
        c = int(pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(digits[i : i + 2]) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_formula_matches_wcag_reference_values() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#1f5fbf", "#1f5fbf") == pytest.approx(1.0)


def test_every_badge_and_coloured_box_reads_at_aa_contrast() -> None:
    rules, variables = _colours()
    pairs = {
        selector: (_hex(d["color"], variables), _hex(d["background"], variables))
        for selector, d in rules
        if "color" in d and "background" in d and d["background"] not in ("none",)
    }
    # The badges are what the brief names: each status has its own colours.
    for status in ("opted_in", "opted_out", "blocked", "queued"):
        assert any(f".status.{status}" in s for s in pairs), status
    # A danger button keeps the buttons' white text on its own background.
    danger = next(d for s, d in rules if s == "button.danger")
    pairs["button.danger"] = ("#fff", _hex(danger["background"], variables))
    # Plain text colours on the page's and the cards' backgrounds.
    for text in ("--ink", "--muted", "--accent", "--ok", "--bad", "--warn"):
        for ground in ("--bg", "--card"):
            pairs[f"{text} on {ground}"] = (variables[text], variables[ground])
    low = {s: round(contrast(*p), 2) for s, p in pairs.items() if contrast(*p) < AA}
    assert not low, f"below {AA}:1: {low}"
