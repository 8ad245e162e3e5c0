"""The application service: one method per use case, one transaction each.

This package is the only place that joins the pure domain (classification, policy,
the consent state machine) with the store. Every use case validates its input first,
so a bad request raises an :class:`~optline.errors.OptlineError` before anything is
written. Callers see one object, :class:`Engine`; its methods live in one module per
use case:

``context``        the store, clock and dispatcher, and the transaction steps shared
``directory``      the per-process caches; accounts, keys, senders, lists, triggers, policy
``reading``        contacts, history, messages, proofs, verification
``review``         the review queue of flagged replies: listed, counted, resolved
``changes``        manual consent changes, bulk changes, imports
``moves``          a contact's number change
``inbound``        an inbound text received
``handover``       claiming a text, its hand-over to the provider (re-decided before
                   each retry), the reply worker, the provider's status reports
``outbound``       check, checker, and send: decide + record + hand-over in one call
``broadcast``      one text to many recipients, and deciding a broadcast up front
``subscriptions``  event-webhook subscriptions and the outbox worker's calls
``purposes``       the account's purposes (marketing, informational, its own)
``unsettled``      sends in doubt: listed, reconciled with the provider, settled
``redaction``      a text's body redacted on a deletion request (its hash stays)
``inbox``          conversations and their read markers; the dashboard's tallies
``consents``       written consent recorded and read back; the double opt-in
``transparency``   the transparency log: the sequencer's pass, the log verified
``users``          the account's users, their API keys, the web UI's sessions
``results``        the dataclasses the use cases return
``aio``            :class:`AsyncEngine`, the same operations for an event loop

Why mixins over one shared context, and not use-case objects the facade delegates to:
every use case needs the same few things (the store, the clock, the dispatcher, the
caches) and the same transaction steps (the account held, contacts locked in order, an
outcome applied and appended), and several need another's operation (a hand-over that
meets a provider opt-out records it as a manual change does; a broadcast decides as a
send does). As classes that inherit the context (:class:`~optline.engine.context.Context`,
then :class:`~optline.engine.directory.Directory` with the caches), each module holds
its use case's code once, calls another's by inheriting it (``HandOver(Changes)``,
``Outbound(HandOver)``), and :class:`Engine` is their union with no forwarding
method to keep in step with the ~70 it would forward: a delegating facade would repeat
each public signature a second time, or hide them from the type checker. What a module
may use is what its class inherits, so the dependencies between use cases are the
class bases, visible at a glance and checked by mypy.
"""

from __future__ import annotations

from functools import cached_property

from optline.engine.aio import AsyncEngine
from optline.engine.broadcast import BROADCAST_CHUNK, BROADCAST_CONCURRENCY, Broadcasting
from optline.engine.consents import ConsentRecord, Consents
from optline.engine.context import (
    AccountRef,
    Dispatch,
    LookUp,
    key_hash,
    phone,
    sender_number,
    utcnow,
)
from optline.engine.handover import REPLY_GRACE
from optline.engine.inbound import Inbound
from optline.engine.inbox import MAX_CONVERSATIONS, Inboxes
from optline.engine.moves import Moves
from optline.engine.outbound import Checker
from optline.engine.purposes import Purposes
from optline.engine.redaction import Redaction
from optline.engine.results import (
    BroadcastDecisions,
    FlagPage,
    ImportRow,
    InboundResult,
    PendingSend,
    PolicyChange,
    SendResult,
)
from optline.engine.review import MAX_FLAG_PAGE, MAX_SEQ, Review
from optline.engine.subscriptions import (
    NOTIFY_BASE_DELAY,
    NOTIFY_MAX_ATTEMPTS,
    NOTIFY_MAX_DELAY,
    SUBSCRIBABLE,
    Subscriptions,
)
from optline.engine.transparency import Transparency
from optline.engine.unsettled import Unsettled
from optline.engine.users import SESSION_LIFETIME, Users

__all__ = [
    "BROADCAST_CHUNK",
    "BROADCAST_CONCURRENCY",
    "MAX_CONVERSATIONS",
    "MAX_FLAG_PAGE",
    "MAX_SEQ",
    "NOTIFY_BASE_DELAY",
    "NOTIFY_MAX_ATTEMPTS",
    "NOTIFY_MAX_DELAY",
    "REPLY_GRACE",
    "SESSION_LIFETIME",
    "SUBSCRIBABLE",
    "AccountRef",
    "AsyncEngine",
    "BroadcastDecisions",
    "Checker",
    "ConsentRecord",
    "Dispatch",
    "Engine",
    "FlagPage",
    "ImportRow",
    "InboundResult",
    "LookUp",
    "PendingSend",
    "PolicyChange",
    "SendResult",
    "key_hash",
    "phone",
    "sender_number",
    "utcnow",
]


class Engine(
    Inbound,
    Broadcasting,
    Unsettled,
    Subscriptions,
    Review,
    Redaction,
    Inboxes,
    Consents,
    Moves,
    Purposes,
    Transparency,
    Users,
):
    """optline's use cases, each one call (see the modules of :mod:`optline.engine`).

    Synchronous: each call runs its transactions and returns. From an event loop, call
    the same operations through :attr:`aio`.
    """

    @cached_property
    def aio(self) -> AsyncEngine:
        """This engine's operations for an event loop (the API and the web pages)."""
        return AsyncEngine(self)
