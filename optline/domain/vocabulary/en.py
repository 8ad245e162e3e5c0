"""English: the keywords the default profile adds, weak opt-out words, spellings,
fillers, the phrase rules with their building blocks, short replies, and the context
words read around a keyword or phrase.

Most context words are English only (:data:`NEGATION_BREAKERS`, :data:`OBJECT_PRONOUNS`,
:data:`BEFORE_FINAL_KEYWORD`, :data:`AFTER_FIRST_KEYWORD`); the other languages add
their own negations, question words and possible replies in their modules. The English
keywords themselves (STOP, UNSUBSCRIBE, ...) are each profile's own, in
:mod:`optline.domain.profiles` with their sources; the default profile adds these.
"""

from __future__ import annotations

from optline.domain.policy import Intent
from optline.domain.vocabulary.phrase import Phrase, last_words, phrase

_OUT = Intent.OPT_OUT
_MAYBE = Intent.POSSIBLE_OPT_OUT
_IN = Intent.OPT_IN

# -- keywords (whole message) -----------------------------------------------------------

# Added to its English keywords by the default profile: Plivo (UNSUB), AWS End User
# Messaging (REMOVE), and the words named in TCPA suits ("exit", "remove").
EXTRA_OPT_OUT = ("UNSUB", "REMOVE", "EXIT")
EXTRA_OPT_IN = ("RESUBSCRIBE", "SUBSCRIBE", "OPT IN", "OPTIN")

#: Opt-out keywords that are common words in another sense ("cancel my order", "the
#: end"). 64.1200(a)(10) names cancel, end and quit as valid per se, so alone they opt
#: out.
WEAK_OPT_OUT = frozenset({"cancel", "end", "quit", "exit", "remove"})

#: Spellings of an opt-out keyword that are neither a slip of the finger nor emphasis:
#: "stop" as it is drawn out in speech, or run together with "it". Read as the keyword
#: where a word alone makes a clause, by profiles that read free text (never by the
#: vendors' single-keyword ones).
SPELLINGS: dict[str, str] = {
    "stahp": "stop", "stawp": "stop", "stohp": "stop", "stopit": "stop", "stoppit": "stop",
}  # fmt: skip

# -- fillers ----------------------------------------------------------------------------

#: "Stop. Thank you", "STOP PLEASE", "ok stop".
FILLERS = frozenset(
    {
        "please", "pls", "plz", "pleas", "kindly", "thanks", "thank", "you", "u", "thx",
        "ty", "tyvm", "ok", "okay", "k", "now", "asap", "immediately", "already", "just",
        "sir", "maam", "yes", "yeah", "it", "and", "again", "anymore", "right", "away",
        "seriously", "omg", "everything",
    }
)  # fmt: skip

# -- phrases ----------------------------------------------------------------------------

# Building blocks. "text" nouns are the things a texting program sends; _TEXTS adds
# calls and emails, which "stop the ..." also ends (the protective reading).
_TEXT_NOUNS = (
    r"texts?|txts?|text messages?|messages?|msgs?|sms|reminders?|notifications?|"
    r"alerts?|promos?|promotions?|offers|ads|marketing|spam"
)
_TEXTS_SENT = rf"(?:{_TEXT_NOUNS})"
_TEXTS = rf"(?:{_TEXT_NOUNS}|calls|emails)"
# Texts as something switched on and off: plurals only, so "turn off the reminder for
# Friday" (one reminder) is not a revocation.
_TEXT_FEEDS = r"(?:texts|text messages|txts|messages|msgs|sms|notifications|alerts|reminders)"
# Another channel than texts: leaving it alone is no text opt-out.
_OTHER_CHANNEL = (
    r"(?:emails?|e mails?|newsletters?|mailing list|mailers|mail|calls|phone calls|voicemails?"
    r"|catalogs?|catalogues?)"
)
# Profanity between a verb and its object ("stop f***ing texting me"); asterisks split
# a word, so "f***ing" reads ``f ing``.
_CURSE_WORDS = (
    r"fucking|fuckin|fking|fkn|fcking|fckin|effing|effin|freaking|freakin|frigging|"
    r"friggin|fricking|frickin|goddamn|damn|bloody|f ing|f in|f king|f cking|f ckin|"
    r"fu ing|fu king|fu kin|"
    # "stop the sh*t texts": a starred word is folded into two.
    r"shit|shitty|sh t|sh tty|crap|crappy|damned|dumb"
)
_CURSE = rf"(?:{_CURSE_WORDS})"
_SENDING = (
    r"(?:sending|texting|txting|messaging|msging|contacting|calling|emailing|spamming|"
    r"bothering|harassing|pestering|bugging)"
)
_DETERMINERS = (
    # "cancel los texts": Spanish articles in a mixed reply.
    r"(?:all|the|these|those|this|your|ur|any|my|more|of|with|sending|me|us|receiving|"
    r"los|las|mis|estos|esos|sus|"
    rf"getting|text|sms|marketing|promotional|daily|stupid|annoying|{_CURSE_WORDS})"
)
# "Please remove her number" (a relative's, she passed), "remove mi número" (Spanish
# "my") name the number the texts go to.
_ME = (
    r"(?:me|us|(?:my|mi) (?:number|numero|phone|cell|name|info|contact)"
    r"|(?:her|his|their) (?:number|numero|cell)"
    r"|this (?:number|phone))"
)
_NOT = r"(?:don t|dont|do not|never|no longer|pls don t)"
# "Alerts on the thermostat", "notifications in the app": something else's, not the
# texts; "... for my account", "... on this number" are the texts.
_NOT_ON_SOMETHING_ELSE = (
    r"(?! (?:on|in|for|from) (?:the|my|our|your) (?!account\b|number\b|cell\b)\w)"
)
# Words after "I'm not" or "this is not" that name no person: "I'm not sure", "this is
# not ok". Any other word there, closing the clause, is a name denied ("im not mike").
_NOT_A_NAME = (
    r"(?:sure|ready|interested|available|home|here|there|coming|going|able|certain|yet|now"
    r"|ok|okay|fine|well|sick|mad|angry|upset|done|late|free|in|out|worried|happy|alone"
    r"|aware|the|a|an|him|her|them|that|this|it|so|too|really|even|me|you|one|allowed"
    r"|kidding|joking|hungry|tired|busy|old|young|mine|yours|his|hers|theirs|ours|correct"
    r"|right|wrong|true|real|spam|legit|fair|funny|good|bad|great|cool|nice|normal"
    r"|possible|necessary|enough|over|finished|open|closed|valid|your|ur|my|our|their|what"
    r"|how|why|who|when|where|worth|for|about|against|with|from|at|on|to|of|much|more|less"
    r"|very|quite|exactly|just|gonna|into|anymore|always|either|both|any|all|some|no|sorry"
    r"|positive|clear|safe|alive|dead|afraid|scared|stupid|dumb|crazy|rich|poor|broke|big"
    r"|small|new|today|tomorrow|tonight|anyone|anybody|someone|somebody|everyone|everybody"
    r"|likely|entirely|totally|actually|currently|usually|literally|definitely|fully|only"
    r"|surprised|human|robot|bot|customer|client|member|patient|paid|due|mandatory|required"
    r"|needed|urgent|important|nothing|anything|something|everything|cheap|expensive|better|thing|way|details)"
)
# Lists that are no texting list: "remove me from the waitlist" gives up a place.
_NOT_A_TEXT_LIST = (
    r"(?! (?:from|off)(?: \w+){0,2} (?:wait ?list|waiting list|schedule"
    r"|calendar|appointments?|reservations?|bookings?|roster|team|class|carpool|queue"
    r"|registry|guest list|raffle|draw|giveaway|order|cart|shift|event|tournament)s?\b)"
)
# Things one opts out of that are no texts: "can I opt out of the extended warranty?",
# "unsubscribe me from paper statements" leave a product or a paper channel.
_NOT_TEXT_THINGS = (
    r"(?!(?: me| us)? (?:of|from|for|to)(?: \w+){0,3} (?:warrant(?:y|ies)|insurance|coverage"
    r"|protection"
    r"|paper|paperless|statements?|bills?|billing|invoices?|auto ?renewal|renewals?|autopay"
    r"|arbitration|class action|settlement|data sharing|sharing|cookies|tracking|survey"
    r"|study|trial|pension|retirement|401k|benefits?|enrollment|jury|membership|donations?"
    r"|round ?up|tips?|fees?|overdraft|credit check|background check|photos?|pictures"
    r"|directory|yearbook|carpool|field trip|potluck|auto ?ship|autoship|subscription box)\b)"
)
# "Unsubscribe me from the email newsletter", "stop calling": leaving another channel.
_LEAVES_OTHER_CHANNEL = (
    r"\b(?:(?:unsubscribe|unsub|stop|cancel|quit|no more|opt (?:me |us )?out"
    r"|remove (?:me|us)|take (?:me|us) off)(?: (?:me|us))?(?: (?:from|of|off|with|sending))?"
    # Any few words before the channel ("the appointment emails", "paper mail"): the
    # rule also needs the texts kept, so the wider reach opts nobody out.
    rf"(?: \w+){{0,3}}? {_OTHER_CHANNEL}|(?:stop|quit) (?:calling|emailing|mailing))\b"
)
# "... but keep the texts", "texting is fine", "text me instead".
_KEEPS_TEXTS = (
    r"\b(?:(?:keep|continue)(?: (?:sending|getting|texting))?(?: me| us)?(?: the| my| your)?"
    r"(?: \w+)? (?:texts|text messages|texting|sms|text alerts|text reminders)"
    r"|(?:keep|continue) texting(?: me| us)?"
    r"|(?:texts?|texting|sms) (?:is|are) (?:fine|ok|okay|good|enough|plenty)"
    r"|(?:still|just) text (?:me|us)|text (?:me|us) instead|text (?:my|me on my) (?:cell|mobile)"
    r"|texts? only|texting only"
    # "I still want the delivery texts", "I only want texts"; not "don't want the texts".
    r"|(?<!\bdon t )(?<!\bnot )(?<!\bdont )(?<!\bno longer )(?:want|need|prefer|like)"
    r" (?:the |my |your |all )?(?:\w+ )?(?:texts|text messages|sms|text alerts))\b"
    # "Unsubscribe me from the email list only": "only" closing the clause.
    r"|\bonly(?= \||$)"
)

PHRASES: tuple[Phrase, ...] = (
    phrase(
        # "I hit unsubscribe by accident", "accidentally texted STOP": an earlier
        # opt-out told as a slip (most often by someone asking for the texts back), not
        # a new request; its words are taken out of what the later rules read.
        "reports an opt-out sent by mistake",
        Intent.NONE,
        r"\b(?:(?:accidentally|mistakenly) )?(?:(?:hit|pressed|pushed|tapped|clicked|sent|texted"
        r"|replied|typed|wrote|said) (?:the )?(?:stop|unsubscribe|unsub|cancel|end|quit|opt out"
        r"|stopall)(?: button| link)?|unsubscribed|opted out|stopped (?:them|the texts|it))"
        r" (?:by (?:accident|mistake|error)|on accident|in error|accidentally|mistakenly)\b"
        r"|\b(?:accidentally|mistakenly) (?:hit|pressed|pushed|tapped|clicked|sent|texted"
        r"|replied|typed|wrote) (?:the )?(?:stop|unsubscribe|unsub|cancel|end|quit|opt out"
        r"|stopall)\b|\b(?:accidentally|mistakenly) (?:unsubscribed|opted out)\b",
        "accident mistake error accidentally mistakenly",
        negatable=False,
    ),
    phrase(
        # "Unsubscribe me from the emails but keep the texts": another channel is
        # left, the texts are kept, so the consent to text stands.
        "leaves another channel and keeps the texts",
        Intent.NONE,
        _LEAVES_OTHER_CHANNEL,
        "keep continue instead fine ok okay good still just enough plenty cell mobile only "
        "want need prefer like",
        negatable=False,
        needs="email emails mail mails newsletter newsletters mailing mailers calls calling "
        "emailing voicemail voicemails catalog catalogs catalogue catalogues",
        # Everything from the first channel left to the last mention of the texts
        # kept is the message keeping them.
        then=_KEEPS_TEXTS,
        either_order=True,
        to_last=True,
    ),
    phrase(
        "asks to stop sending",
        _OUT,
        rf"\b(?:stop|quit|cease|refrain from)(?: {_CURSE})? {_SENDING}\b"
        # "I'll quit bugging you", "I should stop texting you so late": the writer
        # stopping, the business the object.
        r"(?! (?:you|u|ya|yall|y all)\b)",
        "stop quit cease refrain",
        needs=last_words(_SENDING),
    ),
    phrase(
        # "Please stop following up": a salesperson's follow-ups are the texts. "I'll
        # stop following up" is the writer stopping; "... on the claim" is the claim.
        "asks to stop following up",
        _OUT,
        rf"\b(?:stop|quit|cease)(?<!\bi ll stop)(?<!\bi will stop)(?<!\bwe ll stop)"
        rf"(?: {_CURSE})? "
        r"(?:following up|reaching out|hitting (?:me|us) up)(?: (?:with|to) (?:me|us))?"
        r"(?! (?:on|with|to|for)\b)",
        "stop quit cease",
        needs="following reaching hitting",
    ),
    phrase(
        "asks to stop the texts",
        _OUT,
        rf"\b(?:stop|quit|cease|end|cancel|discontinue|halt|terminate|no more|no further)"
        # "cancel my subscription to these texts": the subscription named as the texts'.
        rf"(?: {_DETERMINERS}){{0,4}}(?: (?:text |sms )?subscription (?:to|for)"
        rf"(?: {_DETERMINERS}){{0,3}})? {_TEXTS}\b"
        # Formal: "I request no further contact".
        r"|\b(?<!\bhad )(?<!\bhave )(?<!\bhas )no further (?:contact(?! (?:with|from)\b)"
        r"|communications?(?! with\b))\b",
        "stop quit cease end cancel discontinue halt terminate more further",
        needs=f"{last_words(_TEXTS)} contact communication communications",
    ),
    phrase(
        "uses an opt-out word",
        _OUT,
        # Not the word as a noun ("the unsubscribe link in the email is broken"): a
        # question about a link or button is the model's to flag, not a request.
        r"\b(?:unsubscribe|unsub|optout|opt out|opt me out|revoke|withdraw (?:my )?consent"
        r"|cease and desist)\b(?! (?:link|button|page|option|url|footer)s?\b)"
        f"{_NOT_TEXT_THINGS}"
        # Formal wording names the act: "this message serves as revocation of consent".
        r"|\b(?:revocation|withdrawal) of (?:my |all |any )?(?:prior )?consent\b"
        r"|\bconsent (?:is |has been |is hereby |hereby )?(?:revoked|withdrawn)\b"
        r"(?! (?:box|form|field|section|checkbox)\b)",
        "unsubscribe unsub optout opt revoke withdraw cease revocation withdrawal consent",
    ),
    phrase(
        # Formal refusal with a negation inside it: "I do not consent to further
        # texts", "you do not have my permission to text me" (a consent refused is a
        # consent revoked, 64.1200(a)(10)).
        "does not consent to texts",
        _OUT,
        r"\b(?:do not|don t|dont|no longer|never|not) (?:consent|agree|authori[sz]e"
        r"|give (?:my |you )?(?:consent|permission))(?: to)?"
        r"(?: (?!but\b|and\b|or\b|except\b)\w+){0,3}? "
        r"(?:texts?|txts?|text messages?|messages?|msgs?|sms|texting|messaging|contact|contacting"
        r"|communications?|texted|contacted|messaged)\b"
        r"|\b(?:do not|don t|dont|no longer) have (?:my|our) (?:consent|permission)\b"
        # "You are not authorized to text me".
        r"|\b(?:you|u) (?:are|re|r) not (?:authori[sz]ed|allowed|permitted) to (?:text|txt"
        r"|message|msg|sms|contact)\b",
        "consent agree authorize authorise permission authorized authorised allowed permitted",
        negatable=False,
    ),
    phrase(
        "asks to be removed",
        _OUT,
        rf"\b(?:remove|delete|erase|unsubscribe|unsub|drop) {_ME}\b{_NOT_A_TEXT_LIST}"
        f"{_NOT_TEXT_THINGS}"
        # "drop me off at the side entrance": a ride.
        r"(?! off (?:at|by|in|on|near|outside|there|here|first)\b)",
        "remove delete erase unsubscribe unsub drop",
    ),
    phrase(
        "asks to be taken off the list",
        _OUT,
        r"\b(?:off|out of|from) (?:your|the|this|ur|that|all|my|these) "
        r"(?:(?:texting|text|sms|mailing|contact|marketing|call) )?lists?\b"
        # "off the campaign's text list": any list named after "off" but one of things
        # to do, buy or invite.
        r"|\boff (?:your|the|this|ur|that|all|my|these) (?:(?!(?:to|do|grocery|shopping|wish"
        r"|bucket|guest|wait|waiting|reading|christmas|invite|invitation|attendance|packing"
        r"|check|naughty|priority|route|delivery|driver|shift|duty|pickup|carpool|rotation"
        r"|signup|sign)\b)\w+ ){1,3}lists?\b",
        "list lists",
        # "please don't remove me | from the list": the negation is before the verb.
        after_object=True,
    ),
    phrase(
        # "please take me off. thx": the whole request, at the end of its clause;
        # "take me off the waitlist" asks something else.
        "asks to be taken off",
        _OUT,
        r"\b(?:take|get) (?:me|us|this number) off(?: (?:please|pls|plz|now|asap|already"
        r"|thanks|thank you|thx|ty))*(?= \||$)",
        "off",
        needs="take get",
    ),
    phrase(
        "asks to be left alone",
        _OUT,
        r"\b(?:leave (?:me|us) alone|lose (?:my|this) number)\b",
        "leave lose",
    ),
    phrase(
        "says not to text",
        _OUT,
        rf"\b{_NOT} (?:ever |{_CURSE} )?"
        r"(?:text|txt|message|msg|sms|contact|send|email|bother|spam)"
        r" (?:me|us|this (?:number|phone|line|cell)|again|anymore|any"
        r"|here (?:anymore|any more|again))\b"
        # "... at 6am" moves the texts; "... at this number" is the number itself.
        r"(?! (?:on|via|through|before|after|until|during|while|about)\b"
        r"| at (?!(?:this|my|that) (?:number|phone|cell)\b|all\b))"
        # "Do not send further communications to this number".
        rf"|\b{_NOT} send (?:(?:me|us|any|more|further|additional|these|your|the) ){{1,3}}"
        rf"(?:{_TEXT_NOUNS}|communications?)\b",
        "don dont not never longer",
        negatable=False,
        needs="text txt message msg sms contact send email bother spam",
    ),
    phrase(
        "does not want texts",
        _OUT,
        # "wnat", "wamt": "want" with two letters swapped or one next to it on the keys.
        rf"\b{_NOT} (?:want|wnat|wamt|whant|wan|wish|need|like)\b(?: \w+){{0,4}}? "
        rf"(?:{_TEXTS}|contacted|texted|messaged)\b",
        "don dont not never longer",
        negatable=False,
        needs="want wnat wamt whant wan wish need like",
    ),
    phrase(
        # "I don't want these", "don't want em anymore": the texts answered, at the end
        # of the clause; "I never want to hear from you again".
        "does not want them",
        _OUT,
        # Not "them" or "those" alone ("I don't want them in blue", a product).
        rf"\b{_NOT} want (?:any more of |any of )?(?:these|em)"
        r"(?: (?:anymore|any more|again|ever again|please|pls|thanks|thank you|thx))*(?= \||$)"
        rf"|\b{_NOT} want to (?:get|receive|keep getting|keep receiving) (?:these|them|those)"
        r"(?: (?:anymore|any more|again|ever again|please|pls|thanks|thank you|thx))*(?= \||$)"
        rf"|\b{_NOT} want to hear from (?:you|u|y all|this number)\b",
        "don dont not never longer",
        negatable=False,
        needs="want",
    ),
    phrase(
        # "You need to stop", at the end of its clause.
        "tells the sender it must stop",
        _OUT,
        r"\b(?:you|u|y all|you guys) (?:need|have|got|gotta) (?:to )?stop"
        r"(?: (?:it|this|now|please|pls|already|immediately|right now))*(?= \||$)",
        "need have got gotta",
        needs="stop",
    ),
    phrase(
        "says it has already asked to stop",
        _OUT,
        r"\b(?:i|we|i ve|i have|already) (?:already )?(?:said|told you|texted|replied|sent"
        r"|asked you to|asked to) (?:to )?stop\b(?! (?:by|at|in|on|over|for)\b)"
        # "I have asked multiple times to be removed".
        r"|\b(?:i|we|i ve|i have|we ve|we have) (?:already )?asked(?: you)?"
        r"(?: (?:multiple|many|several|so many|three|two|\d+) times)?(?: already)? to "
        r"(?:be removed|be taken off|unsubscribe|opt out|not be (?:texted|contacted))"
        # Said alone, or from the texts or their list (not "from the paper bills").
        r"(?: (?:multiple|many|several|so many|\d+) times| already| before)?"
        r"(?:(?= \||$)| (?:from|off) (?:your|the|this|ur|these|all|my) (?:(?:text|texting|sms"
        r"|contact|marketing|mailing) )?(?:lists?|texts|messages|sms|database|system)\b)"
        # "... if you don't stop texting me": a threat, the request inside it.
        rf"|\bif (?:you|u) (?:don t|dont|do not|won t|wont) stop(?: {_SENDING}\b|(?= \||$))",
        "said told texted replied sent asked if",
        needs="stop removed taken unsubscribe opt not",
    ),
    phrase(
        # "Stop for now": stop, maybe come back later; it is still a stop today.
        "asks to stop for now",
        _OUT,
        r"(?:^|\| )(?:please |pls |ok |just )?(?:stop|unsubscribe|pause) (?:it |them )?"
        r"for now(?: (?:thanks|thank you|thx|please|pls))?(?= \||$)",
        "now",
        needs="stop unsubscribe pause",
    ),
    phrase(
        # "how do I stop these? just stop them": "them" is the texts answered, as
        # "stop it" is.
        "asks to stop them",
        _OUT,
        r"(?:^|\| )(?:(?:please|pls|plz|just|ok|okay|so|now|and|can you|could you|can u"
        r"|seriously) )*(?:stop|quit) (?:them|these|those)"
        r"(?: (?:please|pls|plz|now|already|asap|thanks|thank you|thx|for good))*(?= \||$)",
        "them these those",
        negatable=False,
        needs="stop quit",
    ),
    phrase(
        "has had enough of the texts",
        _OUT,
        rf"(?:^|\| )(?:ok |okay |omg |seriously |that s |thats )?enough (?:already )?"
        rf"(?:with |of )?(?:the |these |those |your |ur |all |this )?{_TEXTS}\b",
        "enough",
        needs=last_words(_TEXTS),
    ),
    phrase(
        "is blocking the sender",
        _OUT,
        r"\b(?:i m|im|i am|i ll|ill|i will|i have|i ve|gonna|going to|about to) "
        r"(?:just |now |officially |definitely )?block(?:ing|ed)? "
        r"(?:(?:this|your|ur|the) (?:number|sender|contact)\b|(?:you|u|this)(?: now)?(?= \||$))"
        r"|(?:^|\| )block(?:ing|ed) (?:this|your|ur) (?:number|sender|contact)\b",
        "block blocking blocked",
    ),
    phrase(
        # A curt "go away" or "f*** off" as a whole clause is aimed at whoever sent
        # the text; profanity on its own ("f***ing finally") is not a refusal.
        "tells the sender to go away",
        _OUT,
        r"(?:^|\| )(?:(?:just|now|please|pls|plz|ok|so|oh|seriously|omg|and|yo|dude|bro) )?"
        r"(?:go away|get lost|fuckoff|gtfo(?: (?:of|off|outta) (?:my|this) (?:phone|inbox|number"
        r"|dms))?|(?:fuck|fucking|fuckin|fck|fk|fuk|fuq|f|f k|f ck|eff"
        r"|effing|piss|bugger|sod|buzz|shove) off)"
        r"(?: (?:already|now|please|pls|forever|then|dude|bro|lol|with (?:the|these|this"
        r"|your|ur) \w+))?(?= \||$)",
        "away lost off fuckoff gtfo",
    ),
    phrase(
        # Idioms for "stop" said of the texts: "knock it off with the texts".
        "tells the sender to knock off the texts",
        _OUT,
        r"\b(?:knock it off|cut it out|give it a rest|cool it|lay off|knock off|cut out)"
        rf"(?: already)?(?: with)?(?: {_DETERMINERS}){{0,3}} {_TEXTS}\b",
        "knock cut rest cool lay",
        needs=last_words(_TEXTS),
    ),
    phrase(
        # "I'd rather not get texts": a polite no. "... before 9" or "on weekends"
        # only moves them.
        "would rather not get texts",
        _OUT,
        r"\b(?:rather|prefer|preferred)(?: to)? (?:not (?:to )?(?:be (?:texted|contacted"
        rf"|messaged)|(?:get|getting|receive|receiving|have)(?: {_DETERMINERS}){{0,3}}"
        rf" {_TEXTS_SENT})|no (?:more )?{_TEXTS_SENT}|(?:you|u) (?:didn t|did not|not|stopped"
        r"|quit|stop) (?:text|texting|txt|txting|message|messaging|contact|contacting|send"
        r"|sending))\b(?! (?:before|after|until|during|while|on|in the)\b| at (?!all\b))",
        "rather prefer preferred",
        needs=f"{last_words(_TEXTS_SENT)} texted contacted messaged texting txting messaging "
        "contacting send sending",
    ),
    phrase(
        # Texts as notifications someone switches off; not "the notifications on my
        # phone" or "the alerts in the app".
        "asks to turn off the texts",
        _OUT,
        rf"\b(?:(?:turn|switch|shut) off(?: {_DETERMINERS}){{0,3}} {_TEXT_FEEDS}"
        rf"|(?:turn|switch|shut)(?: {_DETERMINERS}){{0,3}} {_TEXT_FEEDS} off"
        rf"|disable(?: {_DETERMINERS}){{0,3}} {_TEXT_FEEDS})\b{_NOT_ON_SOMETHING_ELSE}",
        "turn switch shut disable",
        needs=last_words(_TEXT_FEEDS),
    ),
    phrase(
        # FCC 2024 order: asking how to leave the texts or the list, named as such,
        # is itself a request to leave. "How do I unsubscribe?" with nothing named
        # stays a question ("uses an opt-out word" reads it as a possible one).
        "asks how to leave the texts",
        _OUT,
        r"\b(?:how (?:(?:do|can|could|would|should|will) (?:i|we)|to|do i go about)"
        r"|(?:a|any|the) way to|what do i (?:do|reply|text|send|type) to)(?: just| even)?"
        r" (?:unsubscribe|unsub|opt (?:me |us )?out|get off|get out|be removed|get removed"
        r"|leave|remove (?:me|us|myself|my number))(?: (?:from|of|off))?"
        rf"(?: {_DETERMINERS}){{0,3}} (?:{_TEXT_NOUNS}"
        r"|(?:(?:texting|text|sms|mailing|contact|marketing) )?lists?)\b",
        "how way what",
        negatable=False,
        needs="unsubscribe unsub out off removed leave remove",
    ),
    phrase(
        # "Who gave you my number? Remove it now.": "it" is the number named before.
        "asks to remove the number it named",
        _OUT,
        # "this was my mom's number, she passed, remove it".
        r"\b(?:my|this)(?: \w+ s)? (?:phone |cell )?number\b",
        "remove delete erase lose",
        negatable=False,
        needs="number",
        # "So" opens the request, and is no filler inside it: a long run of "so so
        # so ..." is then tried once from each word, not read to its end from each.
        then=r"(?:\| |\b(?:so|and|then) )(?:(?:please|pls|plz|just|now|ok) )*"
        r"(?:remove|delete|erase|lose) it"
        r"(?: (?:now|please|pls|plz|immediately|asap|right now|already|thanks|thank you"
        r"|from your (?:list|lists|system|records|database|contacts)))*(?= \||$)",
    ),
    phrase(
        # Not "not interested in the red one": a product declined, not the texts.
        "refuses",
        _MAYBE,
        r"\b(?:not|no longer) interested\b(?! in (?:the|that|this|a|an|those|these) "
        r"(?!texts?\b|messages?\b|offers?\b|deals?\b|promos?\b|promotions?\b|ads\b))"
        r"|\bwrong (?:number|person|guy|girl)\b",
        "interested wrong",
        needs="not longer number person guy girl",
    ),
    phrase(
        # A wrong number as its reader says it: a name denied ("im not mike", "this
        # isn't Maria's phone anymore"), a name unknown ("I don't know any Kevin"), the
        # number passed on, the contact no customer. May mean stop, as "wrong number".
        "is not the person texted",
        _MAYBE,
        r"(?:^|\| )(?:(?:sorry|um|umm|uh|hi|hey|hello|no|nope|lol|but) )*"
        # Not "it's not" or "that's not": a thing, not a person ("it's not fake").
        r"(?:i m|im|i am|this is|this s) not"
        rf" (?!{_NOT_A_NAME}\b)(?![a-z]{{3,}}(?:ing|ed|ful|ous|ive|able|ible)\b)[a-z]{{2,}}"
        r"(?: s (?:phone|number|cell))?(?: (?:sorry|lol|anymore))?(?= \||$)"
        r"|\b(?:this|that|it) (?:isn t|isnt|is not) (?:\w+ s|his|her) (?:phone|number|cell)\b"
        r"|\b(?:i|we) (?:don t|dont|do not) know (?:any|anyone named|anybody named"
        rf"|someone named) (?!{_NOT_A_NAME}\b)[a-z]{{2,}}(?= \||$)"
        r"|\b(?:no one|nobody|noone) (?:here )?(?:by|with|named|called) (?:that|this|the) name\b"
        r"|\b(?:this|my|the) (?:phone |cell )?number (?:now )?(?:belongs|belonged|went) to "
        r"(?:someone|somebody) else\b"
        r"|\b(?:i m|im|i am) (?:not|no longer) (?:a|an|your|ur) (?:customer|client|member"
        r"|patient|student)\b",
        "not isn isnt know nobody noone one number",
        negatable=False,
    ),
    phrase(
        "did not sign up",
        _MAYBE,
        r"\b(?:never|didn t|did not|don t remember) sign(?:ed|ing)? up\b"
        r"|\b(?:how|where) (?:did|do|d) (?:you|u|y all|yall) get (?:my|this)"
        r" (?:phone |cell )?number\b"
        # "how did you get this number to work?" asks something else.
        r"(?! to\b)"
        r"|\bwho gave (?:you|u) (?:my|this) number\b"
        r"|\bwhy (?:do|are|am|does) (?:you|i|u)(?: \w+){0,2} (?:texting|getting|text)\b"
        r"|(?:^|\| )(?:this is )?spam\b|\btoo many (?:texts|messages)\b"
        r"|\btext(?:ing)? (?:me|us) too much\b",
        "sign signed signing number why spam too",
        needs="up my why spam many much number",
    ),
    phrase(
        "asks how to stop",
        _MAYBE,
        r"\bway to (?:stop|unsubscribe|opt out)\b|\bcancel (?:my |the )?subscription\b"
        r"|\bpause (?:the |these |my |all )?(?:texts|messages|reminders)\b",
        "way subscription pause",
    ),
    phrase(
        "asks to subscribe again",
        _IN,
        r"\bopt (?:me )?(?:back )?in\b|\b(?:re)?subscribe me\b"
        r"|\b(?:start|resume) (?:texting|messaging|sending) me\b",
        "opt subscribe resubscribe start resume",
        needs="in me",
    ),
    phrase(
        # Explicit requests for the texts themselves; "send me the reminder again"
        # (one text resent) is not one.
        "asks for the texts back",
        _IN,
        r"\b(?:want|like|love|wish) to (?:(?:start|keep) )?(?:get|getting|receive|receiving)"
        rf"(?: {_DETERMINERS}| appointment| weekly){{0,3}} {_TEXT_FEEDS} again\b"
        rf"|\bresume(?: {_DETERMINERS}| appointment| weekly){{0,3}} {_TEXT_FEEDS}\b"
        rf"|\bturn (?:my |the |your )?{_TEXT_FEEDS} back on\b"
        rf"|\bturn (?:back on|on again) (?:my |the |your )?{_TEXT_FEEDS}\b"
        r"|\b(?:add|put) (?:me|us|my number) back (?:on|to|in|into) (?:the|your|ur|this) "
        r"(?:(?:text|texting|sms|mailing|contact) )?list\b"
        r"|\bsign (?:me|us) (?:back )?up (?:for|to) (?:(?:the|your|these|weekly|daily|text"
        r"|sms) )*(?:texts|text messages|messages|deals|offers|specials|alerts|reminders"
        r"|list|promos|text club)\b",
        "want like love wish resume turn add put sign",
        needs=f"{last_words(_TEXT_FEEDS)} list deals offers specials promos club",
    ),
    phrase(
        # CTIA 5.1.2.1: the HELP reply names the program, its frequency and costs,
        # so questions about those are answered with it.
        "asks about the program",
        Intent.HELP,
        r"\bwhat (?:is|s|are|does) (?:this|these|those) (?:(?:text|txt|sms|texting|message) )?"
        r"(?:service|program|club|texts|messages|msgs|alerts|list|subscription)"
        r"(?= \||$| (?:for|about|do|exactly|anyway|mean)\b)"
        r"|\bwhat (?:kinds?|types?|sorts?) of (?:texts|messages|msgs|alerts|sms)\b"
        r"|\bhow (?:often|frequently|many times)(?: (?:will|would|do|does|are|can))? "
        r"(?:you|u) (?:text|txt|message|msg)\b"
        r"|\bhow (?:often|frequently|many times)(?: (?:will|would|do|does|are|can))? (?:i|we) "
        rf"(?:get|receive|getting|receiving)(?: {_DETERMINERS}){{0,2}} {_TEXT_FEEDS}\b"
        r"|\bhow many (?:texts|messages|msgs|alerts)\b"
        r"|\b(?:msg|message|messaging|text|sms|data) (?:and )?(?:data )?rates\b"
        r"|\b(?:cost|charge|fee)s? (?:for|of|to)(?: (?:these|the|your|this|receiving|getting))"
        r"{1,2} (?:texts|messages|text messages|sms|alerts|service)\b"
        r"|\b(?:texts|messages|text messages) cost\b"
        # "is there a charge for these msgs?", "msg frequency?".
        rf"|\b(?:charge|fee|cost)s? for (?:these|the|your|this) {_TEXT_FEEDS}\b"
        r"|\b(?:msg|message|text|sms) (?:frequency|freq)\b"
        # "send me the terms for this text program".
        r"|\b(?:terms|terms and conditions|privacy policy|t cs) (?:for|of) (?:this|the|these"
        r"|your) (?:(?:text|txt|sms|texting) )?(?:program|service|club|texts|alerts|messages)\b"
        # Reaching a person about the texts, or the texts moved to another phone.
        r"|\b(?:talk|speak|chat) (?:to|with) (?:a (?:real |live )?(?:person|human|agent)"
        r"|someone|somebody|customer service|support)(?: about)? (?:these|the|your|this)"
        r" (?:texts|messages|msgs|alerts|program|service)\b"
        r"|\bhow (?:do|can) (?:i|we) (?:reach|contact|get in touch with|get ahold of)"
        r" (?:customer (?:service|support|care)|support|a (?:real )?(?:person|human))\b"
        r"|\bhow (?:do|can) (?:i|we) (?:update|change) (?:my|the) (?:phone |cell )?number"
        r" for (?:the|these|your|my) (?:texts|alerts|reminders|messages)\b"
        r"|\bhow (?:do|can) (?:i|we) (?:switch|move|transfer|send) (?:the|these|your|my)"
        r" (?:texts|alerts|reminders|messages) to\b"
        r"|\bwho (?:runs|operates|owns|sends) (?:this|these|the|your) "
        r"(?:(?:text|sms|texting) )?(?:program|service|club|texts|messages|list)\b"
        r"|\bwhat (?:did )?i (?:signed|sign) up for\b",
        "what how who rates cost costs charge charges fee fees frequency freq terms policy "
        "talk speak chat",
        negatable=False,
        needs=f"{last_words(_TEXT_FEEDS)} service program club list subscription text txt "
        "message msg rates signed sign frequency freq support person human",
    ),
    phrase(
        # "HELP - what's the name of this program?": the keyword as a clause of its
        # own opening a message about the texts ("Help! I locked myself out" is not).
        "opens with help",
        Intent.HELP,
        r"^(?:help|info)(?: (?:pls|please|plz|me|me please|needed))?(?= \|)",
        "help info",
        negatable=False,
        then=r"\b(?:texts?|alerts?|messages?|msgs?|reminders?|program|service|support"
        r"|this number|frequency|cost)\b",
    ),
    phrase(
        # "DO NOT CONTACT", "do not text": the whole request, at the end of its clause
        # ("do not text while driving" says something else).
        "says not to text at all",
        _OUT,
        rf"(?:^|\| )(?:please |pls )?{_NOT} (?:ever )?(?:text|txt|message|msg|sms|contact)"
        r"(?: (?:please|pls|plz|thanks|thank you|thx))*(?= \||$)"
        # "This number is off limits. Do not text it.": the number named just before.
        rf"|\b{_NOT} (?:ever )?(?:text|txt|sms|contact) it(?: (?:again|ever|anymore))?(?= \||$)",
        "don dont not never longer",
        negatable=False,
        needs="text txt message msg sms contact",
    ),
    phrase(
        # "No texts. Ever.", "no texts at all": refusing the texts as a clause of its own
        # ("no texts today?" and "I got no texts" ask or tell something else).
        "refuses the texts in a clause of its own",
        _OUT,
        r"(?:^|\| )(?:please |pls |just |ok )?no (?:texts|text messages|txts|sms)"
        r"(?: (?:ever|at all|period|please|pls|thanks|thank you|ever again|again|anymore))*"
        r"(?: \| (?:ever|period|at all|never)(?: again)?)?(?= \||$)",
        "no",
        negatable=False,
        needs="texts messages txts sms",
    ),
    phrase(
        # "not sure how i got on this but id like off it": off the texts, named as "it".
        "wants off it",
        _OUT,
        r"\b(?:i|we|id|i d|i ll|i would|i just|i really) ?(?:want|wanna|would like|d like|like"
        r"|need) (?:to (?:get|be) )?off (?:of )?(?:it|this|this thing|that)(?: (?:please|pls"
        r"|now|asap|thanks|thank you))*(?= \||$)"
        # "This number is off limits": no texts to it at all.
        r"|\b(?:this|my) (?:number|phone|cell|line) is (?:off limits|not to be (?:texted"
        r"|contacted))\b",
        "off limits texted contacted",
        negatable=False,
    ),
    phrase(
        # "I want to stop", "yes i want to stop receiving these": "stop" ends the
        # clause or takes the texts ("I want to stop by at 5" does not).
        "wants to stop",
        _OUT,
        r"\b(?:i|we) (?:really |just )?(?:want|wanna|wish|would like|d like|need) to "
        r"(?:stop|unsubscribe|opt out|discontinue|cease)(?: (?:receiving|getting)"
        r"(?: (?:these|them|this|your|the|any))?(?: (?:texts?|messages?|sms))?)?"
        r"(?: (?:please|pls|now|thanks|thank you|thx))*(?= \||$)",
        "want wanna wish like need",
        needs="stop unsubscribe opt discontinue cease",
    ),
)

# -- short replies ----------------------------------------------------------------------

#: "No more" answering a text means no more of them.
SHORT_REPLIES: dict[str, Intent] = {
    **dict.fromkeys(("no more", "no more of these", "no more of this"), _OUT),
    # "Discontinue." and a subscription ended by a word 64.1200(a)(10) names (end, stop,
    # quit): the program's texts are the subscription. "Cancel my subscription" is
    # also a product's, so it stays a possible opt-out ("asks how to stop").
    **dict.fromkeys(
        (
            "discontinue", "discontinue service", "discontinue all", "discontinue these",
            "discontinue them", "end subscription", "end my subscription",
            "end the subscription", "stop subscription", "stop my subscription",
            "quit subscription", "terminate subscription", "terminate my subscription",
            # The sender blocked, said alone.
            "blocked", "blocked you", "you re blocked", "youre blocked", "number blocked",
            "sender blocked",
        ),
        _OUT,
    ),
    **dict.fromkeys(
        (
            "who is this", "who s this", "whos this", "who dis", "new phone who dis",
            "who is texting me", "what is this", "what s this", "whats this",
            "what is this about", "what s this about", "what company is this",
            "more info", "more information", "hlep",
        ),
        Intent.HELP,
    ),
    **dict.fromkeys(
        (
            "sign me back up", "sign me up", "resubscribe me", "add me back", "strat",
            # JOIN: the word short-code programs advertise for joining.
            "join", "rejoin", "join again",
        ),
        _IN,
    ),
}  # fmt: skip

#: TCPA suits were filed over "no" and "S"; "no" also answers many other questions.
POSSIBLE_REPLIES = frozenset({"no", "nope", "nah", "s", "enough"})

# -- context words ----------------------------------------------------------------------

#: "don't stop the reminders", "never stop texting me these deals". ("t" is what is
#: left of "n't".)
NEGATORS = frozenset({"not", "t", "dont", "never", "cant", "wont", "didnt", "doesnt", "cannot"})
#: "why won't you stop texting me" is a request, not a negation.
NEGATION_BREAKERS = frozenset({"you", "u"})
#: The object of a verb before a phrase: "remove me | from the list".
OBJECT_PRONOUNS = frozenset({"me", "us", "myself", "it"})
#: "how do I unsubscribe?"
QUESTION_WORDS = frozenset({"how", "way", "if", "whether", "what"})

#: A strong opt-out keyword at the end of a clause counts after these words only:
#: "wrong number stop", "I said stop", "can you stop". Others ("the bus stop", "to
#: stop", "if I reply stop") are other senses or quotations.
BEFORE_FINAL_KEYWORD = frozenset(
    {
        "said", "say", "saying", "number", "please", "pls", "plz", "kindly", "just", "ok",
        "okay", "omg", "now", "you", "u", "so", "seriously", "again", "already", "yes",
        "yeah", "hey", "hi", "interested", "but", "anyway", "anyways",
    }
)  # fmt: skip
#: A strong opt-out keyword opening a clause counts when a new sentence follows it
#: without punctuation: "STOP who is this", "Stop I'm not interested".
AFTER_FIRST_KEYWORD = frozenset(
    {"i", "im", "who", "wrong", "you", "u", "we", "not", "never", "dont", "do", "or"}
)

#: Laughter and delight around a "Stop!" said as a clause of its own ("Stop! That's
#: amazing news", "Stop, you're making me hungry 😂"): the exclamation of chat, read as
#: a possible opt-out for review, not acted on alone. Words, then characters (emoji).
EXCLAIMED = frozenset(
    {
        "lol", "lmao", "lmfao", "rofl", "ha", "haha", "hahaha", "hehe", "amazing", "awesome",
        "congrats", "congratulations", "wow", "yay", "kidding", "joking", "blushing",
        "hilarious", "funny", "cute", "adorable", "gorgeous", "incredible",
    }
)  # fmt: skip
EXCLAIMED_SIGNS = frozenset("😂🤣😆😍🥰🎉🥳😹💀")
#: Sarcasm about the texts: "Wow, another text. Just what I needed. STOP." The
#: delight is mock, and a keyword that closes such a text asks to stop.
SARCASM = (
    r"\b(?:another|more|yet another) (?:text|texts|txt|message|messages|msg|msgs|sms|spam"
    r"|reminder|reminders|promo|promos|ad|ads|notification)\b"
    r"|\b(?:just|exactly) what i (?:needed|wanted)\b"
)

#: Words that take back an opt-out named after them: "undo unsubscribe", "reverse my
#: opt-out" ask for the texts again.
UNDOERS = frozenset({"undo", "reverse", "revert"})
#: Verbs between a negation and "to" before a phrase that the negation still covers:
#: "not asking to unsubscribe", "I didn't mean to opt out".
INTENDING = frozenset(
    {"asking", "ask", "asked", "trying", "try", "tried", "mean", "meant", "want", "wanted",
     "going", "planning", "intend", "intending", "gonna"}
)  # fmt: skip
