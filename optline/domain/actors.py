"""Who or what made a change, as its ledger events record it. Pure.

A change the business makes (by hand, by an import, by a policy change) names its
actor: ``by`` (the API key's name, which the web UI signs in with, or the CLI's
``--actor``) and ``via`` (api, ui, cli), as a settled send does. A change a text or a
provider's report made names that message instead (``message_id``: its id in the
account's messages) and commits its body to the chain by its SHA-256
(``message_sha256``), with the reply sent back to it where there was one (``reply_id``,
``reply_sha256``). Either way a proof shows who did it, and what was written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from types import MappingProxyType

from optline.domain.consent import Event
from optline.domain.consent_codes import Source
from optline.domain.messages import Via

#: The name of an API key issued without one (and of keys issued before keys had names).
DEFAULT_KEY_NAME = "default"

_BY_THE_BUSINESS = frozenset({Source.MANUAL, Source.IMPORT, Source.POLICY})
# A reassigned-numbers lookup is made for a send: the text it was asked for.
_BY_A_MESSAGE = frozenset({Source.KEYWORD, Source.IMPLICIT, Source.PROVIDER, Source.LOOKUP})


@dataclass(frozen=True, slots=True)
class Actor:
    """A person or system making a manual change, and the way it came in."""

    by: str
    via: Via


def sender_of(by: str | None, via: str | None) -> Actor | None:
    """Who sent a text as its message records them (None: an automatic answer, or a
    text sent before senders were recorded)."""
    return None if by is None or via is None else Actor(by, Via(via))


@dataclass(frozen=True, slots=True)
class MessageRef:
    """The text (or refused send) a change came with, and the reply sent back to it:
    ids, and the SHA-256 of each body (None: not known, as for a body redacted)."""

    id: int
    sha256: str | None = None
    reply_id: int | None = None
    reply_sha256: str | None = None

    def data(self) -> dict[str, object]:
        """The fields an event caused by the text records."""
        fields = {
            "message_id": self.id,
            "message_sha256": self.sha256,
            "reply_id": self.reply_id,
            "reply_sha256": self.reply_sha256,
        }
        return {key: value for key, value in fields.items() if value is not None}


def attributed(
    events: Iterable[Event], actor: Actor | None = None, message: MessageRef | None = None
) -> tuple[Event, ...]:
    """``events`` with who caused them: ``actor`` on those the business made, the
    ``message`` (and its reply) on those a text or a provider's report made (each
    where given)."""
    out: list[Event] = []
    for event in events:
        source = event.data.get("source")
        extra: dict[str, object] = {}
        if actor is not None and source in _BY_THE_BUSINESS:
            extra = {"by": actor.by, "via": actor.via.value}
        elif message is not None and source in _BY_A_MESSAGE and "message_id" not in event.data:
            extra = message.data()
        out.append(
            replace(event, data=MappingProxyType({**event.data, **extra})) if extra else event
        )
    return tuple(out)
