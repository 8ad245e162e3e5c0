"""What does an inbound text mean? Pure, no I/O.

Order of checks: the account's own keywords (triggers and list opt-out keywords), then
the policy's keywords as the whole message. A policy with ``single_keyword_only`` stops
there, as the vendors documented in seeds 000, 003 and 004 do ("STOP PLEASE" and
"PLEASE CANCEL" do not count); free-text detection plugs in after the exact match.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from optline.domain.policy import Intent, Policy
from optline.domain.profiles import get_profile
from optline.domain.text import keyword_form

_INTENT_WORDS = {
    Intent.OPT_OUT: "opt-out",
    Intent.OPT_IN: "opt-in",
    Intent.HELP: "help",
}


@dataclass(frozen=True, slots=True)
class Classification:
    intent: Intent
    keyword: str | None = None
    language: str | None = None
    reason: str = ""
    # An opt-out keyword that ends consent for every sender of the account (STOPALL).
    all_senders: bool = False

    def as_dict(self) -> dict[str, str | None]:
        return {
            "intent": self.intent.value,
            "keyword": self.keyword,
            "language": self.language,
            "reason": self.reason,
        }


_EMPTY = Classification(Intent.NONE, reason="empty message")


def classify(
    text: str,
    policy: Policy | str = "default",
    account_keywords: Collection[str] = (),
) -> Classification:
    """Classify ``text`` under ``policy`` (a :class:`Policy` or a profile name).

    ``account_keywords`` are the account's trigger and list keywords in keyword form;
    they are matched before the policy's keywords.
    """
    if isinstance(policy, str):
        policy = get_profile(policy)
    form = keyword_form(text)
    if not form:
        return _EMPTY
    if form in account_keywords:
        return Classification(Intent.TRIGGER, form.upper(), None, f"account keyword {form.upper()}")
    match = policy.keyword_index.get(form)
    if match is not None:
        what = "stop-all" if match.all_senders else _INTENT_WORDS[match.intent]
        return Classification(
            match.intent,
            match.keyword.upper(),
            match.language,
            f"whole message is the {what} keyword {match.keyword.upper()} ({match.language})",
            match.all_senders,
        )
    return Classification(Intent.NONE, reason="not one of the policy's keywords")
