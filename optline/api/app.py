"""The ASGI application: provider webhooks, the REST API under /v1, OpenAPI at /docs,
the web UI under /ui."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from optline import web
from optline.api import problems, rest, unsettled, webhooks
from optline.api.deps import RawEndpoint, RawRequestRoute
from optline.domain.classify import classify
from optline.engine import Engine
from optline.notify import Worker
from optline.providers.registry import Dispatcher

DEFAULT_DATABASE_URL = "sqlite:///optline.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """Service settings; :meth:`from_env` reads them from ``OPTLINE_*`` variables."""

    database_url: str = DEFAULT_DATABASE_URL
    # Creates accounts (POST /v1/accounts); unset: no admin endpoints.
    admin_key: str | None = None
    # The public base URL providers call (behind a proxy the app sees another one);
    # Twilio signs the full public URL.
    public_base_url: str | None = None
    # Inbound request bodies above this size are refused with 413 (64 KiB: about 4,000
    # numbers in one bulk opt-out or broadcast; OPTLINE_MAX_BODY_BYTES raises it). The
    # provider webhooks take more, room for the longest inbound text
    # (deps.INBOUND_BODY_BYTES).
    max_body_bytes: int = 64 * 1024
    # Provider API base URLs (tests point them at a local fake provider).
    provider_urls: dict[str, str] = field(default_factory=dict)
    # Deliver event webhooks from this process (a background thread).
    notify: bool = True
    # Once started, leave everything allocated so far to the garbage collector's
    # permanent generation (``gc.freeze``): its full collections then skip the modules,
    # the classifier's tables and the framework's structures, which live as long as the
    # process. For the service process (``optline serve``), not for an app embedded in
    # another program: under load it took the webhook's p99 latency from about 95 ms
    # to about 15 ms and its throughput up by a fifth.
    freeze_startup_objects: bool = False

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        provider_urls = {
            name: env[f"OPTLINE_{name.upper()}_API_URL"]
            for name in ("twilio", "telnyx")
            if env.get(f"OPTLINE_{name.upper()}_API_URL")
        }
        values: dict[str, object] = {
            "database_url": env.get("OPTLINE_DATABASE_URL", DEFAULT_DATABASE_URL),
            "admin_key": env.get("OPTLINE_ADMIN_KEY") or None,
            "public_base_url": env.get("OPTLINE_PUBLIC_URL") or None,
            "provider_urls": provider_urls,
        }
        limit = env.get("OPTLINE_MAX_BODY_BYTES")
        if limit:
            if not limit.isdigit() or int(limit) < 1024:
                raise ValueError(
                    f"OPTLINE_MAX_BODY_BYTES must be a number of bytes >= 1024: {limit!r}"
                )
            values["max_body_bytes"] = int(limit)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


class OptlineAPI(FastAPI):
    """The FastAPI application, whose hot requests go straight to their endpoint.

    Every provider webhook and the send (``POST /v1/messages``) are raw-request routes:
    the endpoint takes the request and returns the response, with nothing for FastAPI
    to solve or validate. A POST to one of their paths is handed to the endpoint here,
    and an exception it raises to the app's own handler for it, just as FastAPI would;
    the way through FastAPI's middleware layers and route matching (about 30 µs a
    request, on the paths every text takes) is left to the other requests. FastAPI's
    native OpenTelemetry instrumentation does not see these requests.
    """

    #: Path -> endpoint of every raw-request POST route (filled by :func:`create_app`).
    hot: dict[str, RawEndpoint]
    # Attributes, not ``app.state`` entries: a webhook reads them four times, and each
    # read through Starlette's State cost 0.5 µs.
    engine: Engine
    settings: Settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Behind a root path the routes' paths are not the request's: routing decides.
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            endpoint = self.hot.get(scope["path"])
            if endpoint is not None:
                scope["app"] = self
                request = Request(scope, receive, send)
                try:
                    response = await endpoint(request)
                except Exception as exc:
                    response = await self._handled(request, exc)
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _handled(self, request: Request, exc: Exception) -> Response:
        """The response of the app's handler for ``exc`` (the one for its nearest class,
        as Starlette picks it); there is one for ``Exception`` itself."""
        for kind in type(exc).__mro__:
            handler = self.exception_handlers.get(kind)
            if handler is not None:
                answer = handler(request, exc)
                return await answer if isinstance(answer, Awaitable) else answer
        raise exc


def create_app(settings: Settings, engine: Engine | None = None) -> OptlineAPI:
    """The application; ``engine`` defaults to one opened on ``settings.database_url``
    that sends through each sender's provider, and is closed with the app."""
    owned = engine is None
    if engine is None:
        callback = (
            webhooks.twilio_status_url(settings.public_base_url)
            if settings.public_base_url
            else None
        )
        dispatcher = Dispatcher(settings.provider_urls, status_callback=callback)
        engine = Engine.open(settings.database_url, dispatch=dispatcher)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Build the classifier's word tables now, not on the first inbound text.
        classify("please stop texting me")
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

    app = OptlineAPI(
        title="optline",
        summary="SMS consent engine: opt-out, opt-in and help handling with a "
        "hash-chained consent ledger.",
        version="0.1.0",
        lifespan=lifespan,
        # The documentation's order, whatever the order routes are matched in.
        openapi_tags=[{"name": tag} for tag in API_TAGS],
    )
    app.engine = engine
    app.settings = settings
    problems.install(app)
    # The routers' routes join the app's own list rather than app.include_router(): an
    # included router is matched twice per request, route by route, which cost a /v1
    # request about 45 µs. The routes carry their prefixes, tags and responses already,
    # and the OpenAPI document is the same.
    for router in (webhooks.router, rest.router, unsettled.router):
        app.router.routes.extend(router.routes)
    web.install(app)
    app.hot = {
        route.path: route.endpoint
        for route in app.router.routes
        if isinstance(route, RawRequestRoute) and "POST" in (route.methods or ())
    }

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=303)

    return app


#: The API's tags in the order the documentation shows them.
API_TAGS = (
    "webhooks",
    "accounts",
    "senders",
    "policy",
    "contacts",
    "consent",
    "ledger",
    "lists",
    "triggers",
    "messages",
    "review",
    "event webhooks",
)


def app_from_env() -> OptlineAPI:
    """The application configured from ``OPTLINE_*`` variables (``optline serve``)."""
    return create_app(Settings.from_env(freeze_startup_objects=True))
