"""The web UI: server-rendered pages under ``/ui`` for looking up and changing consent,
and the work pages (lists, triggers, senders, policy, subscriptions, import, export)."""

from optline.web import contacts, work
from optline.web.pages import install

# Importing them adds their routes to the pages' router.
__all__ = ["contacts", "install", "work"]
