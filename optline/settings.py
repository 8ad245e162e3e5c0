"""Service settings: what the HTTP service is configured with, read from ``OPTLINE_*``
variables, and the one default database URL that the CLI shares.

Only configuration belongs here: no import of the engine, the API or the web UI, so
that every layer can read its settings without importing another.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite:///optline.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """Service settings; :meth:`from_env` reads them from ``OPTLINE_*`` variables."""

    database_url: str = DEFAULT_DATABASE_URL
    # Creates accounts (POST /v1/accounts); unset: no admin endpoints.
    admin_key: str | None = None
    # The public base URL providers call (behind a proxy the app sees another one);
    # Twilio signs the full public URL.
    public_base_url: str | None = None
    # Inbound request bodies above this size are refused with 413 (64 KiB: about 4,000
    # numbers in one bulk opt-out or broadcast; OPTLINE_MAX_BODY_BYTES raises it). The
    # provider webhooks take more, room for the longest inbound text
    # (optline.api.deps.INBOUND_BODY_BYTES).
    max_body_bytes: int = 64 * 1024
    # Provider API base URLs (tests point them at a local fake provider).
    provider_urls: dict[str, str] = field(default_factory=dict)
    # Deliver event webhooks from this process (a background thread).
    notify: bool = True
    # Once started, leave everything allocated so far to the garbage collector's
    # permanent generation (``gc.freeze``): its full collections then skip the modules,
    # the classifier's tables and the framework's structures, which live as long as the
    # process. For the service process (``optline serve``), not for an app embedded in
    # another program: under load it took the webhook's p99 latency from about 95 ms
    # to about 15 ms and its throughput up by a fifth.
    freeze_startup_objects: bool = False
    # A server span for every request through OpenTelemetry (OPTLINE_OTEL=1), when the
    # instrumentation is installed (the ``otel`` extra); see optline.api.telemetry.
    opentelemetry: bool = False
    # The reassigned-numbers check (OPTLINE_REASSIGNED_NUMBERS, ``module:factory``; see
    # docs/law.md): asked before the first text after a long silence. None: not asked.
    reassigned_numbers: str | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        provider_urls = {
            name: env[f"OPTLINE_{name.upper()}_API_URL"]
            for name in ("twilio", "telnyx")
            if env.get(f"OPTLINE_{name.upper()}_API_URL")
        }
        values: dict[str, object] = {
            "database_url": env.get("OPTLINE_DATABASE_URL", DEFAULT_DATABASE_URL),
            "admin_key": env.get("OPTLINE_ADMIN_KEY") or None,
            "public_base_url": env.get("OPTLINE_PUBLIC_URL") or None,
            "provider_urls": provider_urls,
            "reassigned_numbers": env.get("OPTLINE_REASSIGNED_NUMBERS") or None,
        }
        otel = env.get("OPTLINE_OTEL", "").strip().lower()
        if otel not in ("", "0", "1", "true", "false", "yes", "no", "on", "off"):
            raise ValueError(f"OPTLINE_OTEL must be 1 or 0 (true or false): {otel!r}")
        values["opentelemetry"] = otel in ("1", "true", "yes", "on")
        limit = env.get("OPTLINE_MAX_BODY_BYTES")
        if limit:
            if not limit.isdigit() or int(limit) < 1024:
                raise ValueError(
                    f"OPTLINE_MAX_BODY_BYTES must be a number of bytes >= 1024: {limit!r}"
                )
            values["max_body_bytes"] = int(limit)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
