"""The HTTP service: provider webhooks and the REST API, thin over the engine."""

from optline.api.app import Settings, create_app

__all__ = ["Settings", "create_app"]
