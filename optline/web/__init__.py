"""The web UI: server-rendered pages under ``/ui`` for looking up and changing consent."""

from optline.web.pages import install

__all__ = ["install"]
