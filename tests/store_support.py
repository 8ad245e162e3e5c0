"""Helpers for the tests that reach into the store.

An outbound text recorded as a crash may have left it, a connection whose COMMIT
fails as on a full disk, and the overrides that take the send windows out of a test.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

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
