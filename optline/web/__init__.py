"""The web UI: server-rendered pages under ``/ui``: the dashboard, the inbox, and the
pages for looking up and changing consent."""

from fastapi import FastAPI

from optline.web import dashboard, inbox, pages


def install(app: FastAPI) -> None:
    """Add every page, their static files and their error handling to ``app``."""
    app.include_router(dashboard.router)
    app.include_router(inbox.router)
    pages.install(app)


__all__ = ["install"]
