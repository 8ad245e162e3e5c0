"""The ASGI application: provider webhooks, the REST API under /v1, its documentation
at /docs and /redoc, the web UI under /ui."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from optline import web
from optline.api import (
    accounts,
    consent_changes,
    consents,
    contacts,
    docs,
    ledger,
    lists,
    messages,
    moves,
    problems,
    review,
    telemetry,
    unsettled,
    users,
    webhooks,
)
from optline.domain import learned
from optline.domain.classify import classify
from optline.engine import Engine, reassigned
from optline.notify import Worker
from optline.providers.registry import Dispatcher
from optline.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

__all__ = ["API_ROUTERS", "API_TAGS", "Settings", "app_from_env", "create_app"]


#: The API's routers, as the app includes them (the webhooks and the send are the
#: app's own routes, added first).
API_ROUTERS = (
    accounts.router,
    contacts.router,
    consent_changes.router,
    lists.router,
    ledger.router,
    messages.router,
    unsettled.router,
    review.router,
    consents.router,
    moves.router,
    users.router,
)


def create_app(
    settings: Settings,
    engine: Engine | None = None,
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
) -> FastAPI:
    """The application; ``engine`` defaults to one opened on ``settings.database_url``
    that sends through each sender's provider, and is closed with the app. With
    ``settings.opentelemetry`` every request is traced by FastAPI's own telemetry, to
    ``tracer_provider`` (by default the global one), and the transparency log's queue
    is a pair of gauges of ``meter_provider`` (by default the global one)."""
    owned = engine is None
    if engine is None:
        callback = (
            webhooks.twilio_status_url(settings.public_base_url)
            if settings.public_base_url
            else None
        )
        dispatcher = Dispatcher(settings.provider_urls, status_callback=callback)
        spec = settings.reassigned_numbers
        check = reassigned.load(spec) if spec else None
        engine = Engine.open(settings.database_url, dispatch=dispatcher, reassigned=check)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Build the classifier's word tables and load the learned stage's model now,
        # not on the first inbound text.
        classify("please stop texting me")
        learned.shipped().prepare()
        if settings.freeze_startup_objects:
            gc.freeze()
        worker = Worker(engine) if settings.notify else None
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            if owned:
                engine.close()

    app = FastAPI(
        title="optline",
        summary="SMS consent engine: opt-out, opt-in and help handling with a "
        "hash-chained consent ledger.",
        version="0.1.0",
        lifespan=lifespan,
        # The documentation's order, whatever the order routes are matched in.
        openapi_tags=[{"name": tag} for tag in API_TAGS],
        telemetry=telemetry.config(settings, tracer_provider),
        # Served by optline.api.docs from the package, not from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.settings = settings
    telemetry.observe_log(settings, engine.log_status, meter_provider)
    problems.install(app)
    # The routes hit once per text first, as the app's own: FastAPI tries those before
    # the included routers, each of which adds a layer of matching to every request.
    webhooks.add_routes(app)
    messages.add_send_route(app)
    for router in API_ROUTERS:
        app.include_router(router)
    docs.install(app)
    web.install(app)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=303)

    return app


#: The API's tags in the order the documentation shows them.
API_TAGS = (
    "webhooks",
    "accounts",
    "users",
    "senders",
    "policy",
    "contacts",
    "consent",
    "purposes",
    "ledger",
    "lists",
    "triggers",
    "messages",
    "review",
    "event webhooks",
)


def app_from_env() -> FastAPI:
    """The application configured from ``OPTLINE_*`` variables (``optline serve``)."""
    return create_app(Settings.from_env(freeze_startup_objects=True))
