"""Property tests of the purpose rules (optline.domain.purposes), pure: random
sequences of consent changes, inbound revocations under ``revoke_all`` on and off, and
answers to the (a)(12) question, checked after each step against these rules:

- an account-wide opt-out (or block) ends every purpose from every sender;
- an opt-out of one purpose ends that purpose from every sender and leaves every other
  purpose's status as it was;
- a sender's own opt-out ends every purpose from that sender;
- with ``revoke_all`` on, a STOP ends every purpose; off, it ends at least the purpose
  of the text answered, and all of them where the contact held several;
- an answer to the question stops exactly the purposes it names (ALL: every one);
- the events replay (optline.domain.projection) to the same consent as the state;
- the state's consent never changes without an event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from optline.domain import consent, projection, purposes
from optline.domain.classify import Classification
from optline.domain.consent import ContactState, Outcome, Sender
from optline.domain.consent_codes import Method, Status
from optline.domain.policy import Intent, Policy, Scope
from optline.domain.policy_overrides import with_overrides
from optline.domain.profiles import get_profile

PHONE = "+15555550123"
SENDERS = ("+15555550001", "+15555550002")
PURPOSES = ("marketing", "informational", "appointment_reminders")
NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
STOP = Classification(Intent.OPT_OUT, keyword="stop", language="en")


class _Event:
    """An event as the ledger would store it, for the replay."""

    def __init__(self, seq: int, event: consent.Event) -> None:
        self.seq = seq
        self.type = event.type.value
        self.phone: str | None = event.phone
        self.data = event.data
        self.occurred_at = NOW


def _policy(scope: Scope, revoke_all: str) -> Policy:
    return with_overrides(get_profile("default"), {"scope": scope.value, "revoke_all": revoke_all})


actions = st.one_of(
    st.tuples(st.just("opt_out"), st.sampled_from((None, *SENDERS))),
    st.tuples(st.just("opt_in"), st.sampled_from((None, *SENDERS))),
    st.tuples(st.just("purpose_out"), st.sampled_from(PURPOSES)),
    st.tuples(st.just("purpose_in"), st.sampled_from(PURPOSES)),
    st.tuples(st.just("stop"), st.sampled_from(SENDERS), st.sampled_from(PURPOSES)),
    st.tuples(st.just("answer"), st.sets(st.sampled_from((*PURPOSES, "all")), min_size=1)),
    st.tuples(st.just("block")),
    st.tuples(st.just("unblock")),
)


def _statuses(state: ContactState) -> dict[tuple[str | None, str], Status]:
    return {(s, p): state.status_from(s, p) for s in (None, *SENDERS) for p in PURPOSES}


def _step(state: ContactState, policy: Policy, action: tuple[Any, ...]) -> Outcome:
    kind = action[0]
    if kind == "opt_out":
        return consent.opt_out(state, policy, action[1])
    if kind == "opt_in":
        if state.blocked:
            return Outcome(state)
        return consent.opt_in(state, policy, "form 12", action[1])
    if kind == "purpose_out":
        return purposes.opt_out(state, action[1])
    if kind == "purpose_in":
        if state.blocked:
            return Outcome(state)
        return purposes.opt_in(state, policy, action[1], "form 12")
    if kind == "stop":
        _, sender, answered = action
        return purposes.receive(
            state, STOP, "STOP", Sender(sender), policy, now=NOW, answered=answered,
            purposes=PURPOSES,
        )  # fmt: skip
    if kind == "answer":
        words = " ".join(sorted(action[1])) if "all" not in action[1] else "ALL"
        return purposes.receive(
            state, Classification(Intent.NONE), words, Sender(SENDERS[0]), policy,
            now=NOW + timedelta(minutes=1), answered="informational", purposes=PURPOSES,
        )  # fmt: skip
    if kind == "block":
        return consent.block(state)
    return consent.unblock(state)


@settings(max_examples=300, deadline=None)
@given(
    scope=st.sampled_from(Scope),
    revoke_all=st.sampled_from(("on", "off")),
    steps=st.lists(actions, max_size=12),
)
def test_purpose_rules_hold_after_every_step(
    scope: Scope, revoke_all: str, steps: list[tuple[Any, ...]]
) -> None:
    policy = _policy(scope, revoke_all)
    state = ContactState(PHONE)
    recorded: list[_Event] = []
    for action in steps:
        before = state
        outcome = _step(state, policy, action)
        state = outcome.state
        recorded += [_Event(len(recorded) + 1, e) for e in outcome.events]
        now = _statuses(state)
        kind = action[0]
        if kind in ("opt_out", "block") and (kind == "block" or action[1] is None):
            assert all(s in (Status.OPTED_OUT, Status.BLOCKED) for s in now.values())
        stopped = (Status.OPTED_OUT, Status.BLOCKED)
        if kind == "opt_out" and action[1] is not None and scope is Scope.SENDER:
            assert all(now[(action[1], p)] in stopped for p in PURPOSES)
        if kind == "purpose_out":
            gone = action[1]
            for (sender, p), status in now.items():
                if p == gone:
                    assert status in (Status.OPTED_OUT, Status.BLOCKED)
                else:
                    assert status == before.status_from(sender, p)
        if kind == "stop" and not before.blocked:
            sender, answered = action[1], action[2]
            assert now[(sender, answered)] is Status.OPTED_OUT
            held = purposes.consented(before, sender, PURPOSES)
            if revoke_all == "on" or scope is Scope.SENDER or len(held) > 1:
                assert all(now[(sender, p)] is Status.OPTED_OUT for p in PURPOSES)
        if kind == "answer" and before.choice_until is not None and not before.blocked:
            named = set(PURPOSES) if "all" in action[1] else action[1]
            for p in before.choice_purposes:
                expected = Status.OPTED_OUT if p in named else Status.OPTED_IN
                assert state.status_from(None, p) is expected
        if not outcome.events:
            assert (state.account_status, state.sender_status, state.purposes) == (
                before.account_status,
                before.sender_status,
                before.purposes,
            )
    replayed = projection.replay(recorded).get(PHONE) or projection.Projection(PHONE)
    assert replayed.blocked == state.blocked
    assert replayed.account_status is state.account_status
    assert {s: m.status for s, m in replayed.senders.items()} == dict(state.sender_status)
    assert {p: m.status for p, m in replayed.purposes.items()} == dict(state.purposes)


@given(st.sets(st.sampled_from(PURPOSES), min_size=1), st.booleans())
def test_an_answer_names_exactly_the_purposes_it_says(named: set[str], shout: bool) -> None:
    said = " and ".join(p.replace("_", " ") for p in sorted(named))
    said = said.upper() if shout else said
    assert set(purposes.choice_of(said, PURPOSES) or ()) == named
    assert purposes.choice_of("All", PURPOSES) == PURPOSES
    assert purposes.choice_of(f"{said} maybe", PURPOSES) is None
    assert purposes.choice_of("thanks", PURPOSES) is None


def test_a_send_with_no_purpose_keeps_its_meaning() -> None:
    assert purposes.of_send(None, campaign=True) == "marketing"
    assert purposes.of_send(None, campaign=False) == "informational"
    assert purposes.of_send(None, campaign=True, list_purpose="appointment_reminders") == (
        "appointment_reminders"
    )
    # A contact with no consent of a purpose's own: every purpose as the scope says.
    state = ContactState(PHONE, account_status=Status.OPTED_OUT)
    assert all(state.status_from(None, p) is Status.OPTED_OUT for p in PURPOSES)
    marked = ContactState(PHONE, purposes=MappingProxyType({"marketing": Status.OPTED_IN}))
    assert marked.status_from(None, "marketing") is Status.OPTED_IN
    assert marked.status_from(None) is Status.NO_CONSENT
    assert Method.PURPOSE_CHOICE.value == "purpose_choice"
