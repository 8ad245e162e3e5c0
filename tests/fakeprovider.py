"""A fake SMS provider on 127.0.0.1 for adapter tests.

Answers Twilio's ``POST /2010-04-01/Accounts/{sid}/Messages.json`` and Telnyx's
``POST /v2/messages`` from a script of :class:`Reply` objects (one per request, then
success), in each provider's own JSON shapes, and records every request. Twilio's
``GET .../Messages/{Sid}.json`` (fetch) and ``GET .../Messages.json`` (list, by To,
From and DateSent) answer from the messages it took and those a test adds
(:meth:`FakeProvider.add_twilio_message`), as Twilio's API would.

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
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

TWILIO_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
TWILIO_MESSAGE = re.compile(
    r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages/(?P<message>[^/]+)\.json$"
)
TELNYX_PATH = "/v2/messages"
# The number a Messaging Service sends from, here.
SERVICE_NUMBER = "+15005550006"


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
    query: dict[str, list[str]] = field(default_factory=dict)


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
        # Twilio's records of the messages it took (and those a test adds), by SID.
        self.twilio_messages: dict[str, dict[str, Any]] = {}
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

    def add_twilio_message(
        self,
        to: str,
        from_: str,
        body: str,
        *,
        status: str = "delivered",
        at: datetime | None = None,
        error_code: int | None = None,
        error_message: str | None = None,
        sid: str | None = None,
        account_sid: str = "AC" + "1" * 32,
        messaging_service_sid: str | None = None,
    ) -> str:
        """A message Twilio holds a record of (sent ``at``, default now); its SID."""
        mid = sid or f"SMadded{next(self._ids)}"
        when = format_datetime(at or datetime.now(UTC))
        with self._lock:
            self.twilio_messages[mid] = {
                "sid": mid,
                "account_sid": account_sid,
                "from": from_,
                "to": to,
                "body": body,
                "status": status,
                "direction": "outbound-api",
                "date_created": when,
                "date_sent": when,
                "date_updated": when,
                "error_code": error_code,
                "error_message": error_message,
                "messaging_service_sid": messaging_service_sid,
                "num_segments": "1",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{mid}.json",
            }
        return mid

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
        if request.method == "GET":
            return self._twilio_read(path, request, reply)
        mid = reply.message_id or f"fake-{next(self._ids)}"
        twilio = TWILIO_PATH.match(path)
        if twilio:
            status, body = _twilio_body(reply, twilio["sid"], request.form, "SM" + mid)
            if status == 201:  # Twilio keeps a record of what it took, sent at once
                form = {k: v[0] for k, v in request.form.items()}
                service = form.get("MessagingServiceSid")
                self.add_twilio_message(
                    form.get("To", ""),
                    form.get("From") or SERVICE_NUMBER,  # a service picks the number
                    form.get("Body", ""),
                    status="queued",
                    sid=body["sid"],
                    account_sid=twilio["sid"],
                    messaging_service_sid=service,
                )
            return status, body
        if path == TELNYX_PATH:
            return _telnyx_body(reply, request.json, mid)
        return 404, {"errors": [{"code": "404", "title": "Not found"}]}

    def _twilio_read(self, path: str, request: Recorded, reply: Reply) -> tuple[int, Any]:
        """Twilio's fetch of one message, or its list filtered by To, From and
        DateSent (``DateSent>``: on or after, ``DateSent<``: on or before)."""
        if reply.kind == "error":
            return _twilio_body(reply, "", {}, "")
        one, many = TWILIO_MESSAGE.match(path), TWILIO_PATH.match(path)
        with self._lock:
            held = [dict(m) for m in self.twilio_messages.values()]
        if one:
            found = [m for m in held if m["sid"] == one["message"]]
            if found:
                return 200, found[0]
            return 404, {
                "code": 20404,
                "message": f"The requested resource {path} was not found",
                "more_info": "https://www.twilio.com/docs/errors/20404",
                "status": 404,
            }
        if not many:
            return 404, {"errors": [{"code": "404", "title": "Not found"}]}
        query = {k: v[0] for k, v in request.query.items()}
        after, before = query.get("DateSent>"), query.get("DateSent<")
        listed = [
            m
            for m in held
            if query.get("To") in (None, m["to"])
            and query.get("From") in (None, m["from"])
            and (after is None or _sent(m) >= _iso(after))
            and (before is None or _sent(m) <= _iso(before))
        ]
        listed.sort(key=_sent, reverse=True)  # Twilio lists the newest first
        uri = path + "?" + urlsplit(request.path).query
        return 200, {
            "messages": listed,
            "page": 0,
            "page_size": len(listed),
            "start": 0,
            "end": max(len(listed) - 1, 0),
            "uri": uri,
            "first_page_uri": uri,
            "next_page_uri": None,
            "previous_page_uri": None,
        }

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
                self._respond(recorded)

            def do_GET(self) -> None:
                recorded = Recorded("GET", self.path, dict(self.headers.items()), b"")
                recorded.query = parse_qs(urlsplit(self.path).query)
                self._respond(recorded)

            def _respond(self, recorded: Recorded) -> None:
                reply = fake._next(recorded)
                if reply.delay and fake._stopping.wait(reply.delay):
                    return
                status, body = fake._answer(urlsplit(self.path).path, recorded, reply)
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


def _sent(message: dict[str, Any]) -> datetime:
    return datetime.strptime(message["date_sent"], "%a, %d %b %Y %H:%M:%S %z")


def _iso(text: str) -> datetime:
    """A DateSent filter's time, as the twilio SDK writes it (or a bare date)."""
    if len(text) == 10:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
