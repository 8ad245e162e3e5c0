"""OpenTelemetry for the HTTP service: FastAPI's native telemetry, and the transparency
log's gauges, on only when asked.

FastAPI makes a server span for every request (the provider webhooks and the send
included, named by method and route) through its ``telemetry`` option. optline turns it
on only when ``Settings.opentelemetry`` is set (the ``OPTLINE_OTEL`` variable); off, the
telemetry is switched off outright, so no request pays for looking up a tracer provider
and a provider configured for other reasons does not start tracing the service. The
spans go to the tracer provider given, by default the global one that the
OpenTelemetry SDK (the ``otel`` extra) or ``opentelemetry-instrument`` sets up.

Beside the spans, two gauges watch the transparency log's sequencer (issue 21's lag):
``optline.log.queued``, the committed events waiting for a position, and
``optline.log.oldest_queued_age``, how long the oldest has waited; each is read from
the database when the meter provider collects (by default the global one).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from fastapi.telemetry import TelemetryConfig
from opentelemetry import metrics

from optline.engine.results import LogStatus
from optline.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
    from opentelemetry.trace import TracerProvider

log = logging.getLogger(__name__)

#: The module that the ``otel`` extra installs: a tracer provider to record spans with.
SDK = "opentelemetry.sdk.trace"

#: FastAPI's telemetry with nothing on: no spans, metrics or logs, no per-request checks.
OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def available() -> bool:
    """Whether the OpenTelemetry SDK can be imported."""
    try:
        return importlib.util.find_spec(SDK) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


def config(settings: Settings, tracer_provider: TracerProvider | None = None) -> TelemetryConfig:
    """FastAPI's ``telemetry`` option for these settings: a server span per request
    when they ask for it, to ``tracer_provider`` (by default the global one); else
    :data:`OFF`."""
    if not settings.opentelemetry:
        return OFF
    if tracer_provider is None and not available():
        log.warning(
            "OPTLINE_OTEL is set but the OpenTelemetry SDK is not installed "
            "(pip install 'optline[otel]'): no spans"
        )
        return OFF
    return {"tracer_provider": tracer_provider, "metrics": False, "logs": False}


def observe_log(
    settings: Settings,
    status: Callable[[], LogStatus],
    meter_provider: MeterProvider | None = None,
) -> bool:
    """When the settings ask for telemetry, the log's two gauges, read through
    ``status`` (``Engine.log_status``: the queued count and the oldest's age in
    seconds) on each collection by ``meter_provider`` (by default the global one).
    Whether they were registered."""
    if not settings.opentelemetry or (meter_provider is None and not available()):
        return False
    meter = metrics.get_meter("optline", meter_provider=meter_provider)

    def queued(_: CallbackOptions) -> Iterable[Observation]:
        return [metrics.Observation(status().pending)]

    def oldest_age(_: CallbackOptions) -> Iterable[Observation]:
        return [metrics.Observation(status().oldest_pending_age or 0.0)]

    meter.create_observable_gauge(
        "optline.log.queued",
        [queued],
        unit="{event}",
        description="Committed events waiting for a position in the transparency log",
    )
    meter.create_observable_gauge(
        "optline.log.oldest_queued_age",
        [oldest_age],
        unit="s",
        description="How long the oldest event waiting for the transparency log has waited",
    )
    return True
