"""Render ``docs/profiles.md`` from the profile objects themselves.

Run ``python -m optline.profiles_doc > docs/profiles.md``. A test compares the
committed file with this module's output, so the page cannot drift from the code. It
reads the profiles of :mod:`optline.domain` but is documentation tooling, not a rule,
so it lives outside that package.

Every value a vendor profile holds is either cited (:data:`CITATIONS`: the seed file
that documents it, with the words that say so) or, when it equals ``twilio``'s value
and the seed says nothing, marked as inherited from ``twilio``.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from optline.domain.policy import KeywordSet, Policy, Replies
from optline.domain.policy_overrides import OVERRIDES
from optline.domain.profiles import PROFILE_SOURCES, PROFILES
from optline.domain.revoke_all import RevokeAll
from optline.domain.window_rules import SendWindow
from optline.profiles_sources import (
    BASE,
    BASIS,
    CITATIONS,
    DESCRIPTIONS,
    INTRO,
    PURPOSES,
    RULES,
    SEND_WINDOWS,
)

VENDORS = ("callrail", "business_text", "salesmsg", "krispcall", "command")
ORDER = ("default", BASE, *VENDORS)
#: Fields that are not behaviour: the profile's own name and derived lookups.
SKIPPED = frozenset({"name", "keyword_index"})
INHERITED = f"inherited from {BASE} (seed silent)"

# -- value rendering ---------------------------------------------------------------------


def _words(words: Iterable[str]) -> str:
    return ", ".join(f"`{word.upper()}`" for word in sorted(words)) or "none"


def _keywords(keywords: Mapping[str, KeywordSet]) -> str:
    parts = []
    for language in sorted(keywords, key=lambda lang: (lang != "en", lang)):
        kw = keywords[language]
        parts.append(
            f"{language}: opt-out {_words(kw.opt_out)}; stop-all {_words(kw.opt_out_all)}; "
            f"opt-in {_words(kw.opt_in)}; help {_words(kw.help)}"
        )
    return "<br>".join(parts)


def _replies(replies: Replies) -> str:
    return "<br>".join(
        f"{f.name}: \u201c{getattr(replies, f.name)}\u201d" for f in dataclasses.fields(replies)
    )


def _send_window(rule: SendWindow) -> str:
    cap = f", at most {rule.per_day} a day" if rule.per_day is not None else ""
    hours = f"{rule.opens:%H:%M}–{rule.closes:%H:%M}"
    return f"`{rule.where}` {hours}{cap} ({rule.source})"


def render_value(value: Any) -> str:
    """One field's value as Markdown that fits in a table cell."""
    if isinstance(value, Mapping) and all(isinstance(v, KeywordSet) for v in value.values()):
        text = _keywords(value)
    elif isinstance(value, Mapping) and all(isinstance(v, Replies) for v in value.values()):
        text = "<br>".join(
            f"**{lang}**<br>{_replies(value[lang])}"
            for lang in sorted(value, key=lambda lang: (lang != "en", lang))
        )
    elif isinstance(value, Replies):
        text = _replies(value)
    elif isinstance(value, tuple) and all(isinstance(v, SendWindow) for v in value):
        text = "<br>".join(_send_window(rule) for rule in value) or "none"
    elif isinstance(value, RevokeAll):
        text = f"`{value.as_json()}`"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, Enum):
        text = f"`{value.value}`"
    elif isinstance(value, frozenset | set) and all(isinstance(v, Enum) for v in value):
        text = ", ".join(f"`{item}`" for item in sorted(v.value for v in value)) or "none"
    elif isinstance(value, frozenset | set):
        text = _words(str(item) for item in value)
    elif value is None or value == "":
        text = "\u2014"
    elif isinstance(value, str):
        text = f"\u201c{value}\u201d"
    else:
        text = f"`{value!r}`"
    return text.replace("|", "\\|").replace("\n", "<br>")


# -- sources ------------------------------------------------------------------------------


def fields() -> list[str]:
    """Every behaviour field of :class:`Policy`, in declaration order."""
    return [f.name for f in dataclasses.fields(Policy) if f.name not in SKIPPED]


def source(profile: str, field_name: str) -> str:
    """Why ``profile`` has its value for ``field_name``."""
    if field_name in RULES:
        return RULES[field_name]
    if profile in CITATIONS:
        note = CITATIONS[profile].get(field_name)
        if note is not None:
            return f"`{PROFILE_SOURCES[profile]}`: {note}"
        mine = getattr(PROFILES[profile], field_name)
        if mine == getattr(PROFILES[BASE], field_name):
            return INHERITED
        return "**differs from twilio, source not recorded**"
    return BASIS.get(profile, {}).get(field_name, "\u2014")


def uncited() -> list[tuple[str, str]]:
    """Vendor values that differ from ``twilio`` without a citation (should be none)."""
    return [
        (profile, name)
        for profile in VENDORS
        for name in fields()
        if source(profile, name).startswith("**differs")
    ]


def _comment_descriptions() -> dict[str, str]:
    """Field -> the comment written above it in :class:`Policy` (fallback descriptions)."""
    found: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(Policy).splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip())
            continue
        match = re.match(r"(\w+)\s*:", stripped)
        if match and pending:
            found[match.group(1)] = " ".join(pending)
        pending = []
    return found


# -- the page -------------------------------------------------------------------------------


def render() -> str:
    comments = _comment_descriptions()
    overridable = ", ".join(f"`{name}`" for name in fields() if name in OVERRIDES)
    sources = "\n".join(f"- `{name}`: {PROFILE_SOURCES[name]}" for name in ORDER)
    out = [INTRO.format(inherited=INHERITED, overridable=overridable, sources=sources)]

    out.append("## Summary\n")
    short = [name for name in fields() if name not in {"keywords", "replies", "custom_replies"}]
    out.append("| field | " + " | ".join(f"`{name}`" for name in ORDER) + " |")
    out.append("|---|" + "---|" * len(ORDER))
    for name in short:
        cells = [render_value(getattr(PROFILES[p], name)) for p in ORDER]
        out.append(f"| `{name}` | " + " | ".join(cells) + " |")
    out.append("")

    out.append(SEND_WINDOWS)
    out.append(PURPOSES)
    out.append("## Fields\n")
    for name in fields():
        description = DESCRIPTIONS.get(name) or comments.get(name, "")
        out.append(f"### `{name}`\n")
        if description:
            out.append(f"{description}\n")
        override = "yes" if name in OVERRIDES else "no"
        out.append(f"Account override: {override}.\n")
        out.append("| profile | value | source |")
        out.append("|---|---|---|")
        for profile in ORDER:
            value = render_value(getattr(PROFILES[profile], name))
            out.append(f"| `{profile}` | {value} | {source(profile, name)} |")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def main() -> None:
    print(render(), end="")


if __name__ == "__main__":
    main()
