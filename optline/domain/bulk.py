"""Consent changed for many contacts at once, one contact at a time: the account's
policy widened from per-sender to account scope, and a row of a contacts import. Pure,
as the state machine it builds on (:mod:`optline.domain.consent`).
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

# The state machine's own steps: one list change, one opt-out in the policy's scope.
from optline.domain.consent import (
    ContactState,
    Event,
    Outcome,
    block,
    list_change,
    new_event,
    opt_in,
    scoped_opt_out,
)
from optline.domain.consent_codes import ChangeReason, EventType, Method, Source, Status
from optline.domain.policy import Policy


def widen_scope(state: ContactState) -> Outcome:
    """The account's policy moved from SENDER to ACCOUNT scope: a contact opted out of
    any sender is opted out of the account.

    A revocation must not be lost by a change of the business's own settings (47 CFR
    64.1200(a)(10); revoke-all, delayed to 2027-01-31, is the protective reading):
    under ACCOUNT scope one opt-out covers every sender, so an opt-out that was kept
    for one number now covers them all, also where the contact had opted back in on
    another number. No text is sent for it. A contact with no opt-out is unchanged.
    """
    out_of = sorted(s for s, status in state.sender_status.items() if status is Status.OPTED_OUT)
    opted_back_in = sorted(
        s for s, status in state.sender_status.items() if status is Status.OPTED_IN
    )
    everywhere_out = state.account_status is Status.OPTED_OUT
    if not out_of and not (everywhere_out and opted_back_in):
        return Outcome(state)
    new = replace(
        state,
        account_status=Status.OPTED_OUT,
        sender_status=MappingProxyType({}),
        clarified=False,
        written=frozenset(),
    )
    event = new_event(
        EventType.OPTED_OUT,
        new,
        Source.POLICY,
        None,
        scope="account",
        method=Method.SCOPE_WIDENED.value,
        reason=ChangeReason.SCOPE_WIDENED.value,
        opted_out_of=out_of or None,
        opted_in_to=opted_back_in or None,
    )
    return Outcome(new, (event,))


def imported(
    state: ContactState,
    policy: Policy,
    status: Status,
    lists: tuple[str, ...] = (),
    evidence: str | None = None,
) -> Outcome:
    """One row of a contacts import: list memberships, then the row's status.

    An opt-in follows the same policy as a manual one and is recorded with its
    evidence (method ``import``); a row ``opted_in`` without evidence leaves a contact
    with no consent on record as it is (nothing to record), and so does ``no_consent``.
    """
    events: list[Event] = []
    for list_name in lists:
        if state.lists.get(list_name) is not True:
            state, event = list_change(state, list_name, True, Source.IMPORT, None)
            events.append(event)
    current = state.status_from(None)
    if status is Status.BLOCKED and not state.blocked:
        step = block(state, note="import", source=Source.IMPORT)
    elif status is Status.OPTED_OUT and not state.blocked:
        # Everywhere: a sender opted back in under SENDER scope is opted out too.
        opted_out, event, already = scoped_opt_out(
            state, None, policy, Source.IMPORT, True, Method.IMPORT
        )
        step = Outcome(state) if already else Outcome(opted_out, (event,))
    elif status is Status.OPTED_IN and (
        current is Status.OPTED_OUT or (current is Status.NO_CONSENT and evidence)
    ):
        step = opt_in(state, policy, evidence, method=Method.IMPORT, source=Source.IMPORT)
    else:
        step = Outcome(state)
    return Outcome(step.state, (*events, *step.events))
