"""A listing's exact count is the number of contacts its pages show, whatever the
population and the filter (the count is computed in parts; the pages are not), and a
contact is kept exactly when its consent says so, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optline.domain.consent import ContactState
from optline.domain.consent_codes import Status
from optline.domain.contact_filter import ContactFilter
from optline.store import Store

SENDERS = ("+15550109001", "+15550109002")
STATUSES = (Status.NO_CONSENT, Status.OPTED_IN, Status.OPTED_OUT)
_accounts = itertools.count()

contact_states = st.builds(
    lambda blocked, status, own, member: (blocked, status, own, member),
    st.booleans(),
    st.sampled_from(STATUSES),
    st.dictionaries(st.sampled_from(SENDERS), st.sampled_from(STATUSES), max_size=2),
    st.booleans(),
)
filters = st.builds(
    ContactFilter,
    status=st.none() | st.sampled_from(Status),
    list_name=st.none() | st.just("news"),
    sender=st.none() | st.sampled_from(SENDERS),
    number=st.none() | st.sampled_from(["+1555010000", "7", "01000", "+1"]),
)


def kept(state: ContactState, query: ContactFilter) -> bool:
    """What the filter means, said in Python over the contact's state."""
    if query.status is Status.BLOCKED and not state.blocked:
        return False
    if query.status not in (None, Status.BLOCKED):
        if state.blocked:
            return False
        if query.sender is not None:
            if state.status_from(query.sender) is not query.status:
                return False
        elif query.status not in {state.account_status, *state.sender_status.values()}:
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
    people: list[tuple[bool, Status, dict[str, Status], bool]],
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
            )
            for i, (blocked, status, own, member) in enumerate(people)
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
