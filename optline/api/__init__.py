"""The HTTP service: provider webhooks and the REST API, thin over the engine.

What belongs here: the application and its wiring (``app``), request helpers shared by
the routers (``deps``), error answers (``problems``), the routers themselves, one module
a concern (``webhooks``, ``accounts``, ``contacts``, ``consent_changes``, ``consents``,
``moves``, ``lists``, ``messages``, ``unsettled``, ``review``, ``ledger``), the REST
API's request bodies (``schemas``) and its JSON views of stored rows (``views``).
Settings live in ``optline.settings``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that importing one submodule (``optline.api.deps`` from
    # the web UI, say) does not load the whole application and its routers with it.
    if name == "create_app":
        from optline.api.app import create_app

        return create_app
    if name == "Settings":
        from optline.settings import Settings

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
