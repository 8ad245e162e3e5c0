"""The stored state that a contact's events determine, held to them: the consent
tables (the events' replay), the review queue, and the bodies of the texts the events
commit. ``verify`` runs it over a whole account (``Reading.verify``, and ``--full``) or
over the contacts that the log's new entries touched (``Transparency.verify_log``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from optline.domain import projection, review
from optline.domain.review import Flag
from optline.proof import body_problem, commitments
from optline.store import StoredEvent, Tx


@dataclass(frozen=True, slots=True)
class Mismatch:
    """What differs from the events, naming the contact or the text it concerns."""

    problem: str
    contact: str | None = None
    message: int | None = None


def first_mismatch(
    tx: Tx, account_id: int, events: Sequence[StoredEvent], phones: Sequence[str] | None = None
) -> Mismatch | None:
    """The first stored fact that is not what ``events`` (every event of the account, or
    of the contacts ``phones``) say: a contact's consent, then a flag, then a text."""
    stored = tx.projections.read(account_id, phones)
    differs = projection.first_difference(stored, projection.replay(events))
    if differs is not None:
        phone, what = differs
        return Mismatch(f"the stored consent of {phone} is not its events' replay: {what}", phone)
    flag = _first_flag_difference(tx.flags.all(account_id, phones), review.replay(events))
    if flag is not None:
        phone, what = flag
        return Mismatch(what, phone)
    committed = commitments((e.seq, e.data) for e in events)
    texts = {m.id: m for m in tx.messages.by_ids(account_id, committed)}
    for message_id, commits in sorted(committed.items()):
        message = texts.get(message_id)
        problem = (
            f"message {message_id}, committed by event #{commits[0][0]}, is missing"
            if message is None
            else body_problem(message_id, None if message.redacted_at else message.body, commits)
        )
        if problem is not None:
            return Mismatch(problem, message=message_id)
    return None


def _first_flag_difference(
    stored: Sequence[Flag], replayed: dict[int, Flag]
) -> tuple[str, str] | None:
    """The first flag (by seq) of the review queue that is not the events' replay: its
    contact, and what differs."""
    kept = {f.seq: f for f in stored}
    for seq in sorted(set(kept) | set(replayed)):
        have, want = kept.get(seq), replayed.get(seq)
        if have == want:
            continue
        either = want or have
        assert either is not None  # a seq comes from one of them
        phone = either.phone
        if want is None:
            what = "the events flag no such reply"
        elif have is None:
            what = "it is missing from the queue"
        else:
            got = have.resolution.value if have.resolution else "open"
            should = want.resolution.value if want.resolution else "open"
            what = (
                f"stored {got}, the events say {should}" if got != should else "its details differ"
            )
        return phone, f"the review queue's flag #{seq} of {phone} is not its events' replay: {what}"
    return None
