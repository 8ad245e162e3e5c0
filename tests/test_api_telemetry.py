"""OpenTelemetry: with ``OPTLINE_OTEL`` on, every request is a server span named by its
route, the webhooks and the send included; off, the app is not instrumented."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from account_support import HELP_CONTACT
from fastapi.testclient import TestClient
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from twilio.request_validator import RequestValidator

from optline.api import telemetry
from optline.api.app import create_app
from optline.engine import Engine
from optline.providers import signing
from optline.settings import Settings

TWILIO_SENDER = "+14155550100"
GENERIC_SENDER = "+14155550101"
SENDS_SENDER = "+14155550102"
BOB = "+14155552671"
AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 32
GENERIC_SECRET = "generic-secret-0123456789"


@dataclass
class Traced:
    client: TestClient
    exporter: InMemorySpanExporter
    api_key: str

    def server_spans(self) -> list[ReadableSpan]:
        return [s for s in self.exporter.get_finished_spans() if s.kind is SpanKind.SERVER]


def _settings(tmp_path: Path, opentelemetry: bool) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path}/otel.db", notify=False, opentelemetry=opentelemetry
    )


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[Traced]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(_settings(tmp_path, True), tracer_provider=provider)
    engine: Engine = app.state.engine
    # Texts without consent on record allowed: spans, not consent, are tested here.
    overrides = {"no_consent": "allow", **HELP_CONTACT}
    _, key = engine.create_account_with_key("acme", overrides=overrides)
    twilio_credentials = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
    engine.add_sender("acme", TWILIO_SENDER, provider="twilio", credentials=twilio_credentials)
    engine.add_sender(
        "acme", GENERIC_SENDER, provider="generic", credentials={"secret": GENERIC_SECRET}
    )
    engine.add_sender("acme", SENDS_SENDER)
    with TestClient(app) as client:
        yield Traced(client, exporter, key)
    provider.shutdown()


def _route_span(traced: Traced, route: str) -> ReadableSpan:
    spans = [s for s in traced.server_spans() if (s.attributes or {}).get("http.route") == route]
    assert len(spans) == 1, [(s.name, s.attributes) for s in traced.server_spans()]
    return spans[0]


def test_a_signed_generic_webhook_is_a_server_span(traced: Traced) -> None:
    body = json.dumps(
        {"id": "m1", "from": BOB, "to": GENERIC_SENDER, "text": "see you at five"}
    ).encode()
    headers = {
        "Content-Type": "application/json",
        signing.HEADER: signing.sign(GENERIC_SECRET, body),
    }
    response = traced.client.post("/webhooks/generic", content=body, headers=headers)
    assert response.status_code == 200, response.text
    span = _route_span(traced, "/webhooks/generic")
    assert span.name == "POST /webhooks/generic"


def test_a_twilio_webhook_is_a_server_span(traced: Traced) -> None:
    sid = "SM" + "0" * 32
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": BOB,
        "To": TWILIO_SENDER,
        "Body": "running late, sorry",
        "NumMedia": "0",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        "http://testserver/webhooks/twilio", form
    )
    response = traced.client.post(
        "/webhooks/twilio",
        content=urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
    assert response.status_code == 200, response.text
    span = _route_span(traced, "/webhooks/twilio")
    assert (span.attributes or {}).get("http.status_code", 200) == 200


def test_a_send_is_a_server_span(traced: Traced) -> None:
    response = traced.client.post(
        "/v1/messages",
        json={"from": SENDS_SENDER, "to": BOB, "body": "Your visit is at 3"},
        headers={"Authorization": f"Bearer {traced.api_key}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "sent"
    _route_span(traced, "/v1/messages")


def test_other_routes_are_spans_too(traced: Traced) -> None:
    headers = {"Authorization": f"Bearer {traced.api_key}"}
    assert traced.client.get("/v1/account", headers=headers).status_code == 200
    assert traced.client.get("/v1/contacts/+14155550199", headers=headers).status_code == 404
    _route_span(traced, "/v1/account")
    _route_span(traced, "/v1/contacts/{phone}")


def test_without_the_setting_the_app_is_not_instrumented(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(_settings(tmp_path, False), tracer_provider=provider)
    with TestClient(app) as client:
        assert client.get("/v1/account").status_code == 401
    assert exporter.get_finished_spans() == ()


def test_the_setting_without_the_package_warns_and_serves_untraced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(telemetry, "available", lambda: False)
    with caplog.at_level(logging.WARNING, logger=telemetry.__name__):
        app = create_app(_settings(tmp_path, True))
    assert "OPTLINE_OTEL" in caplog.text
    with TestClient(app) as client:
        assert client.get("/v1/account").status_code == 401


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTLINE_OTEL", "1")
    assert Settings.from_env().opentelemetry
    monkeypatch.setenv("OPTLINE_OTEL", "0")
    assert not Settings.from_env().opentelemetry
    monkeypatch.delenv("OPTLINE_OTEL")
    assert not Settings.from_env().opentelemetry
    monkeypatch.setenv("OPTLINE_OTEL", "maybe")
    with pytest.raises(ValueError, match="OPTLINE_OTEL"):
        Settings.from_env()


def _gauges(reader: InMemoryMetricReader) -> dict[str, float]:
    data = reader.get_metrics_data()
    if data is None:
        return {}
    return {
        metric.name: point.value
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
        if isinstance(point, NumberDataPoint)
    }


def test_the_log_queue_is_a_pair_of_gauges(tmp_path: Path) -> None:
    """The events waiting for a position in the transparency log, and the oldest's age,
    as gauges read from the database on each collection."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    app = create_app(_settings(tmp_path, True), meter_provider=provider)
    engine: Engine = app.state.engine
    try:
        account = engine.create_account("acme", overrides=HELP_CONTACT)
        engine.sequence_pending()
        assert _gauges(reader) == {"optline.log.queued": 0, "optline.log.oldest_queued_age": 0}
        engine.opt_out(account.id, BOB)
        engine.opt_out(account.id, "+14155552672")
        waiting = _gauges(reader)
        assert waiting["optline.log.queued"] == 2
        assert waiting["optline.log.oldest_queued_age"] > 0
        assert engine.sequence_pending() is not None
        assert _gauges(reader) == {"optline.log.queued": 0, "optline.log.oldest_queued_age": 0}
    finally:
        provider.shutdown()
        engine.close()


def test_without_the_setting_the_log_has_no_gauges(tmp_path: Path) -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    app = create_app(_settings(tmp_path, False), meter_provider=provider)
    try:
        assert _gauges(reader) == {}
    finally:
        provider.shutdown()
        app.state.engine.close()
