"""Outbound adapters against the fake provider server on loopback."""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fakeprovider import FakeProvider, Reply

from optline.providers import OutboundAdapter, ProviderError, ProviderOptedOut, RetryPolicy
from optline.providers.base import SentText
from optline.providers.retry import ProviderUnavailable, RetryingAdapter
from optline.providers.telnyx import TelnyxAdapter
from optline.providers.twilio import TwilioAdapter

FAST = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02, timeout=0.25)
SID = "AC0123456789abcdef0123456789abcdef"
SENDER, RECIPIENT = "+14155550199", "+14155550100"


def twilio_adapter(base_url: str) -> TwilioAdapter:
    return TwilioAdapter(SID, "auth-token", base_url=base_url, retry=FAST)


def telnyx_adapter(base_url: str) -> TelnyxAdapter:
    return TelnyxAdapter("KEY0123", base_url=base_url, retry=FAST)


ADAPTERS: list[Callable[[str], OutboundAdapter]] = [twilio_adapter, telnyx_adapter]
BOTH = pytest.mark.parametrize("make", ADAPTERS, ids=["twilio", "telnyx"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- provider-specific requests -------------------------------------------------------


def test_twilio_success_request_shape(fake: FakeProvider) -> None:
    fake.script(Reply.ok("1a2b"))
    assert twilio_adapter(fake.url).send(SENDER, RECIPIENT, "Hi Ana, see you at 9") == "SM1a2b"
    (request,) = fake.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.form == {"From": [SENDER], "To": [RECIPIENT], "Body": ["Hi Ana, see you at 9"]}
    expected = base64.b64encode(f"{SID}:auth-token".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


def test_twilio_messaging_service_and_status_callback(fake: FakeProvider) -> None:
    adapter = TwilioAdapter(
        SID, "t", base_url=fake.url + "/", retry=FAST, status_callback="https://x.example/s"
    )
    adapter.send("MG0123456789abcdef0123456789abcdef", RECIPIENT, "hello")
    form = fake.requests[0].form
    assert form["MessagingServiceSid"] == ["MG0123456789abcdef0123456789abcdef"]
    assert "From" not in form
    assert form["StatusCallback"] == ["https://x.example/s"]


def test_twilio_ignores_region_environment(
    fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    assert twilio_adapter(fake.url).send(SENDER, RECIPIENT, "x").startswith("SM")


def test_twilio_looks_a_text_up_by_its_sid_or_by_numbers_body_and_time(
    fake: FakeProvider,
) -> None:
    adapter = twilio_adapter(fake.url)
    now = datetime.now(UTC)
    sid = adapter.send(SENDER, RECIPIENT, "Your order shipped")
    fake.twilio_messages[sid].update(status="undelivered", error_code=30005)
    text = SentText(SENDER, RECIPIENT, "Your order shipped", now)
    (found,) = adapter.look_up(text)
    assert (found.provider_id, found.status, found.error_code, found.opted_out) == (
        sid,
        "undelivered",
        "30005",
        False,
    )
    assert adapter.look_up(SentText(SENDER, RECIPIENT, "x", now, provider_id=sid)) == [found]
    fake.requests.clear()
    assert adapter.look_up(SentText(SENDER, RECIPIENT, "Another text", now)) == []
    assert adapter.look_up(SentText(SENDER, RECIPIENT, "x", now, provider_id="SMgone")) == []
    later = now + timedelta(hours=2)  # recorded long after Twilio sent it: another text
    assert adapter.look_up(SentText(SENDER, RECIPIENT, "Your order shipped", later)) == []
    listing = fake.requests[0]
    assert listing.path.startswith(f"/2010-04-01/Accounts/{SID}/Messages.json?")
    assert listing.query["To"] == [RECIPIENT] and listing.query["From"] == [SENDER]
    assert fake.requests[1].path == f"/2010-04-01/Accounts/{SID}/Messages/SMgone.json"


def test_twilio_looks_up_a_messaging_service_text_by_its_service(fake: FakeProvider) -> None:
    adapter = twilio_adapter(fake.url)
    service = "MG0123456789abcdef0123456789abcdef"
    sid = adapter.send(service, RECIPIENT, "hello")
    fake.requests.clear()
    (found,) = adapter.look_up(SentText(service, RECIPIENT, "hello", datetime.now(UTC)))
    assert found.provider_id == sid
    assert "From" not in fake.requests[0].query


def test_twilio_look_up_failures(fake: FakeProvider) -> None:
    adapter = twilio_adapter(fake.url)
    text = SentText(SENDER, RECIPIENT, "hi", datetime.now(UTC))
    fake.script(Reply.error(401, "20003"))
    with pytest.raises(ProviderError, match="HTTP 401") as refused:
        adapter.look_up(text)
    assert not isinstance(refused.value, ProviderUnavailable) and len(fake.requests) == 1
    fake.script(*[Reply.server_error()] * FAST.attempts)
    with pytest.raises(ProviderUnavailable, match="gave up after 3 attempts"):
        adapter.look_up(text)
    fake.script(Reply.raw(200, {"messages": [{"to": RECIPIENT}]}))
    with pytest.raises(ProviderError):
        adapter.look_up(SentText(SENDER, RECIPIENT, "hi", text.at, provider_id="SMx"))


def test_telnyx_success_request_shape(fake: FakeProvider) -> None:
    fake.script(Reply.ok("40385f64-5717-4562-b3fc-2c963f66afa6"))
    with TelnyxAdapter("KEY0123", base_url=fake.url, retry=FAST) as adapter:
        message_id = adapter.send(SENDER, RECIPIENT, "Arrêt reçu ✓")
    assert message_id == "40385f64-5717-4562-b3fc-2c963f66afa6"
    (request,) = fake.requests
    assert request.path == "/v2/messages"
    assert request.json == {"from": SENDER, "to": RECIPIENT, "text": "Arrêt reçu ✓"}
    assert request.headers["Authorization"] == "Bearer KEY0123"


def test_telnyx_messaging_profile(fake: FakeProvider) -> None:
    TelnyxAdapter("k", base_url=fake.url, retry=FAST, messaging_profile_id="mp-1").send(
        SENDER, RECIPIENT, "x"
    )
    assert fake.requests[0].json["messaging_profile_id"] == "mp-1"


# -- behaviour shared by both adapters ------------------------------------------------


@BOTH
def test_opted_out_raises_and_is_not_retried(
    fake: FakeProvider, make: Callable[[str], OutboundAdapter]
) -> None:
    fake.script(Reply.opted_out())
    with pytest.raises(ProviderOptedOut) as caught:
        make(fake.url).send(SENDER, RECIPIENT, "Sale today!")
    assert caught.value.code in {"21610", "40300"}
    assert len(fake.requests) == 1


@BOTH
def test_server_error_then_success_is_retried(
    fake: FakeProvider, make: Callable[[str], OutboundAdapter]
) -> None:
    fake.script(Reply.server_error(), Reply.error(503), Reply.ok("ok9"))
    assert make(fake.url).send(SENDER, RECIPIENT, "x").endswith("ok9")
    assert len(fake.requests) == 3


@BOTH
def test_persistent_server_error_gives_up(
    fake: FakeProvider, make: Callable[[str], OutboundAdapter]
) -> None:
    fake.script(*[Reply.server_error()] * 5)
    with pytest.raises(ProviderUnavailable) as caught:
        make(fake.url).send(SENDER, RECIPIENT, "x")
    assert caught.value.status == 500
    assert len(fake.requests) == FAST.attempts


@BOTH
@pytest.mark.parametrize(("status", "code"), [(400, "21211"), (401, "20003"), (429, "20429")])
def test_client_error_is_not_retried(
    fake: FakeProvider, make: Callable[[str], OutboundAdapter], status: int, code: str
) -> None:
    fake.script(Reply.error(status, code))
    with pytest.raises(ProviderError) as caught:
        make(fake.url).send(SENDER, RECIPIENT, "x")
    assert not isinstance(caught.value, ProviderOptedOut | ProviderUnavailable)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert len(fake.requests) == 1


@BOTH
def test_timeout_then_success_is_retried(
    fake: FakeProvider, make: Callable[[str], OutboundAdapter]
) -> None:
    fake.script(Reply.slow(2), Reply.ok("late"))
    assert make(fake.url).send(SENDER, RECIPIENT, "x").endswith("late")
    assert len(fake.requests) == 2


@BOTH
def test_timeouts_are_retried_then_fail(
    fake: FakeProvider, make: Callable[[str], OutboundAdapter]
) -> None:
    fake.script(*[Reply.slow(2)] * 3)
    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"unreachable.*after 3 attempts"):
        make(fake.url).send(SENDER, RECIPIENT, "x")
    assert len(fake.requests) == 3
    assert time.monotonic() - started < 2  # bounded by the policy, not the server


@BOTH
def test_connection_refused_is_retried_then_fails(make: Callable[[str], OutboundAdapter]) -> None:
    with pytest.raises(ProviderUnavailable, match="unreachable"):
        make(f"http://127.0.0.1:{free_port()}").send(SENDER, RECIPIENT, "x")


@BOTH
@pytest.mark.parametrize(
    "body", [{}, {"data": {}}, {"sid": None}, [], b"<html>gateway</html>", {"data": {"id": 7}}]
)
def test_success_without_an_id_is_an_error(
    fake: FakeProvider, make: Callable[[str], OutboundAdapter], body: object
) -> None:
    fake.script(Reply.raw(200, body))
    with pytest.raises(ProviderError) as caught:
        make(fake.url).send(SENDER, RECIPIENT, "x")
    assert not isinstance(caught.value, ProviderUnavailable)
    assert len(fake.requests) == 1


@BOTH
def test_closing_an_adapter_closes_its_connections(
    fake: FakeProvider, make: Callable[[str], OutboundAdapter]
) -> None:
    adapter = make(fake.url)
    assert isinstance(adapter, RetryingAdapter)
    with adapter:
        adapter.send(SENDER, RECIPIENT, "one")
        adapter.send(SENDER, RECIPIENT, "two")
        # Both texts went over one kept-alive connection, still open between sends.
        assert fake.wait_for_open_connections(1)
        assert len(fake.requests) == 2
    # Closing the adapter closed it: the server saw the connection end.
    assert fake.wait_for_open_connections(0), fake.open_connections
