"""How the app's routes are put together: every route documented, raw-request routes
kept to endpoints that take the request alone, webhook and send posts routed like every
other request."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from account_support import HELP_CONTACT
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Match, Mount, Route

from optline.api.app import API_ROUTERS, API_TAGS, Settings, create_app
from optline.api.deps import RawRequestRoute
from optline.engine import Engine
from optline.providers import signing
from optline.web import pages

HOT_PATHS = {
    "/webhooks/twilio",
    "/webhooks/twilio/status",
    "/webhooks/telnyx",
    "/webhooks/generic",
    "/v1/messages",
}


def _every_route(app: FastAPI) -> list[BaseRoute]:
    """The app's own routes (those with a path) and every route of the included
    routers, each with its full path."""
    own = [r for r in app.router.routes if getattr(r, "path", None) is not None]
    return [*own, *(r for router in (*API_ROUTERS, pages.router) for r in router.routes)]


def test_every_route_is_documented(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/routes.db", notify=False))
    schema = app.openapi()
    for route in _every_route(app):
        if isinstance(route, APIRoute) and route.include_in_schema:
            assert {m.lower() for m in route.methods or ()} <= set(schema["paths"][route.path])
    assert set(schema["paths"]) >= {
        "/webhooks/twilio",
        "/webhooks/twilio/status",
        "/webhooks/telnyx",
        "/webhooks/generic",
        "/v1/messages",
    }
    assert schema["paths"]["/webhooks/twilio"]["post"]["tags"] == ["webhooks"]


def test_the_routes_hit_once_per_text_come_before_every_included_router(tmp_path: Path) -> None:
    # Matched as the app's own routes, after only FastAPI's documentation routes and
    # without an included router's extra layer of matching.
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/routes.db", notify=False))
    kinds = [type(r) for r in app.router.routes]
    hot = [r for r in app.router.routes if isinstance(r, RawRequestRoute)]
    assert {r.path for r in hot} == HOT_PATHS
    before = app.router.routes[: kinds.index(RawRequestRoute) + len(hot)]
    assert {type(r) for r in before} == {Route, RawRequestRoute}
    assert {r.path for r in before if type(r) is Route} <= {
        app.openapi_url,
        app.docs_url,
        app.swagger_ui_oauth2_redirect_url,
        app.redoc_url,
    }


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
    # Each request has one route to go to, whatever order the routers are included in
    # (the first full match would win).
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/routes.db", notify=False))
    every = _every_route(app)
    for route in every:
        path = re.sub(r"\{[^}]+\}", "x", getattr(route, "path", ""))
        if isinstance(route, Mount):
            path += "/optline.css"  # a mount serves the paths below its own
        for method in getattr(route, "methods", None) or {"GET"}:
            scope = {"type": "http", "method": method, "path": path, "root_path": ""}
            full = [r for r in every if r.matches(scope)[0] is Match.FULL]
            assert full == [route], (method, path)
    # The documentation keeps its order of tags, whatever the order of the routes.
    schema = app.openapi()
    assert [t["name"] for t in schema["tags"]] == list(API_TAGS)
    used = {t for ops in schema["paths"].values() for op in ops.values() for t in op["tags"]}
    assert used == set(API_TAGS)


def _noting_app(tmp_path: Path) -> tuple[FastAPI, list[str]]:
    """The app with a middleware that notes every request passing through the stack."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/hot.db", notify=False))
    seen: list[str] = []

    @app.middleware("http")
    async def note(request: Request, call_next: Any) -> Any:
        seen.append(f"{request.method} {request.url.path}")
        return await call_next(request)

    return app, seen


def test_webhook_and_send_posts_are_routed_through_the_middleware_like_any_request(
    tmp_path: Path,
) -> None:
    app, seen = _noting_app(tmp_path)
    raw = {
        r.path
        for r in _every_route(app)
        if isinstance(r, RawRequestRoute) and "POST" in (r.methods or ())
    }
    assert raw == HOT_PATHS
    unsigned = {"content": b"{}", "headers": {"Content-Type": "application/json"}}
    with TestClient(app) as client:
        webhook = client.post("/webhooks/generic", **unsigned)
        send = client.post("/v1/messages", **unsigned)
        wrong_method = client.get("/webhooks/generic")
        api = client.get("/v1/contacts")
    with TestClient(app, root_path="/sms") as client:
        routed = client.post("/sms/webhooks/generic", **unsigned)
        routed_send = client.post("/sms/v1/messages", **unsigned)
    assert seen == [
        "POST /webhooks/generic",
        "POST /v1/messages",
        "GET /webhooks/generic",
        "GET /v1/contacts",
        "POST /sms/webhooks/generic",
        "POST /sms/v1/messages",
    ]
    for answer, same, status, code in (
        (webhook, routed, 403, "bad_signature"),
        (send, routed_send, 401, "unauthorized"),
    ):
        assert answer.status_code == same.status_code == status
        assert answer.json() == same.json()
        assert answer.json()["code"] == code
        assert answer.headers["content-type"] == same.headers["content-type"]
    assert wrong_method.status_code == 405
    assert api.status_code == 401


def test_a_failure_in_a_webhook_is_a_problem_500_that_logs_no_request_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = _noting_app(tmp_path)
    engine: Engine = app.state.engine
    engine.create_account("acme", overrides=HELP_CONTACT)
    engine.add_sender("acme", "+14155550100", provider="generic", credentials={"secret": "s3"})

    def broken(*_: object) -> None:
        raise RuntimeError("secret detail +14155550123")

    monkeypatch.setattr(engine, "receive", broken)
    body = json.dumps({"id": "m1", "from": "+14155550123", "to": "+14155550100", "text": "STOP"})
    headers = {
        "Content-Type": "application/json",
        signing.HEADER: signing.sign("s3", body.encode()),
    }
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/webhooks/generic", content=body, headers=headers)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "internal_error"
    assert "RuntimeError" in caplog.text
    assert "secret detail" not in caplog.text and "+14155550123" not in caplog.text
