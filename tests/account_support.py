"""Settings every test account is created with.

The default profile answers HELP with a support contact, so an account on it cannot be
created without one (CTIA 5.1.2.1); tests give every account this one.
"""

from __future__ import annotations

from typing import Any

HELP_CONTACT: dict[str, Any] = {"support_contact": "help@acme.example"}
