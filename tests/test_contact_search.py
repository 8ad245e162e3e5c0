"""A listing's exact count is the number of contacts its pages show, whatever the
population and the filter (the count is computed in parts; the pages are not), and a
contact is kept exactly when its consent says so, on SQLite and PostgreSQL. With a
purpose, the status is the one the send gate decides a text of that purpose by."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optline.domain.consent import ContactState
from optline.domain.consent_codes import Reason, Status
from optline.domain.contact_filter import ContactFilter
from optline.domain.decisions import decide
from optline.domain.profiles import get_profile
from optline.domain.purposes import INFORMATIONAL, MARKETING
from optline.store import Store

SENDERS = ("+15550109001", "+15550109002")
STATUSES = (Status.NO_CONSENT, Status.OPTED_IN, Status.OPTED_OUT)
PURPOSES = (MARKETING, INFORMATIONAL)
_accounts = itertools.count()

Person = tuple[bool, Status, dict[str, Status], bool, dict[str, Status]]

contact_states = st.tuples(
    st.booleans(),
    st.sampled_from(STATUSES),
    st.dictionaries(st.sampled_from(SENDERS), st.sampled_from(STATUSES), max_size=2),
    st.booleans(),
    # A purpose's own consent is an opt-in or an opt-out (optline.domain.purposes).
    st.dictionaries(
        st.sampled_from(PURPOSES), st.sampled_from((Status.OPTED_IN, Status.OPTED_OUT))
    ),
)
filters = st.builds(
    ContactFilter,
    status=st.none() | st.sampled_from(Status),
    list_name=st.none() | st.just("news"),
    sender=st.none() | st.sampled_from(SENDERS),
    number=st.none() | st.sampled_from(["+1555010000", "7", "01000", "+1"]),
    purpose=st.none() | st.sampled_from(PURPOSES),
)


def kept(state: ContactState, query: ContactFilter) -> bool:
    """What the filter means, said in Python over the contact's state."""
    if query.status is Status.BLOCKED and not state.blocked:
        return False
    if query.status not in (None, Status.BLOCKED):
        if state.blocked:
            return False
        if query.purpose is not None:
            # The send gate's own reading, from the sender or else the account.
            if state.status_from(query.sender, query.purpose) is not query.status:
                return False
        elif query.sender is not None:
            # Any purpose's own consent counts too, unless the sender's opt-out stops it.
            stopped = state.sender_status.get(query.sender) is Status.OPTED_OUT
            of_purposes = set() if stopped else set(state.purposes.values())
            if query.status not in {state.status_from(query.sender), *of_purposes}:
                return False
        elif query.status not in {
            state.account_status,
            *state.sender_status.values(),
            *state.purposes.values(),
        }:
            return False
    if query.list_name is not None and query.list_name not in state.lists:
        return False
    if query.number is not None:
        if query.number.startswith("+"):
            return state.phone.startswith(query.number)
        return query.number in state.phone
    return True


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=st.lists(contact_states, max_size=12), queries=st.lists(filters, min_size=4))
def test_the_count_is_what_the_pages_show_and_the_filter_means(
    store: Store,
    people: list[Person],
    queries: list[ContactFilter],
) -> None:
    with store.transaction() as tx:
        account_id = tx.accounts.create(f"acct{next(_accounts)}", "twilio").id
        states = [
            ContactState(
                f"+155501000{i:02d}",
                blocked=blocked,
                account_status=status,
                sender_status=own,
                lists={"news": True} if member else {},
                purposes=of_purpose,
            )
            for i, (blocked, status, own, member, of_purpose) in enumerate(people)
        ]
        for state in states:
            tx.contacts.save(account_id, state, datetime.now(UTC))
    with store.read() as tx:
        for query in queries:
            pages: list[str] = []
            after = None
            while page := tx.contacts.find(account_id, query, after=after, limit=5):
                pages += [c.phone for c in page]
                after = page[-1].phone
            assert pages == [s.phone for s in states if kept(s, query)], query
            assert tx.contacts.count(account_id, query) == len(pages), query


@settings(max_examples=200, deadline=None)
@given(person=contact_states, sender=st.sampled_from(SENDERS), purpose=st.sampled_from(PURPOSES))
def test_a_purpose_filter_keeps_what_the_send_gate_decides_by(
    person: Person, sender: str, purpose: str
) -> None:
    """The filter's meaning above (``kept``) agrees with ``decide``: a contact kept as
    opted out of a purpose from a sender is one whose text of that purpose from that
    sender is refused as opted out, and one kept as opted in is never refused so."""
    blocked, status, own, _, of_purpose = person
    state = ContactState(
        "+15550100001",
        blocked=blocked,
        account_status=status,
        sender_status=own,
        purposes=of_purpose,
    )
    decision = decide(state, sender, get_profile("default"), "", purpose=purpose)
    out = kept(state, ContactFilter(Status.OPTED_OUT, sender=sender, purpose=purpose))
    assert out == (decision.reason is Reason.OPTED_OUT)
    if kept(state, ContactFilter(Status.OPTED_IN, sender=sender, purpose=purpose)):
        assert decision.reason not in (Reason.OPTED_OUT, Reason.BLOCKED, Reason.NO_CONSENT)
