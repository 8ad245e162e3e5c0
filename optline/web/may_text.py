"""The answer at the top of a contact's page to "may I text them now, for which
purpose (campaign or 1:1), from which sender": the engine's own check of a text from
each of the account's senders, recording nothing (no second copy of the rules)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from optline.domain.consent_codes import Reason
from optline.domain.decisions import Decision
from optline.engine import Engine
from optline.store import AccountRow


@dataclass(frozen=True)
class MayText:
    """What the send gate answers now for a text from ``sender``: a campaign text and
    a 1:1 one, each the engine's own decision."""

    sender: str
    campaign: Decision
    one_to_one: Decision

    @staticmethod
    def words(decision: Decision) -> str:
        if decision.allowed:
            return "yes"
        if decision.reason is Reason.MISSING_OPT_OUT_LANGUAGE:
            # Decided with no text: only the words of the campaign text are missing.
            return "yes, if the text says how to opt out"
        assert decision.reason is not None
        held = decision.next_allowed_at
        until = f" until {held:%Y-%m-%d %H:%M} UTC" if held else ""
        return f"no: {decision.reason.value.replace('_', ' ')}{until}"


async def may_text(engine: Engine, account: AccountRow, phone: str) -> list[MayText]:
    """Each sender's answer, campaign and 1:1, to texting ``phone`` now."""
    senders = await run_in_threadpool(engine.senders, account.id)
    answers = []
    for sender in senders:
        check = engine.check
        campaign = await run_in_threadpool(check, account.id, sender.number, phone, "", None, True)
        one_to_one = await run_in_threadpool(check, account.id, sender.number, phone)
        answers.append(MayText(sender.number, campaign, one_to_one))
    return answers
