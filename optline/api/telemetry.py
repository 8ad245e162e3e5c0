"""OpenTelemetry for the HTTP service: a server span for every request, when enabled.

The app instruments itself only when ``Settings.opentelemetry`` is on (the
``OPTLINE_OTEL`` variable) and the instrumentation is installed (the ``otel`` extra).
The spans go to the tracer provider given, by default the global one that the
OpenTelemetry SDK or ``opentelemetry-instrument`` sets up.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import TYPE_CHECKING

from fastapi import FastAPI

from optline.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

log = logging.getLogger(__name__)

#: The module that the ``otel`` extra installs.
INSTRUMENTATION = "opentelemetry.instrumentation.fastapi"


def available() -> bool:
    """Whether the FastAPI instrumentation can be imported."""
    try:
        return importlib.util.find_spec(INSTRUMENTATION) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


def instrument(
    app: FastAPI, settings: Settings, tracer_provider: TracerProvider | None = None
) -> bool:
    """Instrument ``app`` when the settings ask for it and the package is there; whether
    it was. ``tracer_provider`` (an SDK ``TracerProvider``) defaults to the global one."""
    if not settings.opentelemetry:
        return False
    if not available():
        log.warning(
            "OPTLINE_OTEL is set but %s is not installed (pip install 'optline[otel]'): no spans",
            INSTRUMENTATION,
        )
        return False
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=tracer_provider)
    return True
