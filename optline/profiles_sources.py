"""The sources behind ``docs/profiles.md``: what each vendor's seed says about each
policy field (:data:`CITATIONS`), the rules that bind every business (:data:`RULES`),
where the ``twilio`` and ``default`` values come from (:data:`BASIS`), what each field
means (:data:`DESCRIPTIONS`) and the page's prose sections. Data only;
:mod:`optline.profiles_doc` renders the page from it and the profiles themselves.
"""

from __future__ import annotations

from collections.abc import Mapping

#: The profile whose values the vendor profiles inherit where their seed is silent.
BASE = "twilio"

#: Vendor profile -> field -> what its seed says about that field.
CITATIONS: Mapping[str, Mapping[str, str]] = {
    "callrail": {
        "keywords": (
            "STOP and END are its opt-out examples, YES its opt-in example and START "
            "answered with a resubscribe text; the rest of Twilio's pre-2025 list is "
            "inherited"
        ),
        "replies": (
            "quotes the opt-out text and the START text (\u201cresubscribed\u201d, no "
            "hyphen); the HELP text is inherited"
        ),
        "single_keyword_only": (
            "\u201cOnly single word keywords will allow customers to opt-out\u201d; "
            "\u201cPLEASE CANCEL\u201d does not unsubscribe"
        ),
        "scope": "an unsubscribed customer gets no texts \u201cfrom your tracking number\u201d",
        "implicit_opt_in": (
            "a text from an unsubscribed customer appears in the inbox, but \u201cyou will "
            "not be able to reply until they resubscribe\u201d"
        ),
        "resubscribe": "only the customer resubscribes, with an opt-in keyword",
        "no_consent": (
            "\u201cIf a customer does not reply with STOP, or one of the other keywords, "
            "you can continue messaging them\u201d"
        ),
        "campaign_opt_out_language_required": (
            "\u201cyou\u2019ll need to use at least one approved keyword\u201d in texts you send"
        ),
    },
    "business_text": {
        "keywords": "names STOP only (\u201cin any format\u201d); the rest is inherited",
        "scope": "opted out \u201cfrom all future messages from this account\u201d",
        "implicit_opt_in": (
            "\u201cIf they send a new message to the account later, they will be "
            "automatically opted back in\u201d; not by one that asks to stop (flagged for "
            "review instead) nor by a list's opt-out keyword"
        ),
        "resubscribe": (
            "staff may tick Opted-in again, but not \u201cwithout their express consent\u201d"
        ),
    },
    "salesmsg": {
        "keywords": (
            "opt-out Cancel, Stop, Stopall, End, Unsubscribe, Quit; opt-in START; "
            "YES, UNSTOP, HELP and INFO are inherited"
        ),
        "single_keyword_only": (
            "the seed says \u201cvariations\u201d and \u201calternative phrases\u201d are "
            "recognised but never lists them, so whole-message keywords only"
        ),
        "typo_tolerance": ("customers can opt out \u201ceven if they make typos\u201d"),
        "scope": (
            "an opted-out contact gets no triggers, broadcasts or workflow texts from the "
            "account \u201cuntil they are opted-in again\u201d"
        ),
        "resubscribe": "\u201cyou will not be able to re-subscribe them from Salesmsg\u201d",
        "custom_replies_on": (
            "long code messages keep the default texts; on a dedicated short code they "
            "can be customised"
        ),
    },
    "krispcall": {
        "keywords": (
            "the keyword lists are images missing from the text; it names STOP, QUIT, "
            "START, HELP and INFO, the rest is inherited"
        ),
        "replies": (
            "quotes the opt-out text and the opt-in text naming \u201cHELP\u201d or "
            "\u201cINFO\u201d; the HELP text is inherited"
        ),
        "single_keyword_only": (
            "\u201cOnly single-word replies can automate this process\u201d "
            "(\u201cSTOP QUIT\u201d, \u201cSTOP PLEASE\u201d do not)"
        ),
        "scope": "the opt-out is \u201cfrom the specified phone number\u201d",
        "opt_in_all_senders": "START \u201cenables all your phone numbers\u201d",
    },
    "command": {
        "keywords": (
            "opt-out Stop, Stopall, Unsubscribe, Cancel, End, Quit; opt-in Start, Yes, "
            "Unstop; HELP and INFO are inherited"
        ),
        "single_keyword_only": "\u201cOnly single-word messages will trigger the block\u201d",
        "scope": (
            "no texts \u201cusing your Twilio account, even if you add them to a separate "
            "SmartPlan\u201d"
        ),
        "resubscribe": "\u201cthere is no way for you to do this for them\u201d",
        "first_text_disclosure": "the notice it sends to someone texted for the first time",
        "first_text_disclosure_form": (
            "\u201cThe first time you send a text to someone in your database, Command "
            "sends the following text\u201d: a text of its own"
        ),
        "no_consent": (
            "\u201cThe first time you send a text to someone in your database\u201d: "
            "anyone in it may be texted"
        ),
    },
}

#: The carrier fact behind the toll-free fields (the project's reference notes).
TOLL_FREE_FACT = (
    "carrier fact: on toll-free numbers the network itself handles STOP and its peers, "
    "with a fixed reply that cannot be customised, opts back in on START and UNSTOP, "
    "and gives an opted-out contact's HELP no reply"
)
#: Fields set on every profile by a rule that binds every business, whatever its
#: vendor does (the seeds are silent on them, and no vendor may go below them).
RULES: Mapping[str, str] = {
    "flag_plain_language": (
        "47 CFR 64.1200(a)(10): consent may be revoked by \u201cany reasonable "
        "method\u201d, binding on every business since 2025-04-11"
    ),
}

#: Where the ``twilio`` and ``default`` values come from (they have no seed file).
BASIS: Mapping[str, Mapping[str, str]] = {
    BASE: {
        "keywords": "Twilio's default keywords since 2025-05-14 (REVOKE and OPTOUT added)",
        "replies": "Twilio's default STOP, START and HELP replies",
        "scope": "Twilio keeps opt-outs per sending number",
        "resubscribe": "only the recipient can lift a Twilio opt-out, by texting START",
        "toll_free_opt_in": "toll-free carriers opt back in on START and UNSTOP only",
        "toll_free_opt_out": TOLL_FREE_FACT,
        "toll_free_network_replies": TOLL_FREE_FACT,
        "single_keyword_only": "Advanced Opt-Out matches a message that is one keyword",
        "opt_out_all_widens": "STOPALL opts out of every number",
        "implicit_opt_in": "only an opt-in keyword lifts an opt-out",
        "no_consent": "Twilio refuses only numbers that opted out (error 21610)",
        "clarify_possible_opt_out": (
            "Twilio answers no text that is not one of its keywords; a flagged reply is "
            "recorded for review, not answered"
        ),
        "send_windows": "Twilio holds no text back by the hour: timing is the sender's",
        "written_consent_required": (
            "Twilio refuses only numbers that opted out: it asks for no proof of consent"
        ),
        "double_opt_in_hours": "the window a join keyword's confirmation waits for YES",
        "message_frequency": "CTIA 5.1.2.1: the opt-in confirmation states how often",
        "wrong_number": (
            "Twilio acts on its keywords only; 64.1200(a)(10) still binds, so a wrong-number "
            "reply is flagged for review"
        ),
        "reassigned_check_after_days": (
            "Twilio checks no reassigned-numbers database before a send"
        ),
        "revoke_all": (
            "a Twilio STOP ends every text from that number, whatever its purpose: the "
            "vendors know no purposes"
        ),
        "purpose_choice_minutes": "unused while `revoke_all` is on",
    },
    "default": {
        "keywords": (
            "FCC 64.1200(a)(10) per-se words (stop, quit, end, revoke, opt out, cancel, "
            "unsubscribe) plus Twilio's set"
        ),
        "replies": (
            "CTIA 5.1.2.1: brand, support contact, frequency, rates and how to stop; "
            "no marketing in the confirmation (64.1200(a)(12))"
        ),
        "scope": "revoke-all, the protective choice (FCC delay to 2027-01-31 aside)",
        "one_confirmation_per_opt_out": "CTIA 5.1.3: one final opt-out confirmation",
        "clarify_possible_opt_out": "64.1200(a)(12) allows one clarifying text",
        "hold_campaigns_on_review": (
            "64.1200(a)(10): no marketing to someone whose reply may have revoked "
            "consent until a person has looked at it"
        ),
        "first_text_disclosure": "tells every new contact how to stop",
        "first_text_disclosure_form": "one text: the notice at the end of the first one",
        "campaign_opt_out_language_required": "every campaign text says how to stop",
        "single_keyword_only": (
            "64.1200(a)(10): any reply a reasonable person reads as \u201cstop\u201d; free "
            "text, fillers and typos are read too"
        ),
        "opt_out_all_widens": "a stop-all request ends texts from every number",
        "implicit_opt_in": "a text is not consent: only an opt-in keyword or evidence",
        "resubscribe": "re-subscribing needs proof of who consented, when and how",
        "toll_free_opt_in": "toll-free carriers opt back in on START and UNSTOP only",
        "toll_free_opt_out": TOLL_FREE_FACT,
        "toll_free_network_replies": TOLL_FREE_FACT,
        "no_consent": (
            "marketing needs prior express written consent (64.1200(a)(2), (f)(9)); "
            "a reply to a contact who texted first is not marketing"
        ),
        "send_windows": (
            "47 CFR 64.1200(c)(1): no solicitation before 8 am or after 9 pm at the called "
            "party's location; Fla. Stat. 501.059, Okla. Stat. tit. 15 §775C and "
            "Maryland's Stop the Spam Calls Act: 8 am to 8 pm and at most 3 a day on one "
            "subject"
        ),
        "send_windows_informational": (
            "the hours and caps are for solicitations: informational texts go at any hour"
        ),
        "send_windows_on_replies": (
            "a contact who wrote in the last 24 hours invited the answer: a 1:1 reply "
            "goes at any hour"
        ),
        "written_consent_required": (
            "47 CFR 64.1200(a)(2): marketing texts need prior express written consent, "
            "defined in (f)(9) (a signed agreement naming the number, after a clear "
            "disclosure); the burden of proof is on the sender"
        ),
        "double_opt_in_hours": "the window a join keyword's confirmation waits for YES",
        "message_frequency": "CTIA 5.1.2.1: the opt-in confirmation states how often",
        "wrong_number": (
            "the consent on record was given by someone else: the number's holder never "
            "consented (64.1200(a)(10); see docs/law.md)"
        ),
        "reassigned_check_after_days": (
            "disconnected numbers age at least 45 days before reassignment (47 CFR "
            "52.15(f)(1)(ii)); the FCC Reassigned Numbers Database answers for a date"
        ),
        "revoke_all": (
            "47 CFR 64.1200(a)(10) revoke-all sentence, delayed to 2027-01-31 by the FCC "
            "order of 2026-01-06: followed today, the protective choice"
        ),
        "purpose_choice_minutes": (
            "64.1200(a)(12): the confirmation may ask which purposes were meant; no "
            "answer means all"
        ),
    },
}

#: What each field means, for fields whose source comment is not enough.
DESCRIPTIONS: Mapping[str, str] = {
    "keywords": "Keywords by language and intent (opt-out, stop-all, opt-in, help).",
    "replies": "Reply texts by language: opt-out confirmation, opt-in, HELP, list opt-out.",
    "custom_replies": "The account's own reply texts, if any (set by an override).",
    "custom_replies_on": (
        "Sender kinds on which the account's own reply texts may be used. On a toll-free "
        "number the network's fixed STOP and START replies stand instead while "
        "`toll_free_network_replies` is on: there only HELP's answer is the account's."
    ),
    "single_keyword_only": (
        "Only a message that is exactly one keyword counts. Any other text is still read "
        "freely (the rules, then the learned stage); what that reading finds is the "
        "classification's `detected`, flagged for review where `flag_plain_language` is "
        "on, never an opt-out of its own."
    ),
    "scope": (
        "`account`: one consent for every sender of the account; `sender`: one consent "
        "per sending number."
    ),
    "opt_out_all_widens": "A stop-all keyword (STOPALL) opts out of every sender, also "
    "under `sender` scope.",
    "opt_in_all_senders": "An opt-in keyword re-enables every sender of the account.",
    "implicit_opt_in": "Any text from an opted-out contact opts them back in.",
    "resubscribe": (
        "Whether the business may opt a contact back in by hand: `never`, or "
        "`with_evidence` (who gave consent, when and how)."
    ),
    "no_consent": (
        "What a contact with no consent on record (`no_consent`: a number never seen, "
        "or one only ever texted) may be sent: `allow`, anything, as an opted-in "
        "contact; `conversation`, 1:1 texts to a contact who texted first, and no "
        "campaign texts (reason `no_consent`)."
    ),
    "one_confirmation_per_opt_out": "A repeated opt-out is recorded but not confirmed again.",
    "flag_plain_language": (
        "Under `single_keyword_only`, a text that is none of the keywords but reads as a "
        "request to stop (\u201cplease stop texting me\u201d) is recorded as a "
        "`revocation_flagged` event for review; it opts no one out, so the profile's "
        "single-word opt-out behaviour is unchanged. Why on every profile: 47 CFR "
        "64.1200(a)(10), binding since 2025-04-11, lets a person revoke consent by "
        "\u201cany reasonable method\u201d and binds every business whatever keywords "
        "its vendor matches; a vendor that matches single words only would otherwise "
        "ignore such a reply without anyone seeing it. A flag waits in the review queue "
        "until it is resolved (opt out, or not a revocation; see docs/api.md)."
    ),
    "clarify_possible_opt_out": "A reply that may mean stop is flagged and answered once.",
    "toll_free_opt_in": "The only opt-in keywords a toll-free sender accepts.",
    "toll_free_opt_out": (
        "The opt-out keywords a toll-free number's carrier network acts on itself, as the "
        "whole message."
    ),
    "toll_free_network_replies": (
        "On a toll-free number, optline sends no reply of its own where the carrier "
        "network answers: no confirmation for a `toll_free_opt_out` keyword or for START "
        "or UNSTOP sent as the whole message, and no answer to HELP from a contact opted "
        "out of that number (the network lets nothing through to them). The consent "
        "change is recorded all the same. A plain-language opt-out, or a keyword the "
        "network does not know, is still confirmed by optline."
    ),
    "first_text_disclosure": (
        "Added to the first text a contact ever receives, unless that text already says "
        "it: its very words or, for a disclosure that is opt-out language, opt-out "
        "language of the text's own (the check `campaign_opt_out_language_required` "
        "uses), so it is never said twice."
    ),
    "first_text_disclosure_form": (
        "`appended`: at the end of the first text, unless it says so already. "
        "`separate`: a text of its own, sent just before the first one whatever that "
        "one says (seed 004: \u201cthe first time you send a text\u201d), recorded as "
        "an outbound message of its own marked "
        "`disclosure`; it is decided by the same gate as the text it comes before (no "
        "notice for a refused text), and a broadcast sends it first to every recipient "
        "texted for the first time. A separate notice is not part of a campaign text: "
        "under `campaign_opt_out_language_required` the text must still say how to stop."
    ),
    "campaign_opt_out_language_required": (
        "Campaign texts must tell the reader how to opt out with one of the policy's "
        "opt-out keywords: one to send (\u201cReply STOP to opt out\u201d) or one in "
        "capitals that says what it does (\u201cSTOP to end\u201d); a keyword in capitals "
        "alone (\u201cDon\u2019t STOP shopping\u201d) is not enough."
    ),
    "brand": "Filled into `{brand}` in reply texts. Until an account sets it (the override "
    "`brand`), the account's name stands in: an account made as `acme` replies "
    "\u201cacme: You are unsubscribed\u2026\u201d.",
    "support_contact": "Filled into `{support}` in reply texts.",
    "send_windows": (
        "The send-window rules, one row per place (`US`, or a state: `US-FL`): the local "
        "hours a campaign text may reach a recipient there, and at most how many of one "
        "purpose in any 24 hours. Every rule that applies at the recipient's location "
        "must hold, in every time zone the number may be in. As an override: a list of "
        '`{"where", "opens", "closes", "per_day", "source"}` objects (`[]`: none). See '
        "*Send windows* below."
    ),
    "send_windows_informational": "The rules also hold back texts that are not campaigns.",
    "written_consent_required": (
        "Campaign (marketing) texts need prior express written consent on record: a "
        "`consent_recorded` event for `marketing`, not revoked since (`POST /v1/consents`, "
        "or a YES to a join keyword's opt-in confirmation); else refused with reason "
        "`no_written_consent`. An opt-in with no consent language on record (a keyword, "
        "a manual opt-in, an import) does not count: the sender bears the burden of proof "
        "(64.1200(f)(9))."
    ),
    "double_opt_in_hours": (
        "How long a join keyword's opt-in confirmation waits for the contact's YES (1 to "
        "720 hours); a later YES is read as any other text."
    ),
    "message_frequency": "The message frequency the opt-in confirmation states.",
    "wrong_number": (
        "A reply saying the number is not the intended person's (\u201cwrong number\u201d, "
        "\u201cI\u2019m not Mike\u201d, \u201cn\u00famero equivocado\u201d; en, es, fr, "
        "de, pt, it). `end_consent`: every scope is opted out and every list left, with "
        "method `wrong_number`, and one confirmation with no marketing is sent. `flag`: "
        "the reply is a possible opt-out for review (`revocation_flagged`); nothing ends."
    ),
    "reassigned_check_after_days": (
        "After this many days with no text either way, the next text to a contact with "
        "consent first asks the configured reassigned-numbers check (FCC Reassigned "
        "Numbers Database or another, see docs/law.md); a number reassigned since the "
        "consent was given is refused (`number_reassigned`) and its consent ends. `null`: "
        "never asked. No check is configured by default: optline calls no paid service."
    ),
    "revoke_all": (
        "`on`: a revocation ends every purpose of the account; `off`: it ends the "
        "purpose of the text it answered (the last text to the contact from that "
        "sender), unless the contact held consent for several purposes, when it ends "
        "them all and the confirmation asks which were meant (`purpose_choice_minutes`); "
        "`from YYYY-MM-DD`: `off` before that date (UTC), `on` from it. Under `sender` "
        "scope a revocation ends every purpose from that sender. See *Purposes* below."
    ),
    "purpose_choice_minutes": (
        "How long a contact may answer the confirmation's question of which purposes to "
        "stop (`revoke_all` off, several purposes held): naming purposes stops only "
        "those and gives the others back; ALL, another text or no answer leaves them all "
        "stopped."
    ),
    "send_windows_on_replies": (
        "The rules also hold back a 1:1 text to a contact who wrote in the last 24 hours "
        "(broadcasts keep to them whoever wrote)."
    ),
}

INTRO = """\
# Policy profiles

A *profile* is a complete set of consent rules: which words opt a contact out or back
in, whether an opt-out covers one sending number or the whole account, what the
confirmation says, whether the business may re-subscribe someone, and so on. Every
behaviour that differs between products is one field of `optline.domain.policy.Policy`;
no code checks a profile's name.

optline ships seven profiles. `default` follows the FCC 2024 revocation rule
(47 CFR 64.1200(a)(10) and (a)(12)) and the CTIA Messaging Principles, taking the
protective option wherever there is a choice. `twilio` is Twilio's documented
Advanced Opt-Out behaviour. The other five reproduce one product's help page each
(`seeds/` in the project's shared documents); where a page says nothing about a field
the product is taken to keep its carrier's (Twilio's) standard behaviour, shown here as
*{inherited}*.

Every profile flags plain-language revocations. 47 CFR 64.1200(a)(10), binding since
2025-04-11, lets a person revoke consent by "any reasonable method", and it binds every
business whatever keywords its vendor matches. So the vendor profiles keep their exact
single-word opt-outs ("PLEASE CANCEL" still opts no one out), but a text that reads as
a request to stop ("please stop texting me") is recorded as a `revocation_flagged`
event and waits in the review queue for a person to resolve it (`flag_plain_language`
below; [ledger.md](ledger.md#the-review-queue)). No profile silently ignores it.

## Overriding fields per account

An account's policy is a profile plus field overrides, stored as a JSON object and
applied by `optline.domain.policy_overrides.with_overrides`. For example
`{{"scope": "sender", "brand": "Acme Dental"}}` on `default` keeps every default rule but
keeps opt-outs per sending number and signs the replies "Acme Dental". Unknown field
names and values of the wrong type are refused (`BadOverride`). Fields an account may
override: {overridable}.

## Toll-free numbers

On a toll-free number the carrier network itself handles STOP and its peers: it
answers with a fixed text that cannot be customised ("NETWORK MSG: You replied with the
word STOP…"), opts the contact back in on START and UNSTOP only, and lets no text through
to a contact who opted out there, so their HELP gets no answer. Every profile follows it
(`toll_free_network_replies`, `toll_free_opt_out`, `toll_free_opt_in`): optline records
the change and sends no reply of its own where the network answers.

The rule behind each field, the dates the rules took effect (or will), and what
optline cannot know are in [Consent and the law](law.md).

This page is generated from the profile objects by
`python -m optline.profiles_doc > docs/profiles.md`; a test fails if it is out of
date. Sources:

{sources}
"""

SEND_WINDOWS = """\
## Send windows

A campaign text goes only in the hours the law allows at the recipient's location, and
no more often than it allows (`send_windows`). Under `default`, a text to a US number
must fall between 8:00 and 21:00 local time (47 CFR 64.1200(c)(1)); in Florida,
Oklahoma and Maryland between 8:00 and 20:00, and at most 3 campaign texts in any 24
hours (Fla. Stat. 501.059, Okla. Stat. tit. 15 §775C, Maryland's Stop the Spam Calls
Act). A text outside the window is refused with reason `outside_send_window`, one over
the cap with `frequency_cap`; both answers carry `next_allowed_at`, the first moment the
text may go (`null` when no moment in the next week fits every zone).

Where the recipient is: the contact's stored time zone and state when set
(`PUT /v1/contacts/{phone}/location`, `optline contacts location`), else what the
number's prefix says (the time-zone and geocoder data of `phonenumbers`, looked up once
per prefix). A number that may be in several zones (208, Idaho: Mountain or Pacific)
must be inside the window in all of them. The data is per area code and exchange: a
contact who moved keeps the number's zone until a location is stored for them.

Which texts: campaign texts (the marketing purpose); informational texts only with
`send_windows_informational`. A 1:1 text to a contact who wrote in the last 24 hours is
a reply and goes at any hour unless `send_windows_on_replies` is set; a broadcast keeps
to the windows whoever wrote. The cap counts the campaign texts that went to the number
from any sender of the account (refused and failed ones do not count). A text is held
back when it is decided: one queued earlier is not decided again for the hour at its
hand-over, and `Engine.decide_broadcast` (the set-based pre-check) weighs consent
only. The vendor profiles' seeds say nothing about hours: they have no rules, and an
account may add the table as an override (`send_windows`), or a row for another state.
"""

PURPOSES = """\
## Purposes

Consent is also kept per *purpose*: `marketing` and `informational` on every account,
and any the account adds (`appointment_reminders`; `POST /v1/purposes`). A send names
its purpose; one that names none is a `marketing` text when it is a campaign text and an
`informational` one otherwise (a campaign text is a `marketing` text; a text to a list
takes the list's purpose when it has one). A purpose's own consent (an opt-in or opt-out
for that purpose alone) decides the texts of that purpose, over the scope's status; a
sender's own opt-out (`sender` scope) still ends every purpose from that sender. A
contact with no consent of a purpose's own is as the scope's status says: an account
that never names purposes keeps working as before.

Whether one revocation ends every purpose is `revoke_all`. 47 CFR 64.1200(a)(10) says a
revocation covers every robocall and robotext from that sender; the FCC delayed that
sentence to 2027-01-31 (order of 2026-01-06; a notice of 2025-10-28 may change it again).
`default` and the vendor profiles end every purpose today; an account may choose `off`,
or `from 2027-01-31` to follow the rule from its date. 64.1200(a)(12) allows one
confirmation text after a revocation, with no marketing, and it must be the only further
text: where the contact held consent for several purposes and `revoke_all` is off, that
one text asks which were meant (reply `opt_out_choice`), and every purpose stays stopped
unless the contact names some within `purpose_choice_minutes` (no answer means all).
"""
