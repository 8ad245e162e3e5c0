"""A fake SMS provider on 127.0.0.1 for adapter tests.

Answers Twilio's ``POST /2010-04-01/Accounts/{sid}/Messages.json`` and Telnyx's
``POST /v2/messages`` from a script of :class:`Reply` objects (one per request, then
success), in each provider's own JSON shapes, and records every request.

    with FakeProvider() as fake:
        fake.script(Reply.server_error(), Reply.ok("SM1"))
        adapter = TwilioAdapter("AC1", "token", base_url=fake.url)
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

TWILIO_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
TELNYX_PATH = "/v2/messages"


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``kind``: ok, opted_out, error, raw; ``delay`` seconds first."""

    kind: str = "ok"
    message_id: str | None = None
    status: int = 200
    code: str | None = None
    delay: float = 0.0
    body: Any = None

    @classmethod
    def ok(cls, message_id: str | None = None) -> Reply:
        return cls("ok", message_id=message_id)

    @classmethod
    def opted_out(cls) -> Reply:
        return cls("opted_out", status=400)

    @classmethod
    def error(cls, status: int, code: str | None = None) -> Reply:
        return cls("error", status=status, code=code)

    @classmethod
    def raw(cls, status: int, body: Any) -> Reply:
        """Answer ``body`` as JSON (or as-is when it is bytes), whatever the path."""
        return cls("raw", status=status, body=body)

    @classmethod
    def server_error(cls) -> Reply:
        return cls.error(500)

    @classmethod
    def slow(cls, seconds: float, then: Reply | None = None) -> Reply:
        base = then or cls.ok()
        return cls(base.kind, base.message_id, base.status, base.code, seconds, base.body)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    form: dict[str, list[str]] = field(default_factory=dict)
    json: Any = None


def _twilio_body(reply: Reply, sid: str, form: dict[str, list[str]], mid: str) -> tuple[int, Any]:
    first = {k: v[0] for k, v in form.items()}
    if reply.kind == "ok":
        return 201, {
            "sid": mid,
            "account_sid": sid,
            "from": first.get("From"),
            "to": first.get("To"),
            "body": first.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{sid}/Messages/{mid}.json",
        }
    if reply.kind == "opted_out":
        code, message, status = 21610, "Attempt to send to unsubscribed recipient", 400
    else:
        code = int(reply.code) if reply.code else 20500
        message, status = "Scripted failure", reply.status
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _telnyx_body(reply: Reply, payload: Any, mid: str) -> tuple[int, Any]:
    payload = payload if isinstance(payload, dict) else {}
    if reply.kind == "ok":
        return 200, {
            "data": {
                "record_type": "message",
                "id": mid,
                "direction": "outbound",
                "type": "SMS",
                "from": {"phone_number": payload.get("from"), "carrier": "", "line_type": ""},
                "to": [{"phone_number": payload.get("to"), "status": "queued"}],
                "text": payload.get("text"),
                "errors": [],
            }
        }
    if reply.kind == "opted_out":
        code, title, status = "40300", "Blocked due to STOP message", 400
    else:
        code, title, status = reply.code or "10007", "Scripted failure", reply.status
    error = {"code": code, "title": title, "detail": title, "meta": {}}
    return status, {"errors": [error]}


class FakeProvider:
    """Threaded HTTP server on a free loopback port; use as a context manager."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        # Called with each request as it arrives, before it is answered (in the
        # server's thread): lets a test make something happen mid-send.
        self.on_request: Callable[[Recorded], None] | None = None
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        # Client connections the server holds open now (kept alive between requests).
        self._open = 0
        self._connections = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll interval keeps shutdown (once per test) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *replies: Reply) -> None:
        """Queue answers for the next requests; after them every request succeeds."""
        with self._lock:
            self._script.extend(replies)

    @property
    def open_connections(self) -> int:
        with self._connections:
            return self._open

    def wait_for_open_connections(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until the server holds ``count`` client connections open (a connection the
        client closed ends once its handler reads the end of it)."""
        with self._connections:
            return self._connections.wait_for(lambda: self._open == count, timeout)

    def _connection_opened(self, change: int) -> None:
        with self._connections:
            self._open += change
            self._connections.notify_all()

    def start(self) -> FakeProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # cut scripted delays short
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next(self, request: Recorded) -> Reply:
        if self.on_request is not None:
            self.on_request(request)
        with self._lock:
            self.requests.append(request)
            return self._script.pop(0) if self._script else Reply.ok()

    def _answer(self, path: str, request: Recorded, reply: Reply) -> tuple[int, Any]:
        if reply.kind == "raw":
            return reply.status, reply.body
        mid = reply.message_id or f"fake-{next(self._ids)}"
        twilio = TWILIO_PATH.match(path)
        if twilio:
            return _twilio_body(reply, twilio["sid"], request.form, "SM" + mid)
        if path == TELNYX_PATH:
            return _telnyx_body(reply, request.json, mid)
        return 404, {"errors": [{"code": "404", "title": "Not found"}]}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The status line and headers go out in one write and the body in another:
            # with Nagle's algorithm on, the body would wait for the client's delayed
            # ACK (about 40 ms on Linux) on every kept-alive connection.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

            def setup(self) -> None:
                super().setup()
                fake._connection_opened(1)

            def finish(self) -> None:
                fake._connection_opened(-1)
                super().finish()

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorded = Recorded("POST", self.path, dict(self.headers.items()), raw)
                ctype = self.headers.get("Content-Type", "")
                if ctype.startswith("application/x-www-form-urlencoded"):
                    recorded.form = parse_qs(raw.decode(), keep_blank_values=True)
                elif ctype.startswith("application/json"):
                    recorded.json = json.loads(raw or b"null")
                reply = fake._next(recorded)
                if reply.delay and fake._stopping.wait(reply.delay):
                    return
                status, body = fake._answer(self.path, recorded, reply)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        return Handler


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake
