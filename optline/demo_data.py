"""The demo account's history (``optline serve --demo``, ``make run``): six weeks of a
dental practice's texting, made through the engine's own use cases with a clock that
walks through those weeks, so every row is one the product itself would have written.

A few hundred contacts opt in through the practice's web form and join its offers
list; patients text about appointments and get answers; some text STOP (or ALTO,
ARRET, CANCEL) or ask in plain words to stop, in English, Spanish or French; some
opt back in with START; replies that may mean stop wait for review; the weekly offer
goes to the list, and texts the gate refuses are on record with their reasons. The
same date always gives the same history (a seeded random generator), and it is fast:
the whole history is a few thousand transactions on SQLite.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from optline.domain.actors import Actor
from optline.domain.messages import Via
from optline.domain.review import Resolution
from optline.engine import Engine

#: The list the practice's offers go to.
OFFERS = "offers"
WEEKS = 6
CONTACTS = 300
# Numbers from the range set aside for fiction (555-01xx), in area codes that sort
# after 415, so the service's own demo texts (+1415555012x) list first by number.
_AREAS = ("510", "617", "628", "646", "650", "718", "720", "773", "801", "917")

_QUESTIONS = (
    "Hi, is my cleaning still on Tuesday?",
    "Can I move my appointment to next week?",
    "What time do you open on Saturday?",
    "Do you take Delta Dental?",
    "Running 10 minutes late, sorry!",
    "Thanks, see you then",
    "Is parking available near the office?",
    "Can my son come in for a checkup too?",
    "¿Tienen cita disponible el viernes?",
    "Est-ce que je peux venir jeudi matin ?",
)
_ANSWERS = (
    "Yes, we have you down. See you soon!",
    "Sure, we can do that. Which day works best?",
    "We open at 9am on Saturdays.",
    "Thanks for letting us know, see you shortly.",
)
_OPT_OUTS = (
    "STOP",
    "Stop",
    "UNSUBSCRIBE",
    "cancel",
    "ALTO",
    "PARAR",
    "ARRET",
    "please stop texting me",
    "no more texts please",
    "remove me from your list",
    "take me off this list",
    "ya no me manden mensajes",
    "dejen de enviarme mensajes",
    "arrêtez de m'envoyer des messages",
)
_POSSIBLE_OPT_OUTS = ("not interested", "wrong number", "I don't need these anymore")
_OFFER = "Bright Smile Dental: 20% off whitening this month. Reply STOP to opt out."
_NO_OPT_OUT_LANGUAGE = "Bright Smile Dental: free electric toothbrush with every cleaning!"
_CONSENT_LANGUAGE = (
    "I agree to receive marketing texts from Bright Smile Dental at this number, sent with"
    " automated technology. Consent is not a condition of purchase. Msg & data rates may"
    " apply. Reply STOP to opt out, HELP for help."
)
_FORM_URL = "https://brightsmile.example/new-patient"
_STAFF = Actor("front-desk", Via.UI)


@dataclass
class _Clock:
    """The engine's clock for the demo: moved to each moment in turn, never backwards."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def at(self, moment: datetime) -> None:
        self.now = max(moment, self.now + timedelta(milliseconds=1))


def contacts(rng: random.Random) -> list[str]:
    """The demo's contacts, in a fixed order for a given generator."""
    numbers = [f"+1{area}55501{n:02d}" for area in _AREAS for n in range(100)]
    return rng.sample(numbers, CONTACTS)


def populate(
    open_engine: Callable[[Callable[[], datetime]], Engine],
    account: str,
    sender: str,
    end: datetime,
) -> None:
    """Write the demo's weeks up to the day before ``end`` through the engine that
    ``open_engine`` opens with the given clock; deterministic for a given ``end``'s date."""
    rng = random.Random(f"optline-demo-{end.date().isoformat()}")
    first = datetime.combine(end.date(), time(), tzinfo=UTC) - timedelta(weeks=WEEKS)
    clock = _Clock(first)
    with open_engine(clock) as engine:
        engine.create_list(account, OFFERS)
        people = contacts(rng)
        walk_ins = people[: CONTACTS // 5]  # never opted in: they only text
        waiting = [p for p in people if p not in walk_ins]
        rng.shuffle(waiting)
        opted_out: list[str] = []
        ids = iter(range(1, 1_000_000))
        for day in range(WEEKS * 7):
            morning = first + timedelta(days=day, hours=16)  # 9am in California
            clock.at(morning)
            # New patients sign the web form: written consent on record, with the
            # form's own words, and the offers list.
            joining = [waiting.pop() for _ in range(min(len(waiting), rng.randint(3, 9)))]
            for n, number in enumerate(joining):
                clock.at(morning + timedelta(minutes=n))
                engine.record_consent(
                    account,
                    number,
                    _CONSENT_LANGUAGE,
                    clock.now,
                    url=_FORM_URL,
                    form_id="new-patient",
                )
            if joining:
                engine.add_to_list(account, OFFERS, joining)
            known = [p for p in people if p not in waiting]
            # Conversations through the day.
            for n in range(rng.randint(4, 10)):
                clock.at(morning + timedelta(hours=1, minutes=37 * n))
                number = rng.choice(known)
                text = rng.choice(_QUESTIONS)
                engine.receive(account, number, sender, text, f"demo-in-{next(ids)}")
                if rng.random() < 0.7:
                    clock.at(clock.now + timedelta(minutes=rng.randint(2, 30)))
                    engine.send(account, sender, number, rng.choice(_ANSWERS))
            # Opt-outs, in keywords and in plain words, and replies that may mean one.
            for n in range(rng.choice((0, 1, 1, 2, 2, 3))):
                clock.at(morning + timedelta(hours=3, minutes=41 * n))
                number = rng.choice(known)
                engine.receive(
                    account, number, sender, rng.choice(_OPT_OUTS), f"demo-in-{next(ids)}"
                )
                opted_out.append(number)
            if rng.random() < 0.4:
                clock.at(morning + timedelta(hours=4))
                number = rng.choice(known)
                engine.receive(
                    account, number, sender, rng.choice(_POSSIBLE_OPT_OUTS), f"demo-in-{next(ids)}"
                )
            # Now and then someone comes back.
            if opted_out and rng.random() < 0.25:
                clock.at(morning + timedelta(hours=5))
                number = opted_out.pop(rng.randrange(len(opted_out)))
                engine.receive(
                    account, number, sender, rng.choice(("START", "UNSTOP")), f"demo-in-{next(ids)}"
                )
            if day % 7 == 3:
                members = [p for p in known if p not in walk_ins and p not in opted_out]
                _weekly_offer(engine, account, sender, clock, morning, rng, walk_ins, members)
                _reply_to_opted_out(engine, account, sender, rng, opted_out)
        _review(engine, account, clock, end)
        _block(engine, account, sender, clock, walk_ins[0])
        _read_all_but_the_latest(engine, account)


def _weekly_offer(
    engine: Engine,
    account: str,
    sender: str,
    clock: _Clock,
    morning: datetime,
    rng: random.Random,
    walk_ins: list[str],
    members: list[str],
) -> None:
    """The week's offer to the list, and the campaign texts the gate refuses that week:
    the offer to a walk-in with no consent on record, and one to a member without
    opt-out language."""
    clock.at(morning + timedelta(hours=2))
    engine.broadcast(account, sender, _OFFER, OFFERS)
    clock.at(morning + timedelta(hours=2, minutes=30))
    for number in rng.sample(walk_ins, 3):
        engine.send(account, sender, number, _OFFER, campaign=True)
    if members:
        engine.send(account, sender, rng.choice(members), _NO_OPT_OUT_LANGUAGE, campaign=True)


def _reply_to_opted_out(
    engine: Engine, account: str, sender: str, rng: random.Random, opted_out: list[str]
) -> None:
    """A 1:1 text to someone who opted out: refused, as seed 000 says."""
    if opted_out:
        engine.send(
            account, sender, rng.choice(opted_out), "We miss you! Book your next visit online."
        )


def _review(engine: Engine, account: str, clock: _Clock, end: datetime) -> None:
    """The front desk has reviewed the flags of weeks past (one in three read as an
    opt-out); last week's still wait."""
    clock.at(end - timedelta(days=1))
    for n, flag in enumerate(engine.flagged(account, limit=1000).flags):
        if flag.flagged_at >= end - timedelta(days=8):
            continue
        if n % 3 == 0:
            engine.resolve_flag(account, flag.seq, Resolution.OPTED_OUT, _STAFF)
        else:
            why = "asked about an appointment, not about texts"
            engine.resolve_flag(account, flag.seq, Resolution.DISMISSED, _STAFF, why)


def _block(engine: Engine, account: str, sender: str, clock: _Clock, number: str) -> None:
    """A contact the practice blocked, who texts on: kept, hidden."""
    engine.block(account, number, "abusive texts", _STAFF)
    clock.at(clock.now + timedelta(hours=2))
    engine.receive(account, number, sender, "You will regret this", "demo-blocked-1")


def _read_all_but_the_latest(engine: Engine, account: str) -> None:
    """Every conversation read but the ten latest."""
    before = None
    seen = 0
    while page := engine.conversations(account, limit=200, before=before):
        for conversation in page:
            seen += 1
            if seen > 10:
                engine.mark_read(account, conversation.phone, conversation.last.id)
        before = page[-1].last.id
