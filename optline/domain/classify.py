"""What does an inbound text mean? Pure, no I/O.

Order of checks: the account's own keywords (triggers and list opt-out keywords), then
the policy's keywords as the whole message; an account keyword never takes one of the
policy's opt-out or help keywords. Look-alike spellings are read first
(:mod:`optline.domain.normalise`). A policy with ``single_keyword_only`` acts on
nothing more, as the vendors documented in seeds 000, 003 and 004 do ("STOP PLEASE"
and "PLEASE CANCEL" do not count), after a typo check where ``typo_tolerance`` is on
(seed 002); it still reads the text freely and reports what it finds in ``detected``,
and where the policy flags plain language (``flag_plain_language``, 47 CFR
64.1200(a)(10)) or opts in implicitly (seed 001) a text that reads as a request to
stop is a possible opt-out for review, never acted on. Otherwise
:mod:`optline.domain.detect` reads the rest: keywords among filler words, typos, and
plain-language replies in the policy's languages; what it leaves as none or possible
goes to the learned stage (:func:`learned_stage`).
:func:`with_provider_keyword` then follows what the provider itself did with the text.
Each reason starts with the :class:`Stage` that gave it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from optline.domain import learned
from optline.domain.detect import Detector, detector_for
from optline.domain.normalise import has_look_alikes, stop_sign_only, unleet
from optline.domain.policy import Intent, KeywordMatch, Policy
from optline.domain.profiles import get_profile
from optline.domain.text import fold, folded_words, join_spelled_out
from optline.domain.verdicts import Verdict

_INTENT_WORDS = {
    Intent.OPT_OUT: "opt-out",
    Intent.OPT_IN: "opt-in",
    Intent.HELP: "help",
}


class Stage(StrEnum):
    """Which stage gave a classification; its reason starts with the stage's name."""

    KEYWORD = "keyword"  # the whole message is a keyword
    RULES = "rules"  # typos, fillers, clauses and phrase rules (detect.py and its parts)
    MODEL = "model"  # the learned stage (learned.py)
    PROVIDER = "provider"  # the provider acted on the text as its keyword


@dataclass(frozen=True, slots=True)
class Classification:
    intent: Intent
    keyword: str | None = None
    language: str | None = None
    reason: str = ""
    # An opt-out keyword that ends consent for every sender of the account (STOPALL).
    all_senders: bool = False
    # The keyword is the whole message (case, punctuation and spacing aside), as a
    # carrier network matches its keywords (optline.domain.carriers.network_answers).
    whole_message: bool = False
    stage: Stage = Stage.RULES
    # What a free reading (rules, then the learned stage) finds in a text that the
    # policy does not act on: set where a keyword-only policy reads nothing, so its
    # profile can flag a plain-language request to stop for review.
    detected: Intent | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "intent": self.intent.value,
            "keyword": self.keyword,
            "language": self.language,
            "reason": self.reason,
            "stage": self.stage.value,
            "detected": None if self.detected is None else self.detected.value,
        }


def _reason(stage: Stage, text: str) -> str:
    return f"{stage.value} stage: {text}"


_EMPTY = Classification(Intent.NONE, reason=_reason(Stage.KEYWORD, "empty message"))
# The policy's keywords that an account keyword of the same word never takes.
_POLICY_WINS = frozenset({Intent.OPT_OUT, Intent.HELP})


def classify(
    text: str,
    policy: Policy | str = "default",
    account_keywords: Collection[str] = (),
    model: learned.Model | None = None,
    use_model: bool = True,
) -> Classification:
    """Classify ``text`` under ``policy`` (a :class:`Policy` or a profile name).

    ``account_keywords`` are the account's trigger and list keywords in keyword form;
    they are matched before the policy's keywords. ``model``: the learned stage's model
    (the shipped one by default); ``use_model=False`` reads with the rules alone.
    """
    if isinstance(policy, str):
        policy = get_profile(policy)
    # fold() without the call for plain ASCII, the common case.
    folded = text.lower() if text.isascii() else fold(text)
    index = policy.keyword_index
    prepared = _PREPARED.get(id(index))
    if prepared is None or prepared.index is not index:
        prepared = _prepare(policy)
    exact = prepared.exact
    # Most keywords arrive already in keyword form ("STOP", "stop"): the folded text is
    # then its own form, and the words need not be split out. An account keyword never
    # takes one of the policy's opt-out keywords: the opt-out wins (64.1200(a)(10); a
    # trigger made before the word was reserved, or under another profile). Nor a help
    # keyword: HELP stays HELP, answered whatever the consent (CTIA), and a trigger on
    # it gives the reply (optline.domain.carriers.help_trigger).
    found = exact.get(folded)
    if found is not None and (found.intent in _POLICY_WINS or folded not in account_keywords):
        return found
    if has_look_alikes(folded):  # "5T0P", "$TOP": digits or symbols for letters
        folded = unleet(folded, prepared.words)
    tokens = folded_words(folded)
    if not tokens:
        if not stop_sign_only(text):
            return _EMPTY
        folded, tokens = "stop", ["stop"]  # a stop sign alone says STOP
    if len(tokens[0]) == 1:
        tokens = join_spelled_out(tokens)
    form = " ".join(tokens)
    detector = prepared.detector
    match = detector.index.get(form)
    if form in account_keywords and (match is None or match.intent not in _POLICY_WINS):
        return Classification(
            Intent.TRIGGER,
            form.upper(),
            None,
            _reason(Stage.KEYWORD, f"account keyword {form.upper()}"),
            stage=Stage.KEYWORD,
        )
    if match is not None:
        found = exact.get(form)
        if found is None:
            found = exact[form] = _exact(match)
        return found
    if policy.single_keyword_only and policy.typo_tolerance and len(tokens) == 1:
        verdict = detector.word(tokens[0])
        if verdict is not None:
            return _from_verdict(verdict)
    if policy.single_keyword_only:
        # Every profile reads the text freely; a keyword-only one does not act on it.
        read = detector.free_text(folded, tokens, form, False)
        free = _from_verdict(read) if read is not None else _NOTHING_FOUND
        if use_model:
            free = learned_stage(free, folded, tokens, model, detector.keyword_words)
        return _not_a_keyword(free, policy.flag_plain_language or policy.implicit_opt_in)
    verdict = detector.free_text(folded, tokens, form, policy.typo_tolerance)
    found = _from_verdict(verdict) if verdict is not None else _NOTHING_FOUND
    if use_model and found.intent in _MODEL_READS:
        return learned_stage(found, folded, tokens, model, detector.keyword_words)
    return found


# What the rules leave for the learned stage to read.
_MODEL_READS = frozenset({Intent.NONE, Intent.POSSIBLE_OPT_OUT})
_NOT_A_KEYWORD = Classification(
    Intent.NONE, reason=_reason(Stage.KEYWORD, "not one of the policy's keywords")
)


def _not_a_keyword(free: Classification, flag: bool) -> Classification:
    """A text outside a keyword-only policy's keywords, with what a free reading found.

    The reading is kept in ``detected``. Where ``flag`` (the policy's
    ``flag_plain_language``, or its implicit opt-in) a reading that asks to stop makes
    it a possible opt-out for review, which changes no consent: "Please stop texting
    me" is none of the vendors' keywords, but 47 CFR 64.1200(a)(10) binds every
    business whatever its vendor matches. Under seed 001's implicit opt-in (any new
    message opts a contact back in) this also keeps it from counting as a new message
    that opts the contact back in.
    """
    if free.intent not in (Intent.OPT_OUT, Intent.POSSIBLE_OPT_OUT):
        return _NOT_A_KEYWORD
    why = f"not one of the policy's keywords, but read freely: {free.reason}"
    if flag:
        return Classification(
            Intent.POSSIBLE_OPT_OUT,
            None,
            free.language,
            why,
            stage=free.stage,
            detected=free.intent,
        )
    return Classification(
        Intent.NONE, None, free.language, why, stage=free.stage, detected=free.intent
    )


def learned_stage(
    rules: Classification,
    folded: str,
    words: Sequence[str],
    model: learned.Model | None = None,
    stops: frozenset[str] = frozenset(),
) -> Classification:
    """The learned stage on a text the rules read as ``rules`` (none or possible).

    It never lowers the rules' reading: its own opt-out needs a probability at the
    model's opt-out threshold and a labelled opt-out example close enough, or one in the
    band below with an opt-out example nearly the same (:meth:`learned.Model.opts_out`);
    else a probability in the band gives a possible opt-out.
    It leaves negated texts and one-word texts' opt-outs to the rules (learned.py).
    Below the band, a text the rules read as none may be help by the model's help
    head, with a labelled help example nearest, unless it holds one of the words
    ``stops`` (the policy's opt-out keywords' words); its opt-in head only notes an
    opt-in in ``detected`` and changes nothing.
    """
    if not learned.may_read(words):
        return rules
    model = model or learned.shipped()
    form = learned.form_of(folded, words)
    found = learned.grams(form)
    probability = model.probability_of(found)
    if probability < model.possible_at:
        return _head_stage(rules, form, model, stops, found)
    near = model.nearest(form)
    like = "no labelled example alike" if near is None else _like(near)
    if model.opts_out(probability, near, learned.may_opt_out(words)):
        why = f"{like}, opt-out probability {probability:.2f}"
        return Classification(
            Intent.OPT_OUT, None, None, _reason(Stage.MODEL, why), stage=Stage.MODEL
        )
    if rules.intent is Intent.POSSIBLE_OPT_OUT:
        return rules
    why = f"{like}, opt-out probability {probability:.2f}, below what opts out alone"
    return Classification(
        Intent.POSSIBLE_OPT_OUT, None, None, _reason(Stage.MODEL, why), stage=Stage.MODEL
    )


_HEAD_INTENTS = {"help": Intent.HELP, "opt_in": Intent.OPT_IN}


def _head_stage(
    rules: Classification,
    form: str,
    model: learned.Model,
    stops: frozenset[str],
    found: set[str],
) -> Classification:
    """A text the rules read as none, read by the model's help and opt-in heads
    (``found``: the text's grams)."""
    if rules.intent is not Intent.NONE:
        return rules
    reading = model.head_reading(form, stops, found)
    if reading is None:
        return rules
    head, probability = reading
    near = model.nearest(form)
    if near is None or near.example.label != head.label or near.similarity < model.neighbour_at:
        return rules
    intent = _HEAD_INTENTS[head.label]
    why = f"{_like(near)}, {_INTENT_WORDS[intent]} probability {probability:.2f}"
    if intent is Intent.OPT_IN:
        # Consent is given, or given back, in so many words: a guess never subscribes
        # anyone (a purpose chosen after a STOP, "reminders appointment", once read as
        # one). The reading is kept in ``detected`` for whoever reviews the thread.
        why += "; an opt-in needs one of the policy's opt-in keywords, so none is made"
        return Classification(
            Intent.NONE,
            None,
            None,
            _reason(Stage.MODEL, why),
            stage=Stage.MODEL,
            detected=Intent.OPT_IN,
        )
    return Classification(intent, None, None, _reason(Stage.MODEL, why), stage=Stage.MODEL)


def _like(near: learned.Neighbour) -> str:
    text = near.example.text if len(near.example.text) <= 60 else near.example.text[:57] + "..."
    return f"like {text!r} ({near.similarity:.2f}, {near.example.label})"


_NOTHING_FOUND = Classification(
    Intent.NONE, reason=_reason(Stage.RULES, "no keyword, typo or opt-out phrase")
)


@dataclass(slots=True)
class _Prepared:
    """What is kept per policy: results are immutable, so each is made once."""

    index: Mapping[str, KeywordMatch]
    # Shared by the policies with the same keywords; its ``index`` is the policy's as a
    # plain dict, whose look-ups cost less than the read-only view's.
    detector: Detector
    # Keyword form -> result, filled as keywords are met.
    exact: dict[str, Classification] = field(default_factory=dict)
    # The words of the policy's keywords: what a word in digits or symbols may spell.
    words: frozenset[str] = frozenset()


# By identity of the policy's keyword index (a policy's own, made with it).
_PREPARED: dict[int, _Prepared] = {}
# Results of the detector's verdicts, which it shares between messages.
_FROM_VERDICT: dict[Verdict, Classification] = {}
_MAX_KEPT = 4096


def _prepare(policy: Policy) -> _Prepared:
    if len(_PREPARED) >= 256:  # policies come and go with accounts; keep this bounded
        _PREPARED.clear()
    index = policy.keyword_index
    words = frozenset(word for form in index for word in form.split())
    found = _PREPARED[id(index)] = _Prepared(index, detector_for(policy), words=words)
    return found


def _exact(match: KeywordMatch) -> Classification:
    what = "stop-all" if match.all_senders else _INTENT_WORDS[match.intent]
    keyword = match.keyword.upper()
    return Classification(
        match.intent,
        keyword,
        match.language,
        _reason(Stage.KEYWORD, f"whole message is the {what} keyword {keyword} ({match.language})"),
        match.all_senders,
        whole_message=True,
        stage=Stage.KEYWORD,
    )


def _from_verdict(verdict: Verdict) -> Classification:
    found = _FROM_VERDICT.get(verdict)
    if found is not None:
        return found
    match = verdict.match
    reason = _reason(Stage.RULES, verdict.reason)
    if match is None:
        found = Classification(verdict.intent, None, verdict.language, reason)
    else:
        found = Classification(
            verdict.intent,
            match.keyword.upper(),
            match.language,
            reason,
            match.all_senders and verdict.intent is Intent.OPT_OUT,
        )
    if len(_FROM_VERDICT) >= _MAX_KEPT:
        _FROM_VERDICT.clear()
    _FROM_VERDICT[verdict] = found
    return found


# A provider's own keyword handling (Twilio's OptOutType, Telnyx's autoresponse_type),
# by the intent it acted on, and the readings of optline's own that it overrides.
_PROVIDER_INTENTS = {
    "stop": Intent.OPT_OUT,
    "start": Intent.OPT_IN,
    "help": Intent.HELP,
    "info": Intent.HELP,
}
_OVERRIDDEN_BY = {
    Intent.OPT_OUT: frozenset(Intent) - {Intent.OPT_OUT},
    # Never over an opt-out of optline's own reading, nor one flagged for review.
    Intent.OPT_IN: frozenset({Intent.NONE, Intent.TRIGGER, Intent.HELP}),
    Intent.HELP: frozenset({Intent.NONE, Intent.TRIGGER}),
}


def with_provider_keyword(
    classification: Classification, provider_keyword: str | None
) -> Classification:
    """``classification`` once the provider has acted on the text as a keyword itself.

    The provider's opt-out is in force at the provider whatever optline's policy reads
    in the text (Twilio opts out REVOKE and OPTOUT, which older keyword lists lack), so
    the record follows it: provider and app must never disagree about who opted out.
    Its opt-in and HELP are followed where optline read nothing stronger.
    """
    if provider_keyword is None:
        return classification
    keyword = provider_keyword.strip().upper()
    intent = _PROVIDER_INTENTS.get(keyword.lower())
    if intent is None or classification.intent not in _OVERRIDDEN_BY[intent]:
        return classification
    return Classification(
        intent,
        keyword,
        classification.language,
        _reason(Stage.PROVIDER, f"the provider handled the text as its {keyword} keyword"),
        stage=Stage.PROVIDER,
    )
