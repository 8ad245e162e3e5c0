"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), with
their scripts and styles served from this service: they work with no network, as
FastAPI's guide to self-hosting the docs' assets does it. The assets come from the
``fastapi-offline`` package, which ships Swagger UI's and ReDoc's builds."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS = "/docs-assets"
_FILES = Path(fastapi_offline.__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Add ``/docs``, ``/redoc`` and their assets to an app made with ``docs_url`` and
    ``redoc_url`` set to None."""
    app.mount(ASSETS, StaticFiles(directory=_FILES), name="docs-assets")
    title = f"{app.title} API"
    favicon = f"{ASSETS}/favicon.png"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=title,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=favicon,
            # No call to the public validator service (no network is assumed).
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=title,
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        )
