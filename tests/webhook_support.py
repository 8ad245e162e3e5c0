"""Helpers for the provider webhook tests: the real app on real databases (SQLite and PostgreSQL).

Only the providers' remote APIs are replaced, by the fake provider on loopback. Each
request is built and signed the way the provider builds and signs it: Twilio with the
SDK's ``RequestValidator``, Telnyx with an Ed25519 key made here, the generic gateway
with optline's own HMAC scheme. Holds no tests itself; the ``world`` and
``default_world`` fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import base64
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa
from account_support import HELP_CONTACT
from fakeprovider import FakeProvider
from fastapi.testclient import TestClient
from nacl.signing import SigningKey
from twilio.request_validator import RequestValidator

from optline.api.app import Settings, create_app
from optline.domain.consent_codes import Status
from optline.engine import Engine
from optline.providers import signing
from optline.providers.base import RetryPolicy
from optline.providers.registry import Dispatcher
from optline.store import Store

ACME = "acme"
TW = "+14155550100"  # Twilio long code
TW_B = "+14155550101"  # second Twilio long code
TW_QUIET = "+14155550102"  # Twilio number whose STOP/HELP replies Twilio sends itself
TX = "+14155550103"  # Telnyx long code
GEN = "+14155550104"  # in-house gateway
UNKNOWN = "+14155550199"  # registered nowhere
BOB = "+14155552671"
EVE = "+12025550143"

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
SERVICE_SID = "MG" + "b2" * 16
TELNYX_API_KEY = "KEYtelnyx0123456789"
GENERIC_SECRET = "generic-secret-0123456789"
APP_URL = "http://testserver"
PUBLIC_URL = "https://sms.example.com"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SIGNATURE = "X-Twilio-Signature"
PROBLEM = "application/problem+json"
STATE_TABLES = (
    "contacts",
    "sender_consent",
    "memberships",
    "events",
    "messages",
    "notifications",
)


@dataclass
class World:
    """The app, its engine and database, the fake provider and the Telnyx signing key."""

    client: TestClient
    engine: Engine
    store: Store
    fake: FakeProvider
    telnyx_key: SigningKey

    # -- Twilio ---------------------------------------------------------------------

    def twilio(
        self,
        params: Mapping[str, str],
        *,
        path: str = "/webhooks/twilio",
        sign_url: str | None = None,
        token: str = AUTH_TOKEN,
        signature: str | None = None,
        body: bytes | None = None,
    ) -> httpx.Response:
        url = sign_url if sign_url is not None else APP_URL + path
        if signature is None:
            signature = RequestValidator(token).compute_signature(url, dict(params))
        content = body if body is not None else urlencode(params).encode()
        headers = {**FORM, "X-Twilio-Signature": signature} if signature else FORM
        response: httpx.Response = self.client.post(path, content=content, headers=headers)
        return response

    # -- Telnyx ---------------------------------------------------------------------

    def telnyx_headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        t = str(int(time.time()) if timestamp is None else timestamp)
        signed = self.telnyx_key.sign(t.encode() + b"|" + body).signature
        return {
            "Content-Type": "application/json",
            "telnyx-signature-ed25519": base64.b64encode(signed).decode(),
            "telnyx-timestamp": t,
        }

    def telnyx(
        self, event: Any, *, timestamp: int | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        body = json.dumps(event).encode()
        sent = headers if headers is not None else self.telnyx_headers(body, timestamp)
        response: httpx.Response = self.client.post("/webhooks/telnyx", content=body, headers=sent)
        return response

    # -- generic --------------------------------------------------------------------

    def generic(
        self, message: Any, *, timestamp: int | None = None, secret: str = GENERIC_SECRET
    ) -> httpx.Response:
        body = json.dumps(message).encode()
        headers = {
            "Content-Type": "application/json",
            signing.HEADER: signing.sign(secret, body, timestamp),
        }
        response: httpx.Response = self.client.post(
            "/webhooks/generic", content=body, headers=headers
        )
        return response

    # -- state ----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with self.store.engine.connect() as conn:
            return {
                table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in STATE_TABLES
            }

    def events(self, number: str = BOB) -> list[str]:
        return [e.type for e in self.engine.history(ACME, number)[0]]

    def status(self, sender: str, number: str = BOB) -> Status:
        state = self.engine.contact(ACME, number)
        assert state is not None
        return state.status_from(sender)

    def replies_sent(self) -> list[Any]:
        """Texts the fake provider was asked to send through the Telnyx API."""
        return [r.json for r in self.fake.requests if r.path == "/v2/messages"]


def build_world(
    store: Store, fake: FakeProvider, profile: str, public_base_url: str | None = None
) -> World:
    dispatcher = Dispatcher(
        {"twilio": fake.url, "telnyx": fake.url},
        retry=RetryPolicy(attempts=1, initial_wait=0.0, timeout=5.0),
    )
    engine = Engine(store, dispatch=dispatcher)
    key = SigningKey.generate()
    engine.create_account(ACME, profile, HELP_CONTACT)
    twilio_creds = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
    engine.add_sender(ACME, TW, provider="twilio", credentials=twilio_creds)
    engine.add_sender(ACME, TW_B, provider="twilio", credentials=twilio_creds)
    engine.add_sender(
        ACME, TW_QUIET, provider="twilio", credentials=twilio_creds, provider_replies=True
    )
    engine.add_sender(
        ACME,
        TX,
        provider="telnyx",
        credentials={
            "api_key": TELNYX_API_KEY,
            "public_key": base64.b64encode(bytes(key.verify_key)).decode(),
        },
    )
    engine.add_sender(ACME, GEN, provider="generic", credentials={"secret": GENERIC_SECRET})
    app = create_app(Settings(notify=False, public_base_url=public_base_url), engine=engine)
    client = TestClient(app, raise_server_exceptions=False)
    return World(client, engine, store, fake, key)


def twilio_form(body: str, sid: str = "SM" + "0" * 32, **extra: str) -> dict[str, str]:
    """An inbound text's form fields as Twilio posts them."""
    form = {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "SAN FRANCISCO",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": body,
        "FromCountry": "US",
        "To": TW,
        "MessagingServiceSid": SERVICE_SID,
        "ToZip": "94107",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": BOB,
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return form


def twilio_status(
    sid: str, status: str, error_code: str | None = None, **extra: str
) -> dict[str, str]:
    """A status callback's form fields as Twilio posts them."""
    form = {
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": BOB,
        "MessagingServiceSid": SERVICE_SID,
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": TW,
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        form["ErrorCode"] = error_code
    form.update(extra)
    return form


def twiml_messages(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    assert all(child.tag == "Message" for child in root)
    return [child.text or "" for child in root]


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["detail"]
    if code is not None:
        assert body["code"] == code


def _sent_sid(world: World, sender: str = TW) -> str:
    result = world.engine.send(ACME, sender, BOB, "Your table is ready")
    assert result.status == "sent" and result.provider_id is not None
    return result.provider_id


def _status(world: World, form: dict[str, str]) -> httpx.Response:
    response = world.twilio(form, path="/webhooks/twilio/status")
    assert twiml_messages(response) == []
    return response


def _outbound(world: World, sid: str) -> Any:
    [message] = [m for m in world.engine.history(ACME, BOB)[1] if m.provider_id == sid]
    return message


def telnyx_inbound(
    text: str | None, message_id: str = "b301ed3f-1490-491f-995f-6e64e69674d4", **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "record_type": "message",
        "direction": "inbound",
        "id": message_id,
        "type": "SMS",
        "messaging_profile_id": "740572b6-099c-44a1-89b9-6c92163bc68d",
        "from": {"phone_number": BOB, "carrier": "T-Mobile USA", "line_type": "Wireless"},
        "to": [{"phone_number": TX, "status": "webhook_delivered"}],
        "text": text,
        "media": [],
        "encoding": "GSM-7",
        "parts": 1,
        "received_at": "2025-06-01T12:00:00.000+00:00",
        "errors": [],
    }
    payload.update(extra)
    return {
        "data": {
            "event_type": "message.received",
            "id": "e" + message_id[1:],
            "occurred_at": "2025-06-01T12:00:00.000+00:00",
            "payload": payload,
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": "https://sms.example.com/webhooks/telnyx"},
    }


PROFILE_ID = "740572b6-099c-44a1-89b9-6c92163bc68d"  # the Telnyx messaging profile


def telnyx_delivery(
    message_id: str,
    status: str,
    errors: list[dict[str, Any]],
    event_type: str = "message.finalized",
) -> dict[str, Any]:
    return {
        "data": {
            "event_type": event_type,
            "id": "0c2d6b8e-5bd1-4d4b-9a1d-1f2e3d4c5b6a",
            "occurred_at": "2025-06-01T12:00:05.000+00:00",
            "payload": {
                "record_type": "message",
                "direction": "outbound",
                "id": message_id,
                "type": "SMS",
                "messaging_profile_id": PROFILE_ID,
                "from": {"phone_number": TX, "carrier": "Telnyx", "line_type": "Wireless"},
                "to": [{"phone_number": BOB, "status": status, "carrier": "T-Mobile USA"}],
                "text": "Your table is ready",
                "errors": errors,
            },
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": "https://sms.example.com/webhooks/telnyx"},
    }


def generic_message(text: str, message_id: str = "gw-1", **extra: Any) -> dict[str, Any]:
    return {"id": message_id, "from": BOB, "to": GEN, "text": text, **extra}
