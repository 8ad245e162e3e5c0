"""The web UI: server-rendered pages under ``/ui``: the dashboard, the inbox, the pages
for looking up and changing consent, and the work pages (lists, triggers, senders,
policy, subscriptions, import, export), the upkeep pages (review, unsettled sends,
ledger verify) and the users page."""

from fastapi import FastAPI

from optline.web import contacts, dashboard, inbox, pages, upkeep, users, work


def install(app: FastAPI) -> None:
    """Add every page, their static files and their error handling to ``app``."""
    app.include_router(dashboard.router)
    app.include_router(inbox.router)
    pages.install(app)


# Importing them adds their routes to the pages' router.
__all__ = ["contacts", "install", "upkeep", "users", "work"]
