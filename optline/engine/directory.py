"""The engine's directory: accounts, API keys, senders, lists, triggers and policy, and
the per-process caches that spare every inbound text and send from reading them again.

Belongs here: creating and reading accounts and their keys, senders, lists and
triggers; a policy change (and the widening of opt-outs it may bring); the look-ups
every use case makes inside its transaction (the sender of an account, its policy, its
keywords), each kept in a cache while what it was built from stays as it was. Not
here: anything about one contact's consent (``changes``) or one message (``inbound``,
``outbound``, ``handover``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from optline.domain import bulk, consent, inputs, written_consent
from optline.domain.actors import DEFAULT_KEY_NAME, Actor
from optline.domain.carriers import is_help_keyword
from optline.domain.consent import ContactState, Trigger
from optline.domain.policy import (
    HELP_KEYWORDS,
    RESERVED_KEYWORDS,
    Policy,
    SenderKind,
    missing_help_fields,
    widens_scope,
)
from optline.domain.policy_overrides import BadOverride, with_overrides
from optline.domain.profiles import UnknownProfile, get_profile
from optline.domain.reassigned import ReassignedNumbers
from optline.domain.text import normalise_keyword
from optline.domain.users import USER_ACTOR_PREFIX, user_of_actor
from optline.engine.context import (
    SHORT_CODE,
    AccountRef,
    Context,
    Dispatch,
    checked_actor,
    key_hash,
    new_key,
    sender_number,
    utcnow,
)
from optline.engine.results import PolicyChange
from optline.errors import (
    AlreadyExists,
    BadInput,
    ConfirmationRequired,
    MissingField,
    UnknownSender,
)
from optline.providers import credentials as provider_credentials
from optline.store import AccountRow, Conflict, ListRow, SenderRow, Store, Tx


class Directory(Context):
    """The engine's per-process caches and the account settings they cache."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime] = utcnow,
        dispatch: Dispatch | None = None,
        reassigned: ReassignedNumbers | None = None,
    ) -> None:
        super().__init__(store, clock, dispatch, reassigned)
        self._policies: dict[tuple[str, str], Policy] = {}
        self._account_policies: dict[int, tuple[tuple[str, str, dict[str, Any]], Policy]] = {}
        # Sender number -> its row, once found (see _lookup_sender).
        self._known_senders: dict[str, SenderRow] = {}
        # Account id -> (keywords_version, triggers, list keywords).
        self._keywords: dict[int, tuple[int, dict[str, Trigger], dict[str, str]]] = {}

    def sender(self, number: str) -> SenderRow | None:
        """The registered sender with this number, in any account (webhook routing)."""
        known = self._known_senders.get(number)
        if known is not None:
            return known
        with self.store.read() as tx:
            return self._lookup_sender(tx, number)

    def _lookup_sender(self, tx: Tx, number: str) -> SenderRow | None:
        # A registered sender never changes or moves (nothing updates or deletes one),
        # so a row once found is kept: a webhook's signature check and the receive
        # that follows it then read it once. A number not found is always asked again.
        known = self._known_senders.get(number)
        if known is None:
            known = tx.senders.get(number)
            if known is not None:
                self._known_senders[number] = known
        return known

    def _sender(self, tx: Tx, account: AccountRow, number: str) -> SenderRow:
        row = self._lookup_sender(tx, number)
        if row is None or row.account_id != account.id:
            raise UnknownSender(f"{number} is not a sender of account {account.name!r}")
        return row

    def _policy_of(self, row: AccountRow) -> Policy:
        # Kept by account while its profile, name and overrides stay as they were:
        # comparing them costs less than the key of the cache below (every inbound
        # text and send asks).
        kept = self._account_policies.get(row.id)
        if kept is not None and kept[0] == (row.profile, row.name, row.overrides):
            return kept[1]
        # Replies name the brand (CTIA 5.1.2.1); the account name stands in until set.
        policy = self._build_policy(row.profile, {"brand": row.name, **row.overrides})
        settings = (row.profile, row.name, copy.deepcopy(row.overrides))
        self._account_policies[row.id] = (settings, policy)
        return policy

    def _build_policy(self, profile: str, overrides: dict[str, Any]) -> Policy:
        key = (profile, json.dumps(overrides, sort_keys=True))
        policy = self._policies.get(key)
        if policy is None:
            try:
                policy = with_overrides(get_profile(profile), overrides)
            except (UnknownProfile, BadOverride) as exc:
                raise BadInput(str(exc)) from None
            self._policies[key] = policy
        return policy

    @staticmethod
    def _require_help_fields(policy: Policy) -> None:
        """An account is never created or left with a HELP answer that misses a field
        it names (CTIA 5.1.2.1: HELP gives a support contact; not "Help at .")."""
        for name in missing_help_fields(policy):
            raise MissingField(
                f"{name}: profile {policy.name!r} answers HELP with a support contact; "
                f"set the {name} override",
                name,
            )

    def _account_keywords(
        self, tx: Tx, row: AccountRow
    ) -> tuple[Mapping[str, Trigger], Mapping[str, str]]:
        """The account's triggers and list opt-out keywords (keyword form -> list), kept
        between inbound texts while the account's ``keywords_version`` stays put."""
        kept = self._keywords.get(row.id)
        if kept is not None and kept[0] == row.keywords_version:
            return kept[1], kept[2]
        triggers = {t.keyword: t for t in tx.senders.triggers(row.id)}
        list_keywords = {
            lst.opt_out_keyword: lst.name for lst in tx.senders.lists(row.id) if lst.opt_out_keyword
        }
        self._keywords[row.id] = (row.keywords_version, triggers, list_keywords)
        return triggers, list_keywords

    @staticmethod
    def _account_keyword(keyword: str, help_reply: bool = False) -> str:
        """``keyword`` in keyword form, refused when reserved; ``help_reply``: a trigger's
        keyword, which may be a help word (its reply is then the account's help reply)."""
        try:
            form = normalise_keyword(inputs.keyword(keyword))
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        if form in RESERVED_KEYWORDS:
            raise BadInput(
                f"{form.upper()} is reserved: a carrier-wide opt-out or opt-in keyword,"
                " or a revocation per se (47 CFR 64.1200(a)(10))"
            )
        if form in HELP_KEYWORDS and not help_reply:
            raise BadInput(
                f"{form.upper()} is reserved: a carrier-wide help keyword, which only a"
                " trigger may take (its reply is then the account's help reply)"
            )
        return form

    @staticmethod
    def _keyword_free(tx: Tx, account: AccountRow, keyword: str) -> None:
        taken = {t.keyword for t in tx.senders.triggers(account.id)} | {
            lst.opt_out_keyword for lst in tx.senders.lists(account.id)
        }
        if keyword in taken:
            raise AlreadyExists(f"keyword {keyword.upper()} is already used by this account")

    def create_account(
        self, name: str, profile: str = "default", overrides: dict[str, Any] | None = None
    ) -> AccountRow:
        name = inputs.account_name(name)
        self._require_help_fields(self._build_policy(profile, overrides or {}))
        with self.store.transaction() as tx:
            try:
                return tx.accounts.create(name, profile, overrides or {})
            except Conflict:
                raise AlreadyExists(f"account {name!r} already exists") from None

    def create_account_with_key(
        self,
        name: str,
        profile: str = "default",
        overrides: dict[str, Any] | None = None,
        key_name: str = DEFAULT_KEY_NAME,
    ) -> tuple[AccountRow, str]:
        """Create an account and its API key; the key is returned once, stored hashed."""
        key_name = inputs.actor(key_name, "key name")
        row = self.create_account(name, profile, overrides)
        return row, self.issue_api_key(row.name, key_name)

    def issue_api_key(self, account: AccountRef, name: str = DEFAULT_KEY_NAME) -> str:
        """A new API key for the account (replacing any earlier one); ``name`` is
        recorded as who made each change made with it (API, web UI)."""
        name = inputs.actor(name, "key name")
        if user_of_actor(name) is not None:  # a user's name in the ledger, not a key's
            raise BadInput(f"key name {name!r}: names starting {USER_ACTOR_PREFIX!r} are users'")
        key = new_key()
        with self.store.transaction() as tx:
            tx.accounts.set_api_key_hash(self._account(tx, account).id, key_hash(key), name)
        return key

    def account_for_key(self, key: str) -> AccountRow | None:
        """The account as the holder of this API key acts in it: the account's own key
        (its admin), else an active user's key (that user, their role)."""
        hashed = key_hash(key)
        with self.store.read() as tx:
            return tx.accounts.by_key_hash(hashed) or tx.users.by_key_hash(hashed)

    def accounts(self) -> list[AccountRow]:
        with self.store.read() as tx:
            return tx.accounts.all()

    def account(self, account: AccountRef) -> AccountRow:
        with self.store.read() as tx:
            return self._account(tx, account)

    def policy(self, account: AccountRef) -> Policy:
        with self.store.read() as tx:
            return self._policy_of(self._account(tx, account))

    def set_policy(
        self,
        account: AccountRef,
        profile: str | None = None,
        overrides: dict[str, Any] | None = None,
        confirm: bool = False,
        actor: Actor | None = None,
    ) -> PolicyChange:
        """Switch the account's profile and/or replace its overrides.

        A switch that widens scope (per sender -> account) widens the opt-outs on
        record in the same transaction: every contact opted out of any sender is opted
        out of the account (``bulk.widen_scope``, an event each, no text sent).
        When it would change any contact, nothing is written unless ``confirm``:
        :class:`ConfirmationRequired` says how many it would change.
        """
        actor = checked_actor(actor)
        now = self._clock()
        with self.store.transaction() as tx:
            row = self._account(tx, account, exclusive=True)
            old_policy = self._policy_of(row)
            new_profile = profile or row.profile
            new_overrides = row.overrides if overrides is None else overrides
            policy = self._build_policy(new_profile, new_overrides)
            self._require_help_fields(policy)
            outcomes: list[tuple[ContactState, consent.Outcome]] = []
            if widens_scope(old_policy, policy):
                phones = tx.contacts.phones_with_sender_consent(row.id)
                for state in self._lock_contacts(tx, row.id, phones).values():
                    assert state is not None
                    outcome = bulk.widen_scope(state)
                    if outcome.events:
                        outcomes.append((state, outcome))
            if outcomes and not confirm:
                raise ConfirmationRequired(
                    f"this policy change widens scope from sender to account: it opts "
                    f"{len(outcomes)} contact(s) opted out of one number out of the whole "
                    "account; confirm to apply it",
                    changes=len(outcomes),
                )
            for before, outcome in outcomes:
                self._apply(tx, row.id, before, outcome, now, actor)
            tx.accounts.set_policy(row.id, new_profile, new_overrides)
            return PolicyChange(policy, len(outcomes))

    def add_sender(
        self,
        account: AccountRef,
        number: str,
        kind: SenderKind | str = SenderKind.LONG_CODE,
        provider: str | None = None,
        credentials: Mapping[str, str] | None = None,
        provider_replies: bool = False,
    ) -> SenderRow:
        """Register a number; ``provider`` and ``credentials`` verify its webhooks and
        send its texts (twilio: account_sid, auth_token; telnyx: api_key, public_key;
        generic: secret)."""
        try:
            kind = SenderKind(kind)
        except ValueError:
            raise BadInput(f"unknown sender kind {kind!r}") from None
        number = sender_number(number)
        if (kind is SenderKind.SHORT_CODE) != bool(SHORT_CODE.match(number)):
            raise BadInput(f"{number} is not a {kind.value.replace('_', ' ')} number")
        try:
            # A credential its provider cannot use would fail every webhook to the
            # sender (a Telnyx public key that does not load): refused here instead.
            provider_credentials.check(provider, credentials or {})
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            try:
                return tx.senders.add(
                    row.id, number, kind, provider, dict(credentials or {}), provider_replies
                )
            except Conflict:
                raise AlreadyExists(f"sender {number} is already registered") from None

    def reseal_secrets(self) -> int:
        """Seal every stored provider credential and signing secret with the store's
        first key (after setting ``OPTLINE_SECRET_KEY``, or putting a new key first);
        returns how many were written."""
        with self.store.transaction() as tx:
            return tx.senders.reseal_secrets()

    def senders_of_provider(self, provider: str) -> list[SenderRow]:
        """Every registered sender of ``provider`` (to check a webhook that names none)."""
        with self.store.read() as tx:
            return tx.senders.of_provider(provider)

    def senders(self, account: AccountRef) -> list[SenderRow]:
        with self.store.read() as tx:
            return tx.senders.of_account(self._account(tx, account).id)

    def lists(self, account: AccountRef) -> list[ListRow]:
        with self.store.read() as tx:
            return tx.senders.lists(self._account(tx, account).id)

    def triggers(self, account: AccountRef) -> list[Trigger]:
        with self.store.read() as tx:
            return tx.senders.triggers(self._account(tx, account).id)

    def create_list(
        self,
        account: AccountRef,
        name: str,
        opt_out_keyword: str | None = None,
        purpose: str | None = None,
    ) -> ListRow:
        """Create a list; returns it as stored (its name trimmed, its keyword in keyword
        form). ``purpose``: the purpose its texts are of (one of the account's)."""
        name = inputs.list_name(name)
        keyword = self._account_keyword(opt_out_keyword) if opt_out_keyword else None
        purpose = None if purpose is None else inputs.purpose(purpose)
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            if keyword is not None:
                self._keyword_free(tx, row, keyword)
            if purpose is not None:
                self._known_purpose(tx, row, purpose)
            try:
                return tx.senders.create_list(row.id, name, keyword, purpose)
            except Conflict:
                raise AlreadyExists(f"list {name!r} already exists") from None

    def add_trigger(
        self,
        account: AccountRef,
        keyword: str,
        reply: str,
        unsubscribe_list: str | None = None,
        subscribe_list: str | None = None,
        confirm_purpose: str | None = None,
    ) -> Trigger:
        """A keyword with an automatic reply and an optional list action. On a help
        keyword (HELP, INFO or one of the policy's own) the reply is the account's help
        reply, answered as HELP is, and takes no list action. ``confirm_purpose``: a
        join keyword that asks for the contact's YES first (double opt-in), recording
        written consent for that purpose; its reply is sent once they confirm."""
        reply = inputs.outbound_text(reply, "trigger reply")
        trigger = Trigger(
            self._account_keyword(keyword, help_reply=True),
            reply,
            unsubscribe_list,
            subscribe_list,
            None if confirm_purpose is None else written_consent.purpose(confirm_purpose),
        )
        with self.store.transaction() as tx:
            row = self._account(tx, account)
            acts = unsubscribe_list or subscribe_list or trigger.confirm_purpose
            if acts and is_help_keyword(trigger.keyword, self._policy_of(row)):
                raise BadInput(
                    f"{trigger.keyword.upper()} is a help keyword: its trigger is the"
                    " account's help reply and takes no list action"
                )
            self._keyword_free(tx, row, trigger.keyword)
            for list_name in (unsubscribe_list, subscribe_list):
                self._known_list(tx, row, list_name)
            tx.senders.add_trigger(row.id, trigger)
            return trigger
