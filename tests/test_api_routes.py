"""How the app's routes are put together: every route documented, raw-request routes
kept to endpoints that take the request alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import APIRouter, Request, Response
from starlette.routing import BaseRoute, Match, Mount

from optline.api import rest, webhooks
from optline.api.app import API_TAGS, HOT_PATHS, Settings, create_app
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


def test_no_route_matches_another_routes_path_so_their_order_is_free(tmp_path: Path) -> None:
    # The hot paths are moved to the front of the route list: safe only while no route
    # matches a path of another (the first full match would win).
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/routes.db", notify=False))
    routes = [r for r in app.router.routes if isinstance(r, BaseRoute)]
    for route in routes:
        path = re.sub(r"\{[^}]+\}", "x", getattr(route, "path", ""))
        if isinstance(route, Mount):
            path += "/optline.css"  # a mount serves the paths below its own
        for method in getattr(route, "methods", None) or {"GET"}:
            scope = {"type": "http", "method": method, "path": path, "root_path": ""}
            full = [r for r in routes if r.matches(scope)[0] is Match.FULL]
            assert full == [route], (method, path)
    paths = [getattr(r, "path", "") for r in app.router.routes]
    assert set(paths[: len(HOT_PATHS)]) == HOT_PATHS
    # The documentation keeps its order of tags, whatever the order of the routes.
    schema = app.openapi()
    assert [t["name"] for t in schema["tags"]] == list(API_TAGS)
    used = {t for ops in schema["paths"].values() for op in ops.values() for t in op["tags"]}
    assert used == set(API_TAGS)
