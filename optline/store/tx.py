"""One database transaction: every read and write the engine makes goes through here."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from types import MappingProxyType
from typing import Any, Final

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from optline.domain.consent import ContactState, Event, Status, Trigger
from optline.domain.policy import SenderKind
from optline.store.ledger import GENESIS, event_hash, plain, utc
from optline.store.queries import (
    FACT_BLOCKED,
    FACT_LIST_UNSUBSCRIBED,
    FACT_OPTED_OUT,
    FACT_SENDER_OPTED_IN,
    FACT_SENDER_OPTED_OUT,
    Driver,
    KeyValueRows,
    Prepared,
    contact_select,
    insert,
    queries,
)
from optline.store.rows import (
    AccountRow,
    Conflict,
    DuplicateDelivery,
    ListRow,
    MessageRow,
    Notification,
    SenderRow,
    StoredEvent,
    SubscriptionRow,
    VerifyResult,
)
from optline.store.schema import (
    PENDING_REPLY,
    UNSETTLED,
    accounts,
    contacts,
    events,
    lists,
    memberships,
    messages,
    notifications,
    send_requests,
    sender_consent,
    senders,
    subscriptions,
    triggers,
)
from optline.store.sealed import Sealer

_NOT_LOADED: Final = object()
_STATUS: Final = {status.value: status for status in Status}
_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
Head = tuple[int, str]  # a ledger's last seq and hash
# An account's event-webhook subscriptions and the version of them they are.
Subscriptions = tuple[int, list[SubscriptionRow]]


class Tx:
    """Reads and writes inside one transaction; see :class:`optline.store.Store`."""

    def __init__(
        self,
        conn: Connection,
        *,
        writable: bool,
        heads: Mapping[int, Head] | None = None,
        subscriptions: Mapping[int, Subscriptions] | None = None,
        sealer: Sealer | None = None,
        accounts: dict[int, AccountRow] | None = None,
        message_ids: dict[int, int] | None = None,
        driver: Driver | None = None,
    ) -> None:
        self._conn = conn
        # The prepared statements run on the DB-API connection itself (``driver``, when
        # the caller has it at hand).
        if driver is None:
            driver = conn.connection.driver_connection
            assert driver is not None  # a connection checked out, not yet closed
        self._driver: Driver = driver
        # Accounts by id as read in a group's transaction (Store.write_grouped), shared
        # by its writes: it holds the write lock from its first read to its commit, so
        # an account changes under it only by a write of its own, which forgets it.
        self._accounts = accounts
        # SQLite: each account's next message number, once read (new_message_ids); a
        # group's writes share it as they share the accounts.
        self._message_ids = {} if message_ids is None else message_ids
        # Provider credentials and signing secrets: sealed as written, opened as read.
        self._sealer = sealer or Sealer()
        self._writable = writable
        self._postgres = conn.dialect.name == "postgresql"
        self._q = queries(conn.dialect)
        # Contacts as read in this transaction, so save_contact writes only what changed.
        self._seen: dict[tuple[int, str], ContactState | None] = {}
        # Ledger heads as last committed by this process: a guess, checked by the
        # UPDATE that moves the head, which saves reading it first.
        self._heads = {} if heads is None else heads
        # Heads this transaction moved, for the store to remember once it commits.
        self.moved_heads: dict[int, Head] = {}
        # Event-webhook subscriptions read in this transaction, by account.
        self._subscriptions: dict[int, list[SubscriptionRow]] = {}
        # Subscriptions as this process last read them (committed), by account; valid
        # while the account's subscriptions_version is the one they carry.
        self._known_subscriptions = {} if subscriptions is None else subscriptions
        # The subscriptions' version as moving the ledger's head read it, by account.
        self._subscriptions_version: dict[int, int] = {}
        # Accounts whose subscriptions this transaction changed (never remembered).
        self._subscriptions_written: set[int] = set()
        # Subscriptions read here with their version, for the store to keep on commit.
        self.read_subscriptions: dict[int, Subscriptions] = {}

    # -- helpers -----------------------------------------------------------------------

    def _write(self) -> None:
        if not self._writable:
            raise RuntimeError("this is a read-only transaction")

    def _insert_or_conflict(self, table: sa.Table, values: Mapping[str, Any], what: str) -> None:
        """Insert one row, raising Conflict on a unique key (the transaction stays usable)."""
        stmt = insert(table, self._postgres).values(values).on_conflict_do_nothing()
        if self._conn.execute(stmt.returning(*table.primary_key)).first() is None:
            raise Conflict(f"{what} already exists")

    # -- accounts ----------------------------------------------------------------------

    def create_account(
        self, name: str, profile: str, overrides: Mapping[str, Any] | None = None
    ) -> AccountRow:
        self._write()
        stmt = insert(accounts, self._postgres).values(
            name=name,
            profile=profile,
            overrides=plain(overrides or {}),
            head_seq=0,
            head_hash=GENESIS,
            created_at=datetime.now(UTC),
        )
        row = self._conn.execute(
            stmt.on_conflict_do_nothing().returning(accounts.c.id)
        ).scalar_one_or_none()
        if row is None:
            raise Conflict(f"account {name!r} already exists")
        return AccountRow(row, name, profile, plain(overrides or {}))

    def account(self, name: str) -> AccountRow | None:
        row = self._q.account_by_name.first(self._driver, {"name": name})
        return None if row is None else _account_of(row)

    def account_by_id(self, account_id: int) -> AccountRow | None:
        if self._accounts is not None and account_id in self._accounts:
            return self._accounts[account_id]
        row = self._q.account_by_id.first(self._driver, {"id": account_id})
        if row is None:
            return None
        account = _account_of(row)
        if self._accounts is not None:
            self._accounts[account_id] = account
        return account

    def _account_changed(self, account_id: int) -> None:
        if self._accounts is not None:
            self._accounts.pop(account_id, None)

    def accounts(self) -> list[AccountRow]:
        stmt = sa.select(
            accounts.c.id,
            accounts.c.name,
            accounts.c.profile,
            accounts.c.overrides,
            accounts.c.keywords_version,
        )
        return [_account_of(r) for r in self._conn.execute(stmt.order_by(accounts.c.name))]

    @property
    def writable(self) -> bool:
        return self._writable

    def hold_account(self, account: AccountRow, exclusive: bool = False) -> AccountRow | None:
        """The account as committed now, its row locked until this transaction ends.

        On PostgreSQL every write transaction holds its account's row (``FOR KEY
        SHARE``, which concurrent writers of one account share) before it touches any
        contact, and a policy change holds it alone (``FOR UPDATE``): a consent change
        never applies a policy that a change committed meanwhile has replaced. SQLite
        runs one write transaction at a time, so the row as read is current already.
        """
        self._write()
        if not self._postgres:
            return account
        a = accounts
        stmt = sa.select(a.c.id, a.c.name, a.c.profile, a.c.overrides, a.c.keywords_version)
        stmt = stmt.where(a.c.id == account.id)
        stmt = stmt.with_for_update(read=not exclusive, key_share=not exclusive)
        row = self._conn.execute(stmt).first()
        return None if row is None else _account_of(row)

    def phones_with_sender_consent(self, account_id: int) -> list[str]:
        """Every contact with a consent of its own for some sender (SENDER scope)."""
        sc = sender_consent
        stmt = (
            sa.select(sc.c.phone)
            .where(sc.c.account_id == account_id)
            .group_by(sc.c.phone)
            .order_by(sc.c.phone)
        )
        return list(self._conn.execute(stmt).scalars())

    def set_policy(self, account_id: int, profile: str, overrides: Mapping[str, Any]) -> None:
        self._write()
        self._conn.execute(
            sa.update(accounts)
            .where(accounts.c.id == account_id)
            .values(profile=profile, overrides=plain(overrides))
        )
        self._account_changed(account_id)

    # -- senders, lists, triggers ------------------------------------------------------

    def add_sender(
        self,
        account_id: int,
        number: str,
        kind: SenderKind,
        provider: str | None = None,
        credentials: Mapping[str, str] | None = None,
        provider_replies: bool = False,
    ) -> SenderRow:
        self._write()
        values = {
            "account_id": account_id,
            "number": number,
            "kind": kind.value,
            "provider": provider,
            "credentials": self._sealer.seal_credentials(credentials or {}),
            "provider_replies": provider_replies,
        }
        self._insert_or_conflict(senders, values, f"sender {number}")
        return SenderRow(
            account_id, number, kind, provider, dict(credentials or {}), provider_replies
        )

    def sender(self, number: str) -> SenderRow | None:
        """The sender with this number, whichever account it belongs to."""
        row = self._conn.execute(self._q.sender, {"number": number}).first()
        return None if row is None else self._sender_row(row)

    def _sender_row(self, row: Row[Any, Any, Any, Any]) -> SenderRow:
        return SenderRow(
            row.account_id,
            row.number,
            SenderKind(row.kind),
            row.provider,
            self._sealer.open_credentials(row.credentials or {}),
            bool(row.provider_replies),
        )

    def reseal_secrets(self) -> int:
        """Seal every stored secret again with the first configured key (those stored
        as given, or sealed with an older key); returns how many rows were written."""
        self._write()
        written = 0
        for row in self._conn.execute(sa.select(senders.c.number, senders.c.credentials)).all():
            sealed = self._sealer.seal_credentials(self._sealer.open_credentials(row.credentials))
            self._conn.execute(
                sa.update(senders).where(senders.c.number == row.number).values(credentials=sealed)
            )
            written += 1
        s = subscriptions
        for sub in self._conn.execute(sa.select(s.c.account_id, s.c.id, s.c.secret)).all():
            sealed_secret = self._sealer.seal_text(self._sealer.open_text(sub.secret))
            self._conn.execute(
                sa.update(s)
                .where(s.c.account_id == sub.account_id, s.c.id == sub.id)
                .values(secret=sealed_secret)
            )
            written += 1
        return written

    def senders(self, account_id: int) -> list[SenderRow]:
        stmt = (
            sa.select(senders).where(senders.c.account_id == account_id).order_by(senders.c.number)
        )
        return [self._sender_row(r) for r in self._conn.execute(stmt)]

    def senders_of_provider(self, provider: str) -> list[SenderRow]:
        """Every sender, in any account, that uses ``provider``."""
        stmt = sa.select(senders).where(senders.c.provider == provider)
        return [self._sender_row(r) for r in self._conn.execute(stmt.order_by(senders.c.number))]

    # -- API keys ----------------------------------------------------------------------

    def set_api_key_hash(self, account_id: int, key_hash: str) -> None:
        self._write()
        self._conn.execute(
            sa.update(accounts).where(accounts.c.id == account_id).values(api_key_hash=key_hash)
        )

    def account_by_key_hash(self, key_hash: str) -> AccountRow | None:
        row = self._q.account_by_key_hash.first(self._driver, {"hash": key_hash})
        # The index finds the row; the comparison itself runs in constant time.
        if row is None or not hmac.compare_digest(row[5], key_hash):
            return None
        return _account_of(row[:5])

    def create_list(self, account_id: int, name: str, opt_out_keyword: str | None) -> ListRow:
        self._write()
        values = {"account_id": account_id, "name": name, "opt_out_keyword": opt_out_keyword}
        what = f"list {name!r}" + (f" or keyword {opt_out_keyword!r}" if opt_out_keyword else "")
        self._insert_or_conflict(lists, values, what)
        self._keywords_changed(account_id)
        return ListRow(account_id, name, opt_out_keyword)

    def lists(self, account_id: int) -> list[ListRow]:
        rows = self._conn.execute(self._q.lists, {"account": account_id})
        return [ListRow(r.account_id, r.name, r.opt_out_keyword) for r in rows]

    def add_trigger(self, account_id: int, trigger: Trigger) -> None:
        self._write()
        values = {
            "account_id": account_id,
            "keyword": trigger.keyword,
            "reply": trigger.reply,
            "unsubscribe_list": trigger.unsubscribe_list,
            "subscribe_list": trigger.subscribe_list,
        }
        self._insert_or_conflict(triggers, values, f"trigger {trigger.keyword!r}")
        self._keywords_changed(account_id)

    def _keywords_changed(self, account_id: int) -> None:
        self._conn.execute(
            sa.update(accounts)
            .where(accounts.c.id == account_id)
            .values(keywords_version=accounts.c.keywords_version + 1)
        )
        self._account_changed(account_id)

    def triggers(self, account_id: int) -> list[Trigger]:
        rows = self._conn.execute(self._q.triggers, {"account": account_id})
        return [Trigger(r.keyword, r.reply, r.unsubscribe_list, r.subscribe_list) for r in rows]

    # -- contacts ----------------------------------------------------------------------

    def contact(
        self, account_id: int, phone: str, *, for_update: bool = False
    ) -> ContactState | None:
        """The contact's full consent state, or None if the account has never seen it.

        ``for_update`` locks the contact until the transaction ends (PostgreSQL; a
        SQLite write transaction is exclusive already). A contact that does not exist
        yet is created in its default state so that concurrent first writers queue on
        its row too; it is still reported as None.
        """
        params = {"account": account_id, "phone": phone}
        if for_update and self._postgres and not self._lock_contact(params):
            state = None
        else:
            row = self._q.contact.first(self._driver, params)
            state = None if row is None else _contact_state(row)
        self._seen[(account_id, phone)] = state
        return state

    def _lock_contact(self, params: Mapping[str, Any]) -> bool:
        """Lock the contact's row; False if it did not exist and has just been created.

        The state is read by a later statement: under READ COMMITTED a statement that
        waited for the lock still sees its consent and list rows as they were before
        the previous holder committed.
        """
        if self._conn.execute(self._q.lock_contact, params).first() is not None:
            return True
        if self._claim(params["account"], params["phone"]):
            return False
        # Another transaction created it meanwhile (and has committed): lock it.
        self._conn.execute(self._q.lock_contact, params)
        return True

    def _claim(self, account_id: int, phone: str) -> bool:
        """Insert a default row for a new contact; False if it exists after all."""
        self._write()
        values = _contact_values(account_id, ContactState(phone), datetime.now(UTC))
        return self._conn.execute(self._q.claim_contact, values).first() is not None

    def save_contact(self, account_id: int, state: ContactState, at: datetime) -> None:
        """Store the contact's whole state (only the parts that changed since it was read),
        as changed at ``at``."""
        self._write()
        key = (account_id, state.phone)
        before = self._seen.get(key, _NOT_LOADED)
        old_senders: dict[str, Any] | None
        old_lists: dict[str, Any] | None
        if isinstance(before, ContactState):
            old_senders = {k: v.value for k, v in before.sender_status.items()}
            old_lists = dict(before.lists)
        elif before is None:  # read in this transaction: it had no rows yet
            old_senders, old_lists = {}, {}
        else:  # not read in this transaction: rewrite all of it
            old_senders = old_lists = None
        if not isinstance(before, ContactState) or _scalars(before) != _scalars(state):
            self._upsert_contact(account_id, state, at)
        senders_now = {k: v.value for k, v in state.sender_status.items()}
        self._sync(self._q.sender_consent, account_id, state.phone, senders_now, old_senders)
        self._sync(self._q.memberships, account_id, state.phone, dict(state.lists), old_lists)
        self._seen[key] = state

    def _upsert_contact(self, account_id: int, state: ContactState, at: datetime) -> None:
        values = _contact_values(account_id, state, utc(at))
        self._q.upsert_contact.run(self._driver, values)

    def _sync(
        self,
        rows: KeyValueRows,
        account_id: int,
        phone: str,
        after: Mapping[str, Any],
        before: Mapping[str, Any] | None,
    ) -> None:
        """Make the contact's ``key -> value`` rows equal ``after``.

        ``before`` is what the table holds (None: unknown, so rewrite all of it).
        """
        owner = {"owner_account": account_id, "owner": phone}
        if before is None:
            self._conn.execute(rows.delete_all, owner)
            before = {}
        gone = [k for k in before if k not in after]
        if gone:
            self._conn.execute(rows.delete_keys, {**owner, "keys": gone})
        changed = [
            {"account_id": account_id, "phone": phone, rows.key: k, rows.value: v}
            for k, v in after.items()
            if k not in before or before[k] != v
        ]
        if changed:
            self._conn.execute(rows.upsert, changed)

    def contacts(
        self,
        account_id: int,
        *,
        status: Status | None = None,
        list_name: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[ContactState]:
        """Contacts in phone order. ``status`` is the effective account-level status
        (BLOCKED: the blocked flag; the others: not blocked and that status);
        ``list_name`` keeps the members of that list, subscribed or not."""
        stmt = contact_select(self._postgres).where(contacts.c.account_id == account_id)
        if status is Status.BLOCKED:
            stmt = stmt.where(contacts.c.blocked == sa.true())
        elif status is not None:
            stmt = stmt.where(contacts.c.blocked == sa.false(), contacts.c.status == status.value)
        if list_name is not None:
            member = sa.exists().where(
                memberships.c.account_id == contacts.c.account_id,
                memberships.c.list_name == list_name,
                memberships.c.phone == contacts.c.phone,
            )
            stmt = stmt.where(member)
        if after is not None:
            stmt = stmt.where(contacts.c.phone > after)
        stmt = stmt.order_by(contacts.c.phone).limit(limit)
        return [_contact_state(row) for row in self._conn.execute(stmt)]

    def send_view(
        self, account_id: int, sender: str, list_name: str | None
    ) -> Callable[[str], ContactState | None]:
        """Contacts as a send from ``sender`` (to ``list_name``) sees them, for deciding
        many recipients in this transaction: one primary-key query per contact, on one
        driver cursor. A state holds the contact's own status for this sender and its
        subscription to this list only (all that ``consent.decide`` reads of them);
        other senders and lists are left out, so it is not for saving.
        """
        query = self._q.send_view if list_name is None else self._q.send_view_list
        fixed = {"account": account_id, "sender": sender, "list": list_name}
        rows = query.repeat(self._driver, fixed, "phone")
        status = _STATUS.__getitem__
        list_key = list_name or ""

        def state(phone: str) -> ContactState | None:
            found = rows(phone)
            if not found:
                return None
            blocked, account_status, texted, own, subscribed = found[0]
            return ContactState(
                phone,
                bool(blocked),
                status(account_status),
                _EMPTY if own is None else MappingProxyType({sender: status(own)}),
                _EMPTY if subscribed is None else MappingProxyType({list_key: bool(subscribed)}),
                bool(texted),
            )

        return state

    def suppressed(self, account_id: int, sender: str, list_name: str | None) -> dict[str, str]:
        """phone -> reason for every contact that a send from ``sender`` (to
        ``list_name``) would refuse for consent, exactly as ``consent.decide`` does.

        One query of index ranges (no look-up per contact), so its cost follows the
        number of suppressed contacts rather than the size of the account; the facts
        are combined here: blocked, else opted out as seen from ``sender`` (its own
        status overriding the account's), else unsubscribed from ``list_name``.
        """
        params = {"account": account_id, "sender": sender, "list": list_name}
        query = self._q.suppressed if list_name is None else self._q.suppressed_from_list
        facts: dict[int, list[str]] = {}
        for fact, rows in groupby(query.all(self._driver, params), key=itemgetter(1)):
            facts.setdefault(fact, []).extend(map(itemgetter(0), rows))
        refused = dict.fromkeys(facts.get(FACT_OPTED_OUT, ()), "opted_out")
        for phone in facts.get(FACT_SENDER_OPTED_IN, ()):
            refused.pop(phone, None)
        refused.update(dict.fromkeys(facts.get(FACT_SENDER_OPTED_OUT, ()), "opted_out"))
        refused.update(dict.fromkeys(facts.get(FACT_BLOCKED, ()), "blocked"))
        if list_name is None:
            return refused
        unsubscribed = dict.fromkeys(facts.get(FACT_LIST_UNSUBSCRIBED, ()), "list_unsubscribed")
        unsubscribed.update(refused)
        return unsubscribed

    # -- ledger ------------------------------------------------------------------------

    def append(self, account_id: int, items: Sequence[Event], at: datetime) -> list[StoredEvent]:
        """Chain ``items`` onto the account's ledger and move its head, in this transaction.

        The UPDATE that moves the head also locks the account row until commit (on
        PostgreSQL), so appends to one account take turns. It moves the head only
        from the head this process last committed; if another writer has moved it
        since, the head is read under lock and the chain rebuilt from there. Lock
        order: the contact first (``contact`` with ``for_update``), then the account.
        """
        self._write()
        if not items:
            return []
        stored = self._extend_chain(account_id, items, utc(at))
        rows = [_event_values(e) for e in stored]
        if len(rows) == 1:
            self._q.insert_events.run(self._driver, rows[0])
        else:
            self._q.insert_events.run_many(self._driver, rows)
        self.moved_heads[account_id] = (stored[-1].seq, stored[-1].hash)
        return stored

    def _extend_chain(
        self, account_id: int, items: Sequence[Event], at: datetime
    ) -> list[StoredEvent]:
        """Chain ``items`` after the account's head and move the head past them."""
        guess = self.moved_heads.get(account_id) or self._heads.get(account_id)
        if guess is not None:
            stored = _chain(account_id, guess, items, at)
            params = {"account": account_id, "old_seq": guess[0], "old_hash": guess[1]}
            params.update(seq=stored[-1].seq, hash=stored[-1].hash)
            moved = self._q.move_head_from.first(self._driver, params)
            if moved is not None:
                self._subscriptions_version[account_id] = moved[0]
                return stored
            # Another writer has moved it since: read it, under lock.
        head = self._conn.execute(self._q.head, {"account": account_id}).first()
        if head is None:
            raise LookupError(f"no account with id {account_id}")
        self._subscriptions_version[account_id] = head.subscriptions_version
        stored = _chain(account_id, (head.head_seq, head.head_hash), items, at)
        params = {"account": account_id, "seq": stored[-1].seq, "hash": stored[-1].hash}
        self._q.move_head.run(self._driver, params)
        return stored

    def events(self, account_id: int, phone: str | None = None) -> list[StoredEvent]:
        stmt = sa.select(events).where(events.c.account_id == account_id)
        if phone is not None:
            stmt = stmt.where(events.c.phone == phone)
        return [_stored_event(r) for r in self._conn.execute(stmt.order_by(events.c.seq))]

    def verify(self, account_id: int) -> VerifyResult:
        """Walk the account's chain in seq order; name the first event that is wrong.

        The head and the events are read by one statement, so a concurrent append
        cannot make a sound chain look broken.
        """
        e = events
        stmt = (
            sa.select(accounts.c.name, accounts.c.head_seq, accounts.c.head_hash, e)
            .select_from(accounts.outerjoin(e, e.c.account_id == accounts.c.id))
            .where(accounts.c.id == account_id)
            .order_by(e.c.seq)
            .execution_options(yield_per=2000)
        )
        result = self._conn.execute(stmt)
        head: Row[Any] | None = None
        expected, prev = 1, GENESIS
        for row in result:
            head = row
            if row.seq is None:  # no events yet
                break
            problem = _link_problem(account_id, row, expected, prev)
            if problem is not None:
                result.close()
                return VerifyResult(False, row.name, expected - 1, *problem)
            expected, prev = expected + 1, row.hash
        if head is None:
            raise LookupError(f"no account with id {account_id}")
        last = expected - 1
        wrong_end = _head_problem(last, prev, head.head_seq, head.head_hash)
        if wrong_end is not None:
            bad_seq, what = wrong_end
            return VerifyResult(False, head.name, (bad_seq or 1) - 1, bad_seq, what)
        return VerifyResult(True, head.name, last, None, None)

    # -- messages ----------------------------------------------------------------------

    def inbound_outcome(
        self, account_id: int, provider_id: str, phone: str, sender: str
    ) -> dict[str, Any] | None:
        """The outcome of the inbound text ``provider_id`` from ``phone`` to ``sender``;
        None if there is none (the id may be another message's)."""
        params = {"account": account_id, "pid": provider_id, "phone": phone, "sender": sender}
        row = self._q.inbound_outcome.first(self._driver, params)
        if row is None:
            return None
        return dict(_json(row[0]))

    def new_message_ids(self, account_id: int, count: int) -> list[int]:
        """Numbers for the account's next ``count`` messages, for a caller that needs
        them before it records the messages (a reply's number in the outcome of the
        text it answers). A rolled-back transaction leaves its numbers unused."""
        self._write()
        if self._postgres:
            return list(self._conn.execute(self._q.message_ids, {"count": count}).scalars())
        # SQLite: the account's next number, read once per transaction (which holds the
        # write lock from its start) and counted on here.
        first = self._message_ids.get(account_id)
        if first is None:
            top = self._q.top_message_id.first(self._driver, {"account": account_id})
            first = (top[0] if top is not None and top[0] is not None else 0) + 1
        self._message_ids[account_id] = first + count
        return list(range(first, first + count))

    def record_inbound(
        self,
        account_id: int,
        *,
        provider_id: str | None,
        phone: str,
        sender: str,
        body: str,
        hidden: bool,
        at: datetime,
        outcome: Mapping[str, Any],
        message_id: int | None = None,
    ) -> int:
        """Store an inbound text and its outcome, as ``message_id`` if given (from
        :meth:`new_message_ids`); DuplicateDelivery if ``provider_id`` is already stored
        (the transaction stays usable, for the caller to roll back)."""
        values = self._message_values(account_id, message_id, "in", phone, sender, body, at)
        values.update(provider_id=provider_id, hidden=hidden, outcome=dict(outcome))
        stored = self._insert_message(self._q.insert_inbound, values)
        if stored is None:
            raise DuplicateDelivery(f"message {provider_id!r} was already received")
        return stored

    def record_outbound(
        self,
        account_id: int,
        *,
        phone: str,
        sender: str,
        body: str,
        status: str,
        reason: str | None,
        list_name: str | None,
        campaign: bool,
        at: datetime,
        reply: bool = False,
        message_id: int | None = None,
    ) -> int:
        values = self._message_values(account_id, message_id, "out", phone, sender, body, at)
        values.update(
            status=status, reason=reason, list_name=list_name, campaign=campaign, reply=reply
        )
        stored = self._insert_message(self._q.insert_outbound, values)
        assert stored is not None  # no conflict clause
        return stored

    def _message_values(
        self,
        account_id: int,
        message_id: int | None,
        direction: str,
        phone: str,
        sender: str,
        body: str,
        at: datetime,
    ) -> dict[str, Any]:
        """Every column of a message row (the statements are reused, so always the same
        set); on SQLite the message is numbered here when no number is given."""
        self._write()
        if message_id is None and not self._postgres:
            (message_id,) = self.new_message_ids(account_id, 1)
        return {
            "account_id": account_id,
            "id": message_id,
            "direction": direction,
            "provider_id": None,
            "phone": phone,
            "sender": sender,
            "body": body,
            "hidden": False,
            "status": "received",
            "reason": None,
            "list_name": None,
            "campaign": False,
            "reply": False,
            "outcome": None,
            "created_at": utc(at),
        }

    def _insert_message(self, insert: Prepared, values: dict[str, Any]) -> int | None:
        """Insert a message row; its number, or None when a unique key kept it out."""
        if self._postgres:
            row = insert.first(self._driver, values)
            return None if row is None else int(row[0])
        return int(values["id"]) if insert.run(self._driver, values) else None

    def send_request(self, account_id: int, key: str) -> tuple[str, bool, MessageRow] | None:
        """The send first made with idempotency ``key``: its request's fingerprint,
        whether it was allowed, and its message as it is now."""
        r, m = send_requests, messages
        stmt = (
            sa.select(r.c.fingerprint, r.c.allowed, m)
            .join(m, sa.and_(m.c.account_id == r.c.account_id, m.c.id == r.c.message_id))
            .where(r.c.account_id == account_id, r.c.key == key)
        )
        row = self._conn.execute(stmt).first()
        return None if row is None else (row.fingerprint, row.allowed, _message_row(row))

    def record_send_request(
        self,
        account_id: int,
        key: str,
        *,
        message_id: int,
        fingerprint: str,
        allowed: bool,
        at: datetime,
    ) -> None:
        """Tie idempotency ``key`` to the send just recorded; DuplicateDelivery if a
        concurrent request has taken the key (the caller rolls back and replays it)."""
        self._write()
        values = {
            "account_id": account_id,
            "key": key,
            "message_id": message_id,
            "fingerprint": fingerprint,
            "allowed": allowed,
            "created_at": at,
        }
        stmt = insert(send_requests, self._postgres).values(values).on_conflict_do_nothing()
        if self._conn.execute(stmt.returning(send_requests.c.key)).first() is None:
            raise DuplicateDelivery(f"idempotency key {key!r} is already taken")

    def messages(self, account_id: int, phone: str) -> list[MessageRow]:
        m = messages
        stmt = sa.select(m).where(m.c.account_id == account_id, m.c.phone == phone).order_by(m.c.id)
        return [_message_row(r) for r in self._conn.execute(stmt)]

    def message(
        self, account_id: int, message_id: int, for_update: bool = False
    ) -> MessageRow | None:
        m = messages
        stmt = sa.select(m).where(m.c.account_id == account_id, m.c.id == message_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._conn.execute(stmt).first()
        return None if row is None else _message_row(row)

    def unsettled_messages(
        self,
        account_id: int,
        status: str,
        after_id: int,
        limit: int,
        before: datetime | None = None,
    ) -> list[MessageRow]:
        """Up to ``limit`` of the account's texts in ``status`` (queued or sending: the
        statuses its partial index holds), by id, after ``after_id``; with ``before``,
        only those recorded before then."""
        m = messages
        stmt = (
            sa.select(m)
            .where(m.c.account_id == account_id, m.c.status == status, m.c.id > after_id)
            # The partial index's own condition, word for word: SQLite uses a partial
            # index only for a query whose WHERE holds its condition's terms.
            .where(UNSETTLED)
            .order_by(m.c.id)
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(m.c.created_at < utc(before))
        return [_message_row(r) for r in self._conn.execute(stmt)]

    def count_unsettled(self, account_id: int, queued_before: datetime) -> dict[str, int]:
        """How many of the account's texts are ``sending``, and ``queued`` since before
        ``queued_before`` (through the partial index of unsettled texts)."""
        m = messages
        stmt = (
            sa.select(m.c.status, sa.func.count())
            .where(m.c.account_id == account_id, UNSETTLED)
            .where(sa.or_(m.c.status != "queued", m.c.created_at < utc(queued_before)))
            .group_by(m.c.status)
        )
        return {str(status): int(count) for status, count in self._conn.execute(stmt)}

    def recent_messages(self, account_id: int, limit: int) -> list[MessageRow]:
        """The account's last ``limit`` messages, newest first (its primary key's end)."""
        m = messages
        stmt = sa.select(m).where(m.c.account_id == account_id).order_by(m.c.id.desc())
        return [_message_row(r) for r in self._conn.execute(stmt.limit(limit))]

    def set_message_status(
        self,
        account_id: int,
        message_id: int,
        status: str,
        reason: str | None,
        provider_id: str | None,
    ) -> None:
        self._write()
        values: dict[str, Any] = {"status": status, "reason": reason}
        if provider_id is not None:
            values["provider_id"] = provider_id
        self._conn.execute(
            sa.update(messages)
            .where(messages.c.account_id == account_id, messages.c.id == message_id)
            .values(values)
        )

    def move_message(
        self,
        account_id: int,
        message_id: int,
        from_status: str,
        to_status: str,
        reason: str | None = None,
    ) -> bool:
        """Move a message from ``from_status`` to ``to_status``; False when it was not
        (any more) in ``from_status``: someone else is sending it, or has. Claiming a
        text for the provider (queued -> sending) this way sends it once."""
        self._write()
        m = messages
        moved = self._conn.execute(
            sa.update(m)
            .where(m.c.account_id == account_id, m.c.id == message_id, m.c.status == from_status)
            .values(status=to_status, reason=reason)
        )
        return moved.rowcount == 1

    def consent_changed_since(self, account_id: int, phone: str, since: datetime) -> bool:
        """Whether the contact's ledger has any event after ``since``."""
        e = events
        stmt = (
            sa.select(e.c.seq)
            .where(e.c.account_id == account_id, e.c.phone == phone, e.c.occurred_at > since)
            .limit(1)
        )
        return self._conn.execute(stmt).first() is not None

    def queued_replies(self, before: datetime, limit: int) -> list[tuple[int, MessageRow]]:
        """Replies queued for the provider's API before ``before``, oldest first, with
        their account ids (through the partial index of pending replies)."""
        m = messages
        stmt = (
            sa.select(m)
            .where(PENDING_REPLY, m.c.status == "queued", m.c.created_at < before)
            .order_by(m.c.created_at)
            .limit(limit)
        )
        return [(r.account_id, _message_row(r)) for r in self._conn.execute(stmt)]

    def unreported_reply(
        self, account_id: int, message_id: int, sender: str, phone: str
    ) -> MessageRow | None:
        """The automatic reply ``message_id`` from ``sender`` to ``phone``, while no
        provider message id is attached to it (a reply answered in TwiML)."""
        m = messages
        stmt = sa.select(m).where(
            m.c.account_id == account_id,
            m.c.id == message_id,
            m.c.direction == "out",
            m.c.reply.is_(True),
            m.c.sender == sender,
            m.c.phone == phone,
            m.c.provider_id.is_(None),
        )
        row = self._conn.execute(stmt).first()
        return None if row is None else _message_row(row)

    def message_by_provider_id(self, account_id: int, provider_id: str) -> MessageRow | None:
        m = messages
        stmt = sa.select(m).where(m.c.account_id == account_id, m.c.provider_id == provider_id)
        row = self._conn.execute(stmt).first()
        return None if row is None else _message_row(row)

    def events_of_type(self, account_id: int, type: str, limit: int) -> list[StoredEvent]:
        """The account's latest events of one type, newest first."""
        stmt = (
            sa.select(events)
            .where(events.c.account_id == account_id, events.c.type == type)
            .order_by(events.c.seq.desc())
            .limit(limit)
        )
        return [_stored_event(r) for r in self._conn.execute(stmt)]

    # -- event webhooks ------------------------------------------------------------------

    def add_subscription(
        self, account_id: int, url: str, secret: str, event_types: Sequence[str]
    ) -> int:
        self._write()
        # First, so that (on PostgreSQL) the account's row is locked before the new id is
        # chosen, and a consent change reading the version waits for this to commit.
        self._conn.execute(self._q.bump_subscriptions, {"account": account_id})
        self._subscriptions_written.add(account_id)
        self._subscriptions_version.pop(account_id, None)
        self.read_subscriptions.pop(account_id, None)
        s = subscriptions
        last = self._conn.execute(
            sa.select(sa.func.max(s.c.id)).where(s.c.account_id == account_id)
        ).scalar_one_or_none()
        sub_id = (last or 0) + 1
        self._conn.execute(
            sa.insert(s).values(
                account_id=account_id,
                id=sub_id,
                url=url,
                secret=self._sealer.seal_text(secret),
                events=list(event_types),
                created_at=datetime.now(UTC),
            )
        )
        self._subscriptions.pop(account_id, None)
        return sub_id

    def subscriptions(self, account_id: int) -> list[SubscriptionRow]:
        rows = self._q.subscriptions.all(self._driver, {"account": account_id})
        return [SubscriptionRow(id, url, list(_json(events))) for id, url, events in rows]

    def enqueue_notifications(
        self, account_id: int, stored: Sequence[StoredEvent], at: datetime
    ) -> None:
        """Queue a notification per subscription that asked for each event's type.

        The subscriptions are those committed when ``append`` moved the head (which
        read their version, under the account's row lock on PostgreSQL); this process
        reads them again only when that version has changed.
        """
        if not stored:
            return
        subs = self._subscriptions.get(account_id)
        if subs is None:
            subs = self._current_subscriptions(account_id)
            self._subscriptions[account_id] = subs
        rows = [
            {
                "account_id": account_id,
                "subscription_id": sub.id,
                "event_seq": event.seq,
                "payload": _notification_payload(event),
                "attempts": 0,
                "next_attempt_at": at,
                "leased_until": None,
                "state": "pending",
                "last_error": None,
                "delivered_at": None,
            }
            for event in stored
            for sub in subs
            if event.type in sub.events
        ]
        if rows:
            self._write()
            self._conn.execute(sa.insert(notifications), rows)

    def _current_subscriptions(self, account_id: int) -> list[SubscriptionRow]:
        version = self._subscriptions_version.get(account_id)
        if version is None or account_id in self._subscriptions_written:
            return self.subscriptions(account_id)
        known = self._known_subscriptions.get(account_id)
        if known is not None and known[0] == version:
            return known[1]
        subs = self.subscriptions(account_id)
        self.read_subscriptions[account_id] = (version, subs)
        return subs

    def any_notification_due(self, now: datetime) -> bool:
        return self._conn.execute(_due_notifications(now, 1)).first() is not None

    def claim_notifications(
        self, now: datetime, limit: int, lease_seconds: int
    ) -> list[Notification]:
        """Lease up to ``limit`` due notifications to the caller (other workers skip them)."""
        self._write()
        n, s = notifications, subscriptions
        due = _due_notifications(now, limit)
        if self._postgres:
            due = due.with_for_update(skip_locked=True)
        keys = [tuple(r) for r in self._conn.execute(due)]
        if not keys:
            return []
        until = now + timedelta(seconds=lease_seconds)
        key = sa.tuple_(n.c.account_id, n.c.subscription_id, n.c.event_seq)
        self._conn.execute(sa.update(n).where(key.in_(keys)).values(leased_until=until))
        stmt = (
            sa.select(
                n.c.account_id,
                n.c.subscription_id,
                n.c.event_seq,
                n.c.payload,
                n.c.attempts,
                s.c.url,
                s.c.secret,
            )
            .join(s, sa.and_(s.c.account_id == n.c.account_id, s.c.id == n.c.subscription_id))
            .where(key.in_(keys))
            .order_by(n.c.next_attempt_at)
        )
        return [
            Notification(
                r.account_id,
                r.subscription_id,
                r.event_seq,
                r.url,
                self._sealer.open_text(r.secret),
                dict(r.payload),
                r.attempts,
            )
            for r in self._conn.execute(stmt)
        ]

    def notification_delivered(self, key: tuple[int, int, int], at: datetime) -> None:
        self._update_notification(key, state="done", delivered_at=at, leased_until=None)

    def notification_retry(
        self,
        key: tuple[int, int, int],
        attempts: int,
        next_at: datetime,
        error: str,
        *,
        give_up: bool,
    ) -> None:
        self._update_notification(
            key,
            attempts=attempts,
            next_attempt_at=next_at,
            last_error=error,
            leased_until=None,
            state="failed" if give_up else "pending",
        )

    def notifications(self, account_id: int) -> list[dict[str, Any]]:
        """Every notification of the account with its delivery state (oldest first)."""
        n = notifications
        stmt = (
            sa.select(n)
            .where(n.c.account_id == account_id)
            .order_by(n.c.event_seq, n.c.subscription_id)
        )
        return [dict(r._mapping) for r in self._conn.execute(stmt)]

    def _update_notification(self, key: tuple[int, int, int], **values: Any) -> None:
        self._write()
        n = notifications
        account_id, subscription_id, event_seq = key
        self._conn.execute(
            sa.update(n)
            .where(
                n.c.account_id == account_id,
                n.c.subscription_id == subscription_id,
                n.c.event_seq == event_seq,
            )
            .values(values)
        )


def _notification_payload(event: StoredEvent) -> dict[str, Any]:
    return {
        "id": f"{event.account_id}-{event.seq}",
        "type": event.type,
        "phone": event.phone,
        "data": event.data,
        "occurred_at": event.occurred_at.isoformat(),
        "seq": event.seq,
        "hash": event.hash,
    }


def _message_row(r: Row[Any, Any, Any, Any]) -> MessageRow:
    return MessageRow(
        r.id,
        r.direction,
        r.provider_id,
        r.phone,
        r.sender,
        r.body,
        r.hidden,
        r.status,
        r.reason,
        r.list_name,
        r.campaign,
        r.created_at,
        r.reply,
    )


def _chain(account_id: int, head: Head, items: Sequence[Event], at: datetime) -> list[StoredEvent]:
    """``items`` as the events that follow ``head`` in the account's chain."""
    seq, prev = head
    stored: list[StoredEvent] = []
    for item in items:
        seq += 1
        kind, data = str(item.type), plain(item.data)
        digest = event_hash(prev, account_id, seq, kind, item.phone, data, at)
        stored.append(StoredEvent(account_id, seq, kind, item.phone, data, at, prev, digest))
        prev = digest
    return stored


def _scalars(state: ContactState) -> tuple[bool, Status, bool, bool]:
    return (state.blocked, state.account_status, state.texted, state.clarified)


def _contact_values(account_id: int, state: ContactState, now: datetime) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "phone": state.phone,
        "blocked": state.blocked,
        "status": state.account_status.value,
        "texted": state.texted,
        "clarified": state.clarified,
        "created_at": now,  # kept by the upsert when the contact exists
        "updated_at": now,
    }


def _contact_state(row: Sequence[Any]) -> ContactState:
    """A contact from its row: phone, blocked, status, texted, clarified, by_sender,
    by_list (the last two JSON objects, as text when they come from the driver)."""
    phone, blocked, status, texted, clarified, by_sender, by_list = row
    return ContactState(
        phone=phone,
        blocked=bool(blocked),
        account_status=Status(status),
        sender_status=MappingProxyType({k: Status(v) for k, v in _object(by_sender).items()}),
        lists=MappingProxyType({k: bool(v) for k, v in _object(by_list).items()}),
        texted=bool(texted),
        clarified=bool(clarified),
    )


def _object(value: str | dict[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        loaded: dict[str, Any] = orjson.loads(value)
        return loaded
    return value


def _due_notifications(now: datetime, limit: int) -> sa.Select[tuple[int, int, int]]:
    """The keys of up to ``limit`` notifications due at ``now`` and not leased."""
    n = notifications
    return (
        sa.select(n.c.account_id, n.c.subscription_id, n.c.event_seq)
        .where(
            n.c.state == "pending",
            n.c.next_attempt_at <= now,
            sa.or_(n.c.leased_until.is_(None), n.c.leased_until < now),
        )
        .order_by(n.c.next_attempt_at)
        .limit(limit)
    )


def _account_of(row: Sequence[Any]) -> AccountRow:
    """An account from a row: id, name, profile, overrides (JSON), keywords_version."""
    account_id, name, profile, overrides, keywords_version = row
    return AccountRow(account_id, name, profile, dict(_object(overrides)), keywords_version)


def _json(value: Any) -> Any:
    """A JSON column as the driver returns it: text from SQLite, parsed from psycopg."""
    return orjson.loads(value) if isinstance(value, str) else value


def _event_values(event: StoredEvent) -> dict[str, Any]:
    return {
        "account_id": event.account_id,
        "seq": event.seq,
        "type": event.type,
        "phone": event.phone,
        "data": event.data,
        "occurred_at": event.occurred_at,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _stored_event(row: Row[Any]) -> StoredEvent:
    return StoredEvent(
        row.account_id,
        row.seq,
        row.type,
        row.phone,
        row.data,
        row.occurred_at,
        row.prev_hash,
        row.hash,
    )


def _link_problem(
    account_id: int, row: Row[Any], expected: int, prev: str
) -> tuple[int, str] | None:
    """What is wrong with ``row`` as the event after the one hashed ``prev``, if anything."""
    if row.seq != expected:
        return expected, f"event {expected} is missing (the next stored event is {row.seq})"
    if row.prev_hash != prev:
        after = "the genesis hash" if expected == 1 else f"event {expected - 1}"
        return expected, f"event {expected} does not link to {after} (prev_hash differs)"
    digest = event_hash(prev, account_id, row.seq, row.type, row.phone, row.data, row.occurred_at)
    if digest != row.hash:
        return expected, f"event {expected} was altered: its content does not match its hash"
    return None


def _head_problem(
    last: int, last_hash: str, head_seq: int, head_hash: str
) -> tuple[int | None, str] | None:
    """Does the chain end where the account's head says it does?"""
    if last < head_seq:
        return last + 1, f"event {last + 1} is missing: the ledger's head is event {head_seq}"
    if last > head_seq:
        return head_seq + 1, f"event {head_seq + 1} was inserted past the head (event {head_seq})"
    if last_hash != head_hash:
        return (last or None), f"the ledger's head hash does not match event {last}"
    return None
