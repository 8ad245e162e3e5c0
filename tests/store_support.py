"""Helpers for the tests that reach into the store.

An outbound text recorded as a crash may have left it, a connection whose COMMIT
fails as on a full disk, and the overrides that take the send windows out of a test.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from optline.engine import Engine
from optline.store import Tx


def record_send(
    tx: Tx,
    account_id: int,
    phone: str,
    sender: str,
    body: str,
    status: str,
    *,
    reply: bool = False,
    message_id: int | None = None,
) -> int:
    """An outbound text recorded as it stands, now (as a crash may have left it)."""
    return tx.messages.record_outbound(
        account_id,
        phone=phone,
        sender=sender,
        body=body,
        status=status,
        reason=None,
        list_name=None,
        campaign=False,
        at=datetime.now(UTC),
        reply=reply,
        message_id=message_id,
    )


class FullDisk:
    """A group's database connection whose COMMIT fails as on a full disk (it never
    runs); every other statement runs as it would."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def execute(self, sql: str, *parameters: Any) -> Any:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        return self.real.execute(sql, *parameters)


#: Policy overrides for a test about something else that sends campaign texts under the
#: default profile: no send windows, so that it passes at any hour of the run
#: (tests/test_send_windows.py holds the windows, on an injected clock).
ANY_HOUR: dict[str, Any] = {"send_windows": []}


#: What a test's contact agreed to in writing: the default profile sends campaign texts
#: only with prior express written consent on record (tests/test_written_consent.py).
CONSENT_LANGUAGE = (
    "Yes, Acme may text me offers at this number, sent by automated means. Consent is"
    " not a condition of purchase. Msg & data rates may apply. Reply STOP to cancel."
)
CONSENT_GIVEN_AT = datetime(2025, 6, 2, 15, 4, 5, tzinfo=UTC)


def consent_body(phone: str) -> dict[str, Any]:
    """A ``POST /v1/consents`` body: the written consent ``phone`` gave on a web form."""
    return {
        "phone": phone,
        "language": CONSENT_LANGUAGE,
        "given_at": CONSENT_GIVEN_AT.isoformat(),
        "url": "https://acme.example/join",
        "form_id": "join-2025",
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0",
    }


def give_written_consent(engine: Engine, account: str, phone: str) -> None:
    """Record the written consent of :func:`consent_body` through the engine."""
    body = consent_body(phone)
    del body["phone"], body["given_at"]
    engine.record_consent(account, phone, given_at=CONSENT_GIVEN_AT, **body)


class Clock:
    """An injected clock a test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
