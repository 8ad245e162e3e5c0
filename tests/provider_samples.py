"""Webhook bodies as Twilio and Telnyx send them, and the keys that sign them.

Shared by the provider tests (``test_providers_twilio``, ``test_providers_telnyx``,
``test_providers_fuzz``).
"""

from __future__ import annotations

import base64
from typing import Any

from nacl.signing import SigningKey

# -- Twilio ----------------------------------------------------------------------------

TOKEN = "12345678901234567890123456789012"

# An inbound STOP as Twilio posts it with Advanced Opt-Out on a Messaging Service.
INBOUND = {
    "ToCountry": "US",
    "ToState": "CA",
    "SmsMessageSid": "SM5f4c0a3e2b6d4c1e9a8b7c6d5e4f3a2b",
    "NumMedia": "0",
    "ToCity": "SAN FRANCISCO",
    "FromZip": "94105",
    "SmsSid": "SM5f4c0a3e2b6d4c1e9a8b7c6d5e4f3a2b",
    "FromState": "CA",
    "SmsStatus": "received",
    "FromCity": "SAN FRANCISCO",
    "Body": "STOP",
    "FromCountry": "US",
    "To": "+14155550199",
    "MessagingServiceSid": "MG0123456789abcdef0123456789abcdef",
    "ToZip": "94105",
    "NumSegments": "1",
    "MessageSid": "SM5f4c0a3e2b6d4c1e9a8b7c6d5e4f3a2b",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
    "From": "+14155550100",
    "ApiVersion": "2010-04-01",
    "OptOutType": "STOP",
}

STATUS_FAILED = {
    "SmsSid": "SMd1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6",
    "SmsStatus": "undelivered",
    "MessageStatus": "undelivered",
    "To": "+14155550100",
    "MessagingServiceSid": "MG0123456789abcdef0123456789abcdef",
    "MessageSid": "SMd1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
    "From": "+14155550199",
    "ApiVersion": "2010-04-01",
    "ErrorCode": "21610",
}


# -- Telnyx ----------------------------------------------------------------------------

SIGNING_KEY = SigningKey.generate()

PUBLIC_KEY = base64.b64encode(bytes(SIGNING_KEY.verify_key)).decode()

RECEIVED: dict[str, Any] = {
    "data": {
        "event_type": "message.received",
        "id": "b301ed3f-1490-491f-995f-6e64e69674d4",
        "occurred_at": "2025-10-09T20:16:07.588+00:00",
        "payload": {
            "cc": [],
            "completed_at": None,
            "cost": None,
            "direction": "inbound",
            "encoding": "GSM-7",
            "errors": [],
            "from": {
                "carrier": "T-Mobile USA",
                "line_type": "long_code",
                "phone_number": "+13125550001",
            },
            "id": "84cca175-9755-4859-b67f-4730d7f58aa3",
            "media": [],
            "messaging_profile_id": "740572b6-099c-44a1-89b9-6c92163bc68d",
            "parts": 1,
            "received_at": "2025-10-09T20:16:07.503+00:00",
            "record_type": "message",
            "sent_at": None,
            "tags": [],
            "text": "stop please",
            "to": [
                {
                    "carrier": "Telnyx",
                    "line_type": "Wireless",
                    "phone_number": "+17735550002",
                    "status": "webhook_delivered",
                }
            ],
            "type": "SMS",
            "valid_until": None,
            "webhook_failover_url": None,
            "webhook_url": "https://sms.example.com/webhooks/telnyx",
        },
        "record_type": "event",
    },
    "meta": {"attempt": 1, "delivered_to": "https://sms.example.com/webhooks/telnyx"},
}

FINALIZED_BLOCKED: dict[str, Any] = {
    "data": {
        "event_type": "message.finalized",
        "id": "4ee8c3a6-4995-4309-a3c6-38e3db9ea4be",
        "occurred_at": "2025-10-09T20:20:01.123+00:00",
        "payload": {
            "completed_at": "2025-10-09T20:20:01.000+00:00",
            "direction": "outbound",
            "errors": [
                {
                    "code": "40300",
                    "title": "Blocked due to STOP message",
                    "detail": "Recipient has replied STOP to this sender.",
                }
            ],
            "from": {"carrier": "Telnyx", "line_type": "Wireless", "phone_number": "+17735550002"},
            "id": "40385f64-5717-4562-b3fc-2c963f66afa6",
            "messaging_profile_id": "740572b6-099c-44a1-89b9-6c92163bc68d",
            "parts": 1,
            "record_type": "message",
            "text": "Your appointment is tomorrow at 9am",
            "to": [
                {
                    "carrier": "T-Mobile USA",
                    "line_type": "Wireless",
                    "phone_number": "+13125550001",
                    "status": "delivery_failed",
                }
            ],
            "type": "SMS",
        },
        "record_type": "event",
    },
    "meta": {"attempt": 1, "delivered_to": "https://sms.example.com/webhooks/telnyx"},
}
