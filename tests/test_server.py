"""Against a real server: ``optline serve --workers 2`` on loopback, SQLite and PostgreSQL.

Two promises are checked from the outside, through HTTP only:

* Concurrent STOPs (the generic webhook) and sends (``POST /v1/messages``) for the
  same contacts never let a send through after its contact's STOP committed. Every
  write for one contact holds that contact's lock (PostgreSQL) or the database's write
  lock (SQLite) while it inserts its message row, so message ids follow the order in
  which the writes took the lock. Per contact, every send recorded before the STOP's
  inbound message must have been allowed and every send recorded after it refused
  with ``opted_out``; its refusal events must follow the opt-out in the ledger; and a
  send that started after the STOP's 200 arrived must be refused, whatever the ids.
* A STOP answered 200 survives ``kill -9`` of the whole server: restarted on the same
  database, the contact is opted out once, the chain verifies and the provider's
  retry of the same message is recognised as a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from account_support import HELP_CONTACT

from optline.providers import signing

ADMIN_KEY = "admin-test-key-0123456789"
SECRET = "generic-webhook-secret"
SENDER = "+12025550100"
TEXT = "Your appointment is tomorrow at 10:00."
START_TIMEOUT = 90.0  # generous: a loaded machine starts two workers slowly
REQUEST_TIMEOUT = 20.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _optline_command() -> list[str]:
    script = Path(sys.executable).with_name("optline")
    if script.exists():
        return [str(script)]
    found = shutil.which("optline")
    if found:
        return [found]
    return [sys.executable, "-c", "from optline.cli import main; main()"]


@dataclass
class Server:
    """One ``optline serve`` process group on a loopback port."""

    db_url: str
    log: Path
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPTLINE_")}
        env["OPTLINE_ADMIN_KEY"] = ADMIN_KEY
        command = [
            *_optline_command(),
            "--db",
            self.db_url,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "2",
        ]
        with self.log.open("ab") as out:
            # Its own session, so the parent and both workers die with one killpg.
            self.proc = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited early:\n{self.log_tail()}", pytrace=False)
            try:
                # Any answer will do: unauthenticated gets 401 once a worker is up.
                httpx.get(f"{self.base}/v1/account", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        self.kill()
        pytest.fail(f"server did not answer in {START_TIMEOUT} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the whole process group and wait for the parent."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        try:
            self.proc.wait(timeout=10)
        finally:
            self.proc = None

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


@dataclass
class Live:
    """A running server on a database of one backend, shared by this module's tests."""

    db_url: str
    log: Path
    server: Server

    def restart(self) -> Server:
        self.server.kill()
        self.server = Server(self.db_url, self.log)
        self.server.start()
        return self.server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """A fresh database and a server on it (starting one costs seconds, so the module
    shares it); the server is killed before the database is dropped."""
    root = tmp_path_factory.mktemp(f"server-{request.param}")
    pool = None
    name = ""
    if request.param == "sqlite":
        path = root / "optline.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        pool = request.getfixturevalue("postgres_databases")
        name = pool.take()
        url = pool.server.url(name)
    live = Live(url, root / "server.log", Server(url, root / "server.log"))
    try:
        live.server.start()
        yield live
    finally:
        try:
            live.server.kill()
        finally:
            if pool is not None:
                pool.give_back(name)


# -- API helpers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    key: str
    sender: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def _tenant(base: str, name: str, sender: str) -> Tenant:
    """A new account with a generic-webhook sender (no outbound provider, so allowed
    texts are decided and recorded only)."""
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as client:
        # Texts to numbers with no consent on record allowed, so that sends to new
        # numbers race to create their rows (the default profile would refuse them).
        account = {"name": name, "overrides": {"no_consent": "allow", **HELP_CONTACT}}
        made = client.post(
            "/v1/accounts", json=account, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        )
        assert made.status_code == 201, made.text
        tenant = Tenant(made.json()["api_key"], sender)
        added = client.post(
            "/v1/senders",
            json={"number": sender, "provider": "generic", "credentials": {"secret": SECRET}},
            headers=tenant.auth,
        )
        assert added.status_code == 201, added.text
        return tenant


async def _stop(
    client: httpx.AsyncClient, tenant: Tenant, message_id: str, phone: str
) -> httpx.Response:
    """The gateway delivers an inbound STOP, signed."""
    body = json.dumps({"id": message_id, "from": phone, "to": tenant.sender, "text": "STOP"})
    raw = body.encode()
    headers = {"Content-Type": "application/json", signing.HEADER: signing.sign(SECRET, raw)}
    return await client.post("/webhooks/generic", content=raw, headers=headers)


async def _send(client: httpx.AsyncClient, tenant: Tenant, phone: str) -> httpx.Response:
    return await client.post(
        "/v1/messages",
        json={"from": tenant.sender, "to": phone, "body": TEXT},
        headers=tenant.auth,
    )


def _get(base: str, tenant: Tenant, path: str) -> Any:
    response = httpx.get(f"{base}{path}", headers=tenant.auth, timeout=REQUEST_TIMEOUT)
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
    return response.json()


def _verified(base: str, tenant: Tenant) -> int:
    """The account's chain verifies; the number of events checked."""
    verdict = _get(base, tenant, "/v1/ledger/verify")
    assert verdict["ok"], verdict
    checked: int = verdict["checked"]
    return checked


# -- concurrency ---------------------------------------------------------------------------

CONTACTS = 24  # in waves of WAVE contacts, all of a wave's requests at once
WAVE = 6
SENDS_PER_CONTACT = 12
POOL = 32  # connections
LOAD_BUDGET = 25.0  # seconds for the whole load phase


@dataclass
class SendOutcome:
    phone: str
    started: float
    status: str
    reason: str | None
    message_id: int


@dataclass
class StopOutcome:
    phone: str
    message_id: str
    answered: float  # when the first 200 for this STOP arrived (it is delivered twice)


async def _wave(
    client: httpx.AsyncClient, tenant: Tenant, phones: list[str], rng: random.Random
) -> tuple[list[SendOutcome], list[StopOutcome]]:
    """Every contact of the wave: SENDS_PER_CONTACT sends and one STOP delivered twice
    (a provider retry racing the original), started in a shuffled order two
    milliseconds apart; and one more send per contact the moment its STOP is
    answered, racing the sends still in flight."""
    plan: list[tuple[str, str]] = []
    for phone in phones:
        plan += [("send", phone)] * SENDS_PER_CONTACT + [("stop", phone)] * 2
    rng.shuffle(plan)
    sends: list[SendOutcome] = []
    answered: dict[str, list[float]] = {p: [] for p in phones}
    stopped = {p: asyncio.Event() for p in phones}

    async def send(phone: str) -> None:
        # Taken before the request is written and after the STOP's answer was read,
        # both errors make the timing check weaker, never wrong.
        started = time.monotonic()
        response = await _send(client, tenant, phone)
        assert response.status_code == 200, response.text
        data = response.json()
        sends.append(
            SendOutcome(phone, started, data["status"], data["reason"], data["message_id"])
        )

    async def one(kind: str, phone: str, delay: float) -> None:
        await asyncio.sleep(delay)
        if kind == "send":
            await send(phone)
            return
        response = await _stop(client, tenant, f"SM-{phone}", phone)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "opted_out", response.text
        answered[phone].append(time.monotonic())
        stopped[phone].set()

    async def after_stop(phone: str) -> None:
        await stopped[phone].wait()
        await send(phone)

    await asyncio.gather(
        *(one(kind, phone, i * 0.002) for i, (kind, phone) in enumerate(plan)),
        *(after_stop(phone) for phone in phones),
    )
    return sends, [StopOutcome(p, f"SM-{p}", min(times)) for p, times in answered.items()]


async def _race(
    base: str, tenant: Tenant, phones: list[str]
) -> tuple[list[SendOutcome], list[StopOutcome]]:
    rng = random.Random(20250411)
    limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
    sends: list[SendOutcome] = []
    stops: list[StopOutcome] = []
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=REQUEST_TIMEOUT) as client:
        # Half the contacts exist before the race (one allowed text), half are new, so
        # both locking an existing row and racing to create one are exercised.
        for phone in phones[::2]:
            data = (await _send(client, tenant, phone)).json()
            assert data["status"] == "sent", data
            sends.append(SendOutcome(phone, 0.0, "sent", None, data["message_id"]))
        for start in range(0, len(phones), WAVE):
            wave_sends, wave_stops = await _wave(client, tenant, phones[start : start + WAVE], rng)
            sends += wave_sends
            stops += wave_stops
    return sends, stops


def test_no_send_after_a_committed_stop(live: Live) -> None:
    base = live.server.base
    tenant = _tenant(base, "race", "+12025550100")
    phones = [f"+1415555{2000 + i:04d}" for i in range(CONTACTS)]

    sends, stops = asyncio.run(asyncio.wait_for(_race(base, tenant, phones), LOAD_BUDGET))

    by_phone: dict[str, list[SendOutcome]] = {p: [] for p in phones}
    for send in sends:
        by_phone[send.phone].append(send)
    stop_of = {s.phone: s for s in stops}
    started_after_answer = 0
    total_events = 0
    for phone in phones:
        history = _get(base, tenant, f"/v1/contacts/{phone}/history")
        events, messages = history["events"], history["messages"]
        total_events += len(events)
        stop = stop_of[phone]

        # The STOP, delivered twice, was applied once: one inbound message, one opt-out.
        inbound = [m for m in messages if m["direction"] == "in"]
        assert [m["provider_id"] for m in inbound] == [stop.message_id], inbound
        stop_message = inbound[0]["id"]
        opt_outs = [e for e in events if e["type"] == "opted_out"]
        assert len(opt_outs) == 1, events

        # Lock order: every send recorded before the STOP's message was allowed (and
        # sent, unless the STOP committed before its hand-over: then refused there),
        # every one recorded after it refused; the record says what the response said.
        recorded = {m["id"]: m for m in messages if m["direction"] == "out"}
        for send in by_phone[phone]:
            row = recorded.pop(send.message_id)
            assert (row["status"], row["reason"]) == (send.status, send.reason), (row, send)
            if send.message_id < stop_message:
                assert send.status == "sent" or (send.status, send.reason) == (
                    "failed",
                    "opted_out",
                ), f"{phone}: refused before its STOP: {send}"
            else:
                assert (send.status, send.reason) == ("failed", "opted_out"), (
                    f"{phone}: send {send.message_id}, recorded after STOP message "
                    f"{stop_message}, was let through: {send}"
                )
            # Wall-clock order, whatever the ids: started after the STOP was answered.
            if send.started > stop.answered:
                started_after_answer += 1
                assert send.status == "failed", f"{phone}: sent after STOP answered: {send}"
        # Left over: the STOP's one confirmation.
        assert len(recorded) == 1, recorded

        # Each refusal is in the ledger, after the opt-out.
        refused = [s for s in by_phone[phone] if s.status == "failed"]
        refusals = [e for e in events if e["type"] == "send_refused"]
        assert len(refusals) == len(refused), events
        assert all(e["seq"] > opt_outs[0]["seq"] for e in refusals), events
        assert _get(base, tenant, f"/v1/contacts/{phone}")["status"] == "opted_out"

    # Both outcomes and the timing check were exercised, so the test could have failed.
    assert any(s.status == "sent" for s in sends)
    assert any(s.status == "failed" for s in sends)
    assert started_after_answer >= CONTACTS
    # The chain is sound and holds exactly the events the histories show.
    assert _verified(base, tenant) == total_events


# -- durability ----------------------------------------------------------------------------

CRASHES = 3
MIN_CRASHES = 2
STOPS_PER_CRASH = 6
CRASH_BUDGET = 20.0  # seconds; past it, no crash beyond MIN_CRASHES is started


async def _stops_then_kill(
    server: Server, tenant: Tenant, batch: list[tuple[str, str]]
) -> set[str]:
    """Deliver the batch's STOPs at once and kill -9 the server's whole process group
    the moment the first 200 arrives; the phones whose STOP was answered 200."""
    answered: set[str] = set()
    async with httpx.AsyncClient(base_url=server.base, timeout=REQUEST_TIMEOUT) as client:
        phone_of = {
            asyncio.create_task(_stop(client, tenant, message_id, phone)): phone
            for message_id, phone in batch
        }
        pending: set[asyncio.Task[httpx.Response]] = set(phone_of)
        killed = False
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is not None:
                    assert killed, f"request failed before the kill: {task.exception()!r}"
                    continue
                response = task.result()
                assert response.status_code == 200, response.text
                answered.add(phone_of[task])
            if answered and not killed:
                server.kill()
                killed = True
    return answered


async def _redeliver(base: str, tenant: Tenant, batch: list[tuple[str, str]]) -> list[Any]:
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT) as client:
        responses = await asyncio.gather(*(_stop(client, tenant, m, p) for m, p in batch))
    for response in responses:
        assert response.status_code == 200, response.text
    return [r.json() for r in responses]


def test_answered_stop_survives_kill_9(live: Live) -> None:
    tenant = _tenant(live.server.base, "crash", "+12025550101")
    began = time.monotonic()
    answered_ever: set[str] = set()
    for crash in range(CRASHES):
        # Bounded in time too: on a slow machine, stop after the minimum.
        if crash >= MIN_CRASHES and time.monotonic() - began > CRASH_BUDGET:
            break
        batch = [
            (f"SM-crash-{crash}-{i}", f"+1617555{crash:02d}{i:02d}") for i in range(STOPS_PER_CRASH)
        ]
        answered = asyncio.run(asyncio.wait_for(_stops_then_kill(live.server, tenant, batch), 30))
        assert answered, "no STOP was answered before the kill"
        answered_ever |= answered

        base = live.restart().base
        # Every STOP answered before the crash is there, and the chain verifies.
        for phone in answered:
            assert _get(base, tenant, f"/v1/contacts/{phone}")["status"] == "opted_out"
        _verified(base, tenant)

        # The gateway retries what it got no answer for (here: everything). Answered
        # ones are duplicates; afterwards every contact is opted out exactly once.
        outcomes = asyncio.run(_redeliver(base, tenant, batch))
        for (_id, phone), outcome in zip(batch, outcomes, strict=True):
            assert outcome["status"] == "opted_out", outcome
            if phone in answered:
                assert outcome["duplicate"] is True, (phone, outcome)
        for _id, phone in batch:
            history = _get(base, tenant, f"/v1/contacts/{phone}/history")
            assert [e["type"] for e in history["events"]].count("opted_out") == 1, history
            assert sum(m["direction"] == "in" for m in history["messages"]) == 1, history
        _verified(base, tenant)

    # None of them can be texted after all the crashes.
    async def sends() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live.server.base, timeout=REQUEST_TIMEOUT) as c:
            return await asyncio.gather(*(_send(c, tenant, p) for p in sorted(answered_ever)))

    for response in asyncio.run(sends()):
        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.json()["reason"]) == ("failed", "opted_out")
    _verified(live.server.base, tenant)
