"""Event-webhook delivery: a background worker draining the transactional outbox (and
sending replies whose own send never started: ``Engine.send_queued_replies``), and
beside it the transparency log's sequencer (``Engine.sequence_pending``).

Each consent change queues its notifications in the same transaction that commits it
(see ``Engine._append``); this worker POSTs them, signed, and records the outcome.
Several workers (one per server process) may run: each claims rows under a lease.
Receivers must expect a notification more than once (a crash between the POST and
the record of its success) and de-duplicate on ``X-Optline-Event-Id``.
"""

from __future__ import annotations

import json
import logging
import threading

import httpx

from optline.engine import Engine
from optline.providers import signing
from optline.store import Notification

log = logging.getLogger("optline.notify")

EVENT_ID_HEADER = "X-Optline-Event-Id"
# Seconds between the sequencer's passes: an event waits about half of it on average.
SEQUENCE_INTERVAL = 0.2


def deliver(client: httpx.Client, notification: Notification) -> str | None:
    """POST one notification; None on a 2xx, else what went wrong.

    Any exception is this delivery's failure, retried like an HTTP error: one
    subscription that cannot be sent to (an unparsable URL raises ``httpx.InvalidURL``,
    not an ``httpx.HTTPError``) must not hold up the deliveries after it."""
    body = json.dumps(notification.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        signing.HEADER: signing.sign(notification.secret, body),
        EVENT_ID_HEADER: notification.event_id,
    }
    try:
        response = client.post(notification.url, content=body, headers=headers)
    except Exception as exc:
        return f"{type(exc).__name__}"
    if response.is_success:
        return None
    return f"HTTP {response.status_code}"


def drain(engine: Engine, client: httpx.Client, batch: int = 50) -> int:
    """Deliver every notification due now; returns how many were attempted."""
    attempted = 0
    while True:
        due = engine.claim_notifications(batch)
        if not due:
            return attempted
        for notification in due:
            error = deliver(client, notification)
            if error is not None:
                # No secrets or bodies in logs: the id and the failure are enough.
                log.warning(
                    "event %s to subscription %s failed: %s",
                    notification.event_id,
                    notification.subscription_id,
                    error,
                )
            engine.notification_result(notification, error)
            attempted += 1


class Worker:
    """A daemon thread that drains the outbox and sends queued replies every
    ``interval`` seconds."""

    def __init__(self, engine: Engine, interval: float = 1.0, timeout: float = 10.0) -> None:
        self._engine = engine
        self._interval = interval
        self._client = httpx.Client(timeout=timeout)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="optline-notify", daemon=True)
        self._sequencer = threading.Thread(
            target=self._sequence, name="optline-sequencer", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        self._sequencer.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._sequencer.join(timeout=10)
        self._client.close()

    def _sequence(self) -> None:
        """The transparency log's sequencer: a batch whenever events wait, every
        ``SEQUENCE_INTERVAL`` seconds (one process at a time leads; the others' passes
        return at once)."""
        while not self._stop.is_set():
            try:
                self._engine.sequence_pending()
            except Exception:
                log.exception("sequencing the transparency log failed")
            self._stop.wait(SEQUENCE_INTERVAL)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                drain(self._engine, self._client)
            except Exception:  # keep the worker alive; the next pass retries
                log.exception("event webhook delivery pass failed")
            try:
                self._engine.send_queued_replies()
            except Exception:
                log.exception("queued reply pass failed")
            self._stop.wait(self._interval)
