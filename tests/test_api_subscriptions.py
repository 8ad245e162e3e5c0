"""Event webhooks through the API: subscriptions, signed deliveries, retries, outbox."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import event as sa_event
from store_support import Clock
from test_api_support import (
    ADMIN_KEY,
    BOB,
    EVE,
    A,
    Tenant,
    assert_problem,
    new_tenant,
)

from optline.api.app import Settings, create_app
from optline.domain.consent_codes import Status
from optline.engine import Engine, ImportRow
from optline.errors import BadInput
from optline.notify import EVENT_ID_HEADER, drain
from optline.providers import signing
from optline.providers.base import SignatureError
from optline.store import Store
from optline.store.checkpoint import BadCheckpoint, open_checkpoint, verify_key
from optline.store.ledger import timestamp


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A subscriber's endpoint on 127.0.0.1 answering ``status`` and recording requests."""

    status: int = 200
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/optline"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.server = server
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


@pytest.fixture
def engine(store: Store, clock: Clock) -> Engine:
    return Engine(store, clock=clock)


@pytest.fixture
def acme(engine: Engine) -> Iterator[Tenant]:
    app = create_app(Settings(admin_key=ADMIN_KEY, notify=False), engine=engine)
    with TestClient(app) as client:
        yield new_tenant(client, "acme", senders=(A,))


def notifications(engine: Engine, account: str = "acme") -> list[dict[str, Any]]:
    with engine.store.read() as tx:
        row = tx.accounts.by_name(account)
        assert row is not None
        return tx.outbox.notifications(row.id)


def test_subscriptions_are_created_listed_and_validated(acme: Tenant) -> None:
    made = acme.ok(
        "POST",
        "/v1/subscriptions",
        {"url": "https://example.com/hook", "events": ["opted_out", "opted_in"]},
        201,
    )
    assert made["secret"].startswith("whsec_") and made["events"] == ["opted_out", "opted_in"]
    listed = acme.ok("GET", "/v1/subscriptions")["subscriptions"]
    assert listed == [
        {"id": made["id"], "url": "https://example.com/hook", "events": ["opted_in", "opted_out"]}
    ]
    assert made["secret"] not in json.dumps(listed)
    body = assert_problem(
        acme.post("/v1/subscriptions", {"url": "https://x.example", "events": ["sent"]}),
        422,
        "bad_input",
    )
    assert "sent" in body["detail"]
    assert_problem(acme.post("/v1/subscriptions", {"url": "https://x.example", "events": []}), 422)
    assert_problem(acme.post("/v1/subscriptions", {"events": ["opted_out"]}), 422)


@pytest.mark.parametrize(
    "url",
    [
        "http://\n\n",
        "https://exa mple.com/hook",
        "https://example.com/\thook",
        "https://example.com/hook\u0085",
        "http:///path",
        "http://:80/",
        "https://[::1/hook",
        "https://example.com:99999/hook",
        "https://xn--a.example/hook",
        "https://exa\u00admple.com/",
    ],
)
def test_subscription_urls_the_worker_cannot_post_to_are_refused(acme: Tenant, url: str) -> None:
    response = acme.post("/v1/subscriptions", {"url": url, "events": ["opted_out"]})
    body = assert_problem(response, 422, "bad_input")
    assert body["detail"].startswith("url: "), body
    assert acme.ok("GET", "/v1/subscriptions")["subscriptions"] == []


def test_an_unsendable_subscription_fails_alone(
    acme: Tenant, engine: Engine, receiver: Receiver, clock: Clock
) -> None:
    """A subscription whose URL cannot even be requested (stored before URLs were
    checked, which the engine now refuses) fails its own deliveries, retried as any
    failure is; the other accounts' notifications in the same pass are delivered."""
    with pytest.raises(BadInput):
        engine.add_subscription("acme", "http://\n\n", ["opted_out"])
    with engine.store.transaction() as tx:
        account = tx.accounts.by_name("acme")
        assert account is not None
        tx.outbox.add_subscription(account.id, "http://\n\n", "whsec_old", ["opted_out"])
    other = new_tenant(acme.client, "other", senders=("+14155550177",))
    other.ok("POST", "/v1/subscriptions", {"url": receiver.url, "events": ["opted_out"]}, 201)
    acme.ok("POST", f"/v1/contacts/{BOB}/opt-out")  # queued first, so claimed first
    other.ok("POST", f"/v1/contacts/{BOB}/opt-out")
    with httpx.Client(timeout=5) as client:
        assert drain(engine, client) == 2
    (request,) = receiver.requests
    assert json.loads(request.body)["type"] == "opted_out"
    assert [row["state"] for row in notifications(engine, "other")] == ["done"]
    (broken,) = notifications(engine)
    assert (broken["state"], broken["attempts"]) == ("pending", 1)
    assert broken["last_error"] == "InvalidURL"
    assert broken["next_attempt_at"] > clock.now


def test_a_stop_is_delivered_signed_to_the_subscriber(
    acme: Tenant, engine: Engine, receiver: Receiver
) -> None:
    sub = acme.ok("POST", "/v1/subscriptions", {"url": receiver.url, "events": ["opted_out"]}, 201)
    engine.receive("acme", BOB, A, "STOP", provider_id="SM1")
    engine.receive("acme", EVE, A, "hello", provider_id="SM2")  # no event: no delivery
    with httpx.Client(timeout=5) as client:
        assert drain(engine, client) == 1
        assert drain(engine, client) == 0
    (request,) = receiver.requests
    assert request.path == "/hooks/optline"
    signing.verify(sub["secret"], request.body, request.headers[signing.HEADER])
    with pytest.raises(SignatureError):
        signing.verify(sub["secret"], request.body + b" ", request.headers[signing.HEADER])
    payload = json.loads(request.body)
    assert (payload["type"], payload["phone"]) == ("opted_out", BOB)
    assert request.headers[EVENT_ID_HEADER] == payload["id"]
    (row,) = notifications(engine)
    assert (row["state"], row["attempts"]) == ("done", 0)
    # The delivered event is the ledger's event.
    history = acme.ok("GET", f"/v1/contacts/{BOB}/history")
    assert history["events"][0]["hash"] == payload["hash"]


def test_a_failing_subscriber_is_retried_with_backoff(
    acme: Tenant, engine: Engine, receiver: Receiver, clock: Clock
) -> None:
    acme.ok("POST", "/v1/subscriptions", {"url": receiver.url, "events": ["opted_out"]}, 201)
    acme.ok("POST", f"/v1/contacts/{BOB}/opt-out")
    receiver.status = 500
    with httpx.Client(timeout=5) as client:
        assert drain(engine, client) == 1
        (row,) = notifications(engine)
        assert (row["state"], row["attempts"], row["last_error"]) == ("pending", 1, "HTTP 500")
        first_retry = row["next_attempt_at"]
        assert first_retry > clock.now
        assert drain(engine, client) == 0  # not due yet

        clock.now = first_retry + timedelta(seconds=1)
        assert drain(engine, client) == 1
        (row,) = notifications(engine)
        assert row["attempts"] == 2
        assert row["next_attempt_at"] > clock.now

        receiver.status = 204
        clock.now = row["next_attempt_at"]
        assert drain(engine, client) == 1
    (row,) = notifications(engine)
    assert row["state"] == "done" and row["delivered_at"] is not None
    assert len(receiver.requests) == 3
    ids = {r.headers[EVENT_ID_HEADER] for r in receiver.requests}
    assert len(ids) == 1  # the same event each time: receivers can de-duplicate


def test_backoff_doubles(acme: Tenant, engine: Engine, receiver: Receiver, clock: Clock) -> None:
    acme.ok("POST", "/v1/subscriptions", {"url": receiver.url, "events": ["blocked"]}, 201)
    acme.ok("POST", f"/v1/contacts/{BOB}/block")
    receiver.status = 503
    waits = []
    with httpx.Client(timeout=5) as client:
        for _ in range(3):
            assert drain(engine, client) == 1
            (row,) = notifications(engine)
            waits.append((row["next_attempt_at"] - clock.now).total_seconds())
            clock.now = row["next_attempt_at"]
    assert waits[0] > 0 and waits[1] == 2 * waits[0] and waits[2] == 2 * waits[1]


def test_the_notification_commits_with_the_change_or_not_at_all(
    acme: Tenant, engine: Engine
) -> None:
    acme.ok(
        "POST", "/v1/subscriptions", {"url": "http://127.0.0.1:9/x", "events": ["opted_out"]}, 201
    )
    rows = [
        ImportRow(1, BOB, Status.OPTED_OUT),
        ImportRow(2, EVE, Status.OPTED_OUT, lists=("nope",)),
    ]
    with pytest.raises(BadInput):
        engine.import_contacts("acme", rows)
    # BOB's opt-out was applied and queued inside the transaction, then rolled back.
    assert notifications(engine) == []
    assert acme.ok("GET", f"/v1/contacts/{BOB}/history")["events"] == []
    assert_problem(acme.get(f"/v1/contacts/{BOB}"), 404)

    engine.import_contacts("acme", rows[:1])
    (row,) = notifications(engine)
    (event,) = acme.ok("GET", f"/v1/contacts/{BOB}/history")["events"]
    assert row["event_seq"] == event["seq"]


def test_a_pass_over_an_outbox_with_nothing_due_takes_no_write_lock(
    acme: Tenant, engine: Engine, receiver: Receiver, clock: Clock
) -> None:
    """The worker looks every second; with nothing due it must not queue for the write
    lock that every inbound text of the process waits on."""
    acme.ok("POST", "/v1/subscriptions", {"url": receiver.url, "events": ["opted_out"]}, 201)
    acme.ok("POST", f"/v1/contacts/{BOB}/opt-out")
    receiver.status = 500
    with httpx.Client(timeout=5) as client:
        assert drain(engine, client) == 1  # failed: due again later, not now
        writes: list[int] = []

        def begun(conn: Any) -> None:
            if conn.get_execution_options().get("optline_write", True):
                writes.append(1)

        sa_event.listen(engine.store.engine, "begin", begun)
        try:
            assert drain(engine, client) == 0
            assert writes == []
            clock.now += timedelta(days=1)  # due now: the pass claims it, under the lock
            assert drain(engine, client) == 1
            assert writes != []
        finally:
            sa_event.remove(engine.store.engine, "begin", begun)


def test_each_signed_checkpoint_is_published_once_to_its_subscribers(
    acme: Tenant, engine: Engine, receiver: Receiver
) -> None:
    """Every subscription of every account that asked for ``checkpoint`` gets each
    checkpoint the sequencer signs, signed with its own secret; a pass that signs
    nothing publishes nothing."""
    watcher = acme.ok(
        "POST", "/v1/subscriptions", {"url": receiver.url, "events": ["checkpoint"]}, 201
    )
    acme.ok("POST", "/v1/subscriptions", {"url": receiver.url, "events": ["opted_out"]}, 201)
    other = new_tenant(acme.client, "other", senders=("+14155550177",))
    both = other.ok(
        "POST",
        "/v1/subscriptions",
        {"url": receiver.url, "events": ["checkpoint", "opted_in"]},
        201,
    )
    assert watcher["events"] == ["checkpoint"]
    acme.ok("POST", f"/v1/contacts/{BOB}/opt-out")
    with httpx.Client(timeout=5) as client:
        assert drain(engine, client) == 1  # the opt-out; nothing is signed yet
        made = engine.sequence_pending()
        assert made is not None
        assert drain(engine, client) == 2
        assert engine.sequence_pending() is None  # nothing new: nothing to publish
        assert drain(engine, client) == 0
    published = [r for r in receiver.requests if json.loads(r.body)["type"] == "checkpoint"]
    assert len(published) == 2
    secrets = {watcher["secret"], both["secret"]}
    for request in published:
        assert any(_signed_with(s, request) for s in secrets)
        payload = json.loads(request.body)
        assert request.headers[EVENT_ID_HEADER] == payload["id"] == f"checkpoint-{made.size}"
        keys = [verify_key(k) for k in payload["public_keys"]]
        assert open_checkpoint(payload["checkpoint"], keys) == made
        assert (payload["size"], payload["root"]) == (made.size, made.root.hex())
        assert payload["time"] == timestamp(made.time)
        assert payload["checkpoint"] == engine.newest_checkpoint()
        # Altered, it no longer checks with the published key.
        with pytest.raises(BadCheckpoint):
            open_checkpoint(payload["checkpoint"].replace("size ", "size 1"), keys)


def _signed_with(secret: str, request: Received) -> bool:
    try:
        signing.verify(secret, request.body, request.headers[signing.HEADER])
    except SignatureError:
        return False
    return True


def test_every_batch_queues_its_checkpoint_once_in_its_own_transaction(
    acme: Tenant, engine: Engine
) -> None:
    acme.ok(
        "POST", "/v1/subscriptions", {"url": "http://127.0.0.1:9/x", "events": ["checkpoint"]}, 201
    )
    for phone in (BOB, EVE, "+14155550999"):
        acme.ok("POST", f"/v1/contacts/{phone}/opt-out")
    sizes = []
    while (made := engine.sequence_log(limit=1)) is not None:
        sizes.append(made.size)
    queued = notifications(engine)
    assert [r["checkpoint_size"] for r in queued] == sizes and len(sizes) >= 3
    assert all(r["event_seq"] is None and r["state"] == "pending" for r in queued)
    with engine.store.read() as tx:
        assert [c.size for c in tx.log.checkpoints(0, sizes[-1])] == sizes


def test_the_outbox_upgrades_in_place_and_keeps_its_notifications(
    acme: Tenant, engine: Engine, receiver: Receiver
) -> None:
    """r0022 keys the outbox by a row id: the notifications on record keep their states
    and are still delivered; going back drops the checkpoints the old outbox cannot hold."""
    from alembic import command

    from optline.store.migrate import alembic_config

    acme.ok(
        "POST",
        "/v1/subscriptions",
        {"url": receiver.url, "events": ["opted_out", "checkpoint"]},
        201,
    )
    acme.ok("POST", f"/v1/contacts/{BOB}/opt-out")
    assert engine.sequence_pending() is not None
    assert [r["event_seq"] for r in notifications(engine)] == [1, None]
    config = alembic_config()
    with engine.store.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "r0019")
        conn.commit()
    with engine.store.engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT event_seq, state FROM notifications")).all()
    assert [tuple(r) for r in kept] == [(1, "pending")]
    with engine.store.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()
    (row,) = notifications(engine)
    assert (row["event_seq"], row["checkpoint_size"], row["state"]) == (1, None, "pending")
    acme.ok("POST", f"/v1/contacts/{EVE}/opt-out")
    assert engine.sequence_pending() is not None
    with httpx.Client(timeout=5) as client:
        assert drain(engine, client) == 3
    assert [json.loads(r.body)["type"] for r in receiver.requests].count("checkpoint") == 1
