"""The dashboard at /ui/ through the real app on SQLite and PostgreSQL: its counts are
the ones the API and the send's gate give; and the pure parts it is drawn from (the
ledger's tallies, the chart's scale)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from test_api_support import BOB, EVE, ZED, A, Tenant
from test_web import _page, _sign_in

from optline.domain import activity
from optline.engine import Engine
from optline.errors import BadInput
from optline.web.chart import HEIGHT, bar_chart, scale_top

CAROL = "+16175550123"
DAN = "+16465550177"


@pytest.fixture
def signed_in(acme: Tenant) -> TestClient:
    assert _sign_in(acme.client, acme.key).status_code == 303
    return acme.client


def _number(page: httpx.Response, element: str) -> int:
    found = re.search(rf'id="{element}">(\d+)<', page.text)
    assert found is not None, element
    return int(found.group(1))


def _table(page: httpx.Response, table: str) -> dict[str, int]:
    body = page.text.split(f'id="{table}"')[1].split("</table>")[0]
    rows = re.findall(r'data-key="([^"]+)"><td>[^<]*</td><td class="n">(\d+)</td>', body)
    return {key: int(n) for key, n in rows}


def test_the_dashboards_counts_are_the_apis_and_the_gates(
    signed_in: TestClient, engine: Engine, acme: Tenant
) -> None:
    for n, (number, text) in enumerate(
        [
            (BOB, "STOP"),  # a keyword, in English
            (BOB, "STOP"),  # a repeat: recorded, no second opt-out
            (EVE, "ALTO"),  # a keyword, in Spanish
            (ZED, "please stop texting me"),  # plain language
            (CAROL, "not interested"),  # flagged for review
            (EVE, "START"),  # back in, by keyword
        ]
    ):
        engine.receive("acme", number, A, text, f"SM{n}")
    acme.ok("POST", f"/v1/contacts/{DAN}/opt-in", {"evidence": "signed form, 2026-12-01"})
    # Sends the gate refuses, for the reasons it gives.
    refused: Counter[str] = Counter()
    for to, body, campaign in [
        (BOB, "Your cleaning is on Tuesday", False),
        (ZED, "Your cleaning is on Tuesday", False),
        ("+13125550100", "20% off whitening! Reply STOP to opt out.", True),
        (DAN, "20% off whitening!", True),
    ]:
        answer = acme.ok(
            "POST", "/v1/messages", {"from": A, "to": to, "body": body, "campaign": campaign}
        )
        if not answer["allowed"]:
            refused[answer["reason"]] += 1
    assert refused["opted_out"] == 2

    page = _page(signed_in, "/ui/")
    assert page.status_code == 200
    # The opt-outs and opt-ins on the contacts' ledgers, as the API gives them.
    changes: Counter[str] = Counter()
    for number in (BOB, EVE, ZED, CAROL, DAN):
        for event in acme.ok("GET", f"/v1/contacts/{number}/history")["events"]:
            if not event["data"].get("repeat"):
                changes[event["type"]] += 1
    assert _number(page, "opt-outs-total") == changes["opted_out"] == 3
    assert _number(page, "opt-ins-total") == changes["opted_in"] == 2
    assert _table(page, "opt-outs-by-method") == {"keyword": 2, "plain_language": 1}
    assert _table(page, "opt-outs-by-language") == {"en": 2, "es": 1}
    assert _table(page, "opt-ins-by-method") == {"keyword": 1, "manual": 1}
    assert _table(page, "opt-ins-by-language") == {"en": 1, "none": 1}
    assert _number(page, "flagged-total") == acme.ok("GET", "/v1/review")["open"] == 1
    assert _table(page, "refused-by-reason") == dict(refused)
    assert _number(page, "refused-total") == sum(refused.values())
    assert _number(page, "unread-total") == 6  # the repeat STOP is a text too


def test_the_span_is_30_or_90_days(signed_in: TestClient, engine: Engine) -> None:
    assert "last 90 days" in _page(signed_in, "/ui/?days=90").text
    assert "last 30 days" in _page(signed_in, "/ui/?days=7").text  # any other: 30
    with pytest.raises(BadInput):
        engine.activity("acme", 7)


def _fact(kind: str, day: date, **data: object) -> tuple[str, dict[str, object], datetime]:
    return kind, dict(data), datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def test_the_tally_counts_the_span_only_and_each_opt_out_once() -> None:
    today = date(2026, 12, 7)
    days = activity.span(today, 30)
    assert (len(days), days[0], days[-1]) == (30, today - timedelta(days=29), today)
    got = activity.tally(
        days,
        [
            _fact("opted_out", today - timedelta(days=30), method="keyword", language="en"),
            _fact("opted_out", today, method="keyword", language="en"),
            _fact("opted_out", today, method="keyword", language="en", repeat=True),
            _fact("opted_out", today, method="manual"),
            _fact("opted_in", days[0], method="web_form"),
            _fact("send_refused", today, reason="opted_out"),
            _fact("help_answered", today),
        ],
    )
    assert got.opt_outs.total == 2 and got.opt_outs.by_day == {today: 2}
    assert got.opt_outs.by_language == {"en": 1, activity.NO_LANGUAGE: 1}
    assert got.opt_ins.by_method == {"web_form": 1}
    assert got.refused == {"opted_out": 1} and got.refused_total == 1


@given(st.integers(min_value=0, max_value=10**9))
def test_the_scale_is_a_round_number_at_least_the_peak(peak: int) -> None:
    top = scale_top(peak)
    assert top >= max(peak, 1)
    assert top < max(peak, 1) * 5 or top == 1
    assert str(top).rstrip("0") in {"1", "2", "5"}


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=30, max_size=30))
def test_every_bar_stands_on_the_baseline_within_the_drawing(values: list[int]) -> None:
    days = activity.span(date(2026, 12, 7), 30)
    chart = bar_chart(days, {"opt-outs": dict(zip(days, values, strict=True))})
    for bar in chart.bars:
        assert bar.y >= 0 and bar.height >= 0
        assert abs(bar.y + bar.height - chart.baseline) < 1e-6
        assert chart.left <= bar.x and bar.x + bar.width <= chart.right
    assert chart.baseline < HEIGHT
