"""One database transaction: the unit of work every read and write of the engine uses.

A :class:`Tx` holds the connection, whether it may write, and what this transaction
has read or moved (caches that live as long as it does); its queries are in the
repositories it exposes, one per concern, each in :mod:`optline.store.repo`:

- ``tx.accounts``: accounts, their policy, API keys and held rows;
- ``tx.senders``: senders, lists, triggers (keywords) and stored secrets;
- ``tx.contacts``: contact state, sender consent, list memberships, suppression;
- ``tx.messages``: inbound and outbound texts, statuses, unsettled sends, send requests;
- ``tx.ledger``: the hash-chained events: append, read, verify;
- ``tx.log``: the transparency log: queue, sequencer's batches, tree, checkpoints;
- ``tx.flags``: the review queue of flagged replies, opened and resolved with events;
- ``tx.outbox``: event-webhook subscriptions and their queued notifications;
- ``tx.projections``: the consent projection of the ledger, marked, read, rebuilt;
- ``tx.inbox``: conversations, read markers, and events over a span of time;
- ``tx.consents``: written consent: its language texts, records, pending confirmations;
- ``tx.purposes``: the account's purposes, and the purpose of the text last sent;
- ``tx.users``: the account's users, their API keys and the web UI's sessions.
"""

from __future__ import annotations

import weakref
from functools import cached_property

from optline.store.repo.accounts import Accounts
from optline.store.repo.consents import Consents
from optline.store.repo.contacts import Contacts
from optline.store.repo.flags import Flags
from optline.store.repo.inbox import Inbox
from optline.store.repo.ledger import Ledger
from optline.store.repo.log import Log
from optline.store.repo.messages import Messages
from optline.store.repo.outbox import Outbox
from optline.store.repo.projections import Projections
from optline.store.repo.purposes import Purposes
from optline.store.repo.senders import Senders
from optline.store.repo.users import Users
from optline.store.state import Subscriptions, TxState

__all__ = ["Subscriptions", "Tx"]


class Tx(TxState):
    """Reads and writes inside one transaction; see :class:`optline.store.Store`.

    Each repository is built on first use (most transactions use two or three of the
    nine), and holds this transaction by a weak proxy: a strong reference back would
    make a cycle of every transaction, freed only by the garbage collector (whose runs
    then cost every request), where now the last reference gone frees it. A repository
    is the transaction's: it is not used once the transaction is gone.
    """

    @cached_property
    def _proxy(self) -> TxState:
        proxy: TxState = weakref.proxy(self)
        return proxy

    @cached_property
    def accounts(self) -> Accounts:
        return Accounts(self._proxy)

    @cached_property
    def senders(self) -> Senders:
        return Senders(self._proxy)

    @cached_property
    def contacts(self) -> Contacts:
        return Contacts(self._proxy)

    @cached_property
    def messages(self) -> Messages:
        return Messages(self._proxy)

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(self._proxy)

    @cached_property
    def log(self) -> Log:
        return Log(self._proxy)

    @cached_property
    def flags(self) -> Flags:
        return Flags(self._proxy)

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(self._proxy)

    @cached_property
    def projections(self) -> Projections:
        return Projections(self._proxy)

    @cached_property
    def inbox(self) -> Inbox:
        return Inbox(self._proxy)

    @cached_property
    def consents(self) -> Consents:
        return Consents(self._proxy)

    @cached_property
    def purposes(self) -> Purposes:
        return Purposes(self._proxy)

    @cached_property
    def users(self) -> Users:
        return Users(self._proxy)
