"""The codes of consent: statuses, event types, sources, methods and reason codes.

Stable values that the ledger, the projection, the store and the API record and
compare; enums and the tables between them only, no rules (those are in
:mod:`optline.domain.consent` and the modules built on it).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Status(StrEnum):
    # Nothing on record for this scope: a number never seen, or one only ever texted.
    NO_CONSENT = "no_consent"
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"
    BLOCKED = "blocked"  # only ever an effective status: blocked is a flag on the contact


class EventType(StrEnum):
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    OPT_IN_REFUSED = "opt_in_refused"
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"
    HELP_ANSWERED = "help_answered"
    LIST_SUBSCRIBED = "list_subscribed"
    LIST_UNSUBSCRIBED = "list_unsubscribed"
    TRIGGER_FIRED = "trigger_fired"
    REVOCATION_FLAGGED = "revocation_flagged"
    FLAG_DISMISSED = "flag_dismissed"  # a flagged reply reviewed: not a revocation
    SEND_REFUSED = "send_refused"
    SEND_SETTLED = "send_settled"  # a send's unknown outcome settled after the fact
    MESSAGE_REDACTED = "message_redacted"  # a text's body erased (its hash stays)
    # Prior express written consent on record (optline.domain.written_consent).
    CONSENT_RECORDED = "consent_recorded"
    # A join keyword's opt-in confirmation sent: consent waits for the contact's YES.
    CONFIRMATION_REQUESTED = "confirmation_requested"
    # A contact's number changed (optline.domain.moves): its consent left this number ...
    NUMBER_MOVED_OUT = "number_moved_out"
    # ... and arrived on the new one.
    NUMBER_MOVED_IN = "number_moved_in"


class Source(StrEnum):
    """Who or what caused a change, recorded on every event."""

    KEYWORD = "keyword"  # the contact texted a keyword
    IMPLICIT = "implicit"  # any inbound text, under implicit_opt_in (seed 001)
    MANUAL = "manual"  # the business, by API, CLI or UI
    PROVIDER = "provider"  # the SMS provider reported the number opted out
    IMPORT = "import"  # a contacts import
    POLICY = "policy"  # a change of the account's policy
    LOOKUP = "lookup"  # the reassigned-numbers check reported the number reassigned


class Method(StrEnum):
    """How a scope's consent came to be what it is, on every opted_in / opted_out event
    (``method``) and on the projection (see :mod:`optline.domain.projection`)."""

    KEYWORD = "keyword"  # STOP, START, ARRET...: a keyword of the policy
    PLAIN_LANGUAGE = "plain_language"  # "please stop texting me" (64.1200(a)(10))
    CONVERSATION = "conversation"  # a text from the contact opted them back in (seed 001)
    WEB_FORM = "web_form"  # opted in by the business with a web form's evidence
    MANUAL = "manual"  # by the business (API, CLI, UI); an opt-in with evidence
    IMPORT = "import"  # a contacts import (an opt-in with evidence)
    PROVIDER = "provider"  # the provider reported the number opted out (21610...)
    SCOPE_WIDENED = "scope_widened"  # the policy's scope widened (``widen_scope``)
    WRITTEN_CONSENT = "written_consent"  # written consent recorded by the business
    DOUBLE_OPT_IN = "double_opt_in"  # the contact's YES to an opt-in confirmation
    # "Wrong number": whoever consented does not have this number (wrong_number.py).
    WRONG_NUMBER = "wrong_number"
    # The reassigned-numbers check: the number has a new holder since the consent.
    NUMBER_REASSIGNED = "number_reassigned"
    # The contact named the purposes a revocation meant (64.1200(a)(12)): the others
    # are given back (optline.domain.purposes).
    PURPOSE_CHOICE = "purpose_choice"


#: The method of an event that names none (written before methods were recorded):
#: its source says it, but for a keyword event, whose keyword then says which.
SOURCE_METHODS: Mapping[str, Method] = MappingProxyType(
    {
        Source.KEYWORD: Method.KEYWORD,
        Source.IMPLICIT: Method.CONVERSATION,
        Source.MANUAL: Method.MANUAL,
        Source.PROVIDER: Method.PROVIDER,
        Source.IMPORT: Method.IMPORT,
        Source.POLICY: Method.SCOPE_WIDENED,
        Source.LOOKUP: Method.NUMBER_REASSIGNED,
    }
)

#: The methods a business may name for an opt-in it makes by hand (with evidence).
MANUAL_OPT_IN_METHODS = frozenset({Method.MANUAL, Method.WEB_FORM})


class ChangeReason(StrEnum):
    """Why a change no one asked for on this contact was made (on its event)."""

    # The policy's scope widened (per sender -> account): an opt-out from one sender
    # now covers the account (see :func:`optline.domain.bulk.widen_scope`).
    SCOPE_WIDENED = "scope_widened"


class ProviderScope(StrEnum):
    """What a provider's own opt-out covers, where it is wider than the one number the
    contact texted STOP to (Twilio's, outside a Messaging Service) or a send was
    refused from."""

    # Telnyx keeps opt-outs per messaging profile: a STOP to one of its numbers blocks
    # the contact on every number of that profile.
    MESSAGING_PROFILE = "messaging_profile"


class Reason(StrEnum):
    """Stable reason codes for refused outbound texts."""

    BLOCKED = "blocked"
    OPTED_OUT = "opted_out"
    LIST_UNSUBSCRIBED = "list_unsubscribed"
    MISSING_OPT_OUT_LANGUAGE = "missing_opt_out_language"
    # No consent on record, where the policy's ``no_consent`` does not allow the text.
    NO_CONSENT = "no_consent"
    # A reply that may revoke consent waits for review (``hold_campaigns_on_review``).
    REVOCATION_PENDING_REVIEW = "revocation_pending_review"
    # Send windows and caps (optline.domain.windows): held until ``next_allowed_at``.
    OUTSIDE_SEND_WINDOW = "outside_send_window"
    FREQUENCY_CAP = "frequency_cap"
    # A campaign text with no prior express written consent on record for marketing,
    # where the policy requires it (``written_consent_required``; 64.1200(a)(2)).
    NO_WRITTEN_CONSENT = "no_written_consent"
    # The reassigned-numbers check reports a new holder since the consent was given.
    NUMBER_REASSIGNED = "number_reassigned"
