"""How the app's routes are put together: every route documented, raw-request routes
kept to endpoints that take the request alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, Request, Response

from optline.api import rest, webhooks
from optline.api.app import Settings, create_app
from optline.api.deps import RawRequestRoute


def test_every_route_is_served_and_documented_once(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/routes.db", notify=False))
    schema = app.openapi()
    for router in (webhooks.router, rest.router):
        for route in router.routes:
            assert route in app.router.routes
            path = getattr(route, "path", "")
            methods = {m.lower() for m in getattr(route, "methods", ())}
            assert methods <= set(schema["paths"][path]), path
    assert set(schema["paths"]) >= {
        "/webhooks/twilio",
        "/webhooks/twilio/status",
        "/webhooks/telnyx",
        "/webhooks/generic",
        "/v1/messages",
    }
    assert schema["paths"]["/webhooks/twilio"]["post"]["tags"] == ["webhooks"]


def test_a_raw_request_route_takes_the_request_alone() -> None:
    router = APIRouter(route_class=RawRequestRoute)

    async def raw(request: Request) -> Response:
        return Response(await request.body())

    router.post("/raw")(raw)  # accepted

    async def with_query(request: Request, page: int = 1) -> Response:
        return Response(str(page))

    with pytest.raises(TypeError, match="the Request alone"):
        router.post("/query")(with_query)

    async def without_request() -> Response:
        return Response()

    with pytest.raises(TypeError, match="the Request alone"):
        router.post("/none")(without_request)
