"""Helpers for the consent state machine tests (issue 2, section 4), for every profile.

Each test names the rule it proves. Vendor behaviour cites its seed file in
``../shared/seeds/``; the profile that reproduces it is named in the test. Holds no
tests itself: the ``test_consent_*`` modules import it.
"""

from __future__ import annotations

from collections.abc import Mapping

from optline.domain import consent
from optline.domain.classify import classify
from optline.domain.consent import ContactState, Outcome, Sender, Trigger
from optline.domain.consent_codes import EventType, Status
from optline.domain.decisions import Decision, decide
from optline.domain.inbound_text import receive
from optline.domain.policy import Policy, SenderKind
from optline.domain.profiles import PROFILES, get_profile

PHONE = "+15555550123"
S1 = Sender("+15555550001")
S2 = Sender("+15555550002")
NEW_SENDER = "+15555550099"  # a number the contact has never texted
TOLL_FREE = Sender("+18885550100", SenderKind.TOLL_FREE)
SHORT_CODE = Sender("12345", SenderKind.SHORT_CODE)

ALL_PROFILES = sorted(PROFILES)
SENDER_SCOPE = ["callrail", "krispcall", "twilio"]
ACCOUNT_SCOPE = ["business_text", "command", "default", "salesmsg"]
NEVER_RESUBSCRIBE = ["callrail", "command", "krispcall", "salesmsg", "twilio"]
WITH_EVIDENCE = ["business_text", "default"]
NO_IMPLICIT_OPT_IN = [name for name in ALL_PROFILES if name != "business_text"]
# The profiles whose own keywords have no OPTOUT (those of the seeds' products, which
# keep Twilio's list from before 2025-05-14): there it can be a list's keyword alone.
WITHOUT_OPTOUT = [n for n in ALL_PROFILES if "optout" not in get_profile(n).opt_out_words()]

LIST_KEYWORDS: Mapping[str, str] = {"optout": "marketing"}
TRIGGERS: Mapping[str, Trigger] = {
    "deals": Trigger("deals", "Deals are on their way {brand}", subscribe_list="deals"),
    "nodeals": Trigger("nodeals", "No more deals. Code {SAVE20}", unsubscribe_list="deals"),
}


def text(
    state: ContactState,
    body: str,
    policy: Policy,
    sender: Sender = S1,
) -> Outcome:
    """The contact texts ``body`` to ``sender``: classify, then apply."""
    account_keywords = set(LIST_KEYWORDS) | set(TRIGGERS)
    classification = classify(body, policy, account_keywords)
    return receive(state, classification, sender, policy, TRIGGERS, LIST_KEYWORDS)


def run(state: ContactState, policy: Policy, *bodies: str, sender: Sender = S1) -> ContactState:
    for body in bodies:
        state = text(state, body, policy, sender).state
    return state


def check(
    state: ContactState | None,
    policy: Policy,
    sender: Sender | str = S1,
    body: str = "Hi, your table is ready.",
    list_name: str | None = None,
    campaign: bool = False,
) -> Decision:
    number = sender.number if isinstance(sender, Sender) else sender
    return decide(state, number, policy, body, list_name, campaign)


def types(outcome: Outcome) -> list[EventType]:
    return [event.type for event in outcome.events]


def opted_out_state(policy: Policy) -> ContactState:
    return run(ContactState(PHONE), policy, "STOP")


def subscribed(*names: str) -> ContactState:
    state = ContactState(PHONE, account_status=Status.OPTED_IN)
    for name in names:
        state = consent.subscribe(state, name).state
    return state
