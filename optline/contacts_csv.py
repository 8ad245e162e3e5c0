"""Contacts as CSV rows (``phone,status,lists``), as the CLI and the API export them."""

from __future__ import annotations

from optline.domain.consent import ContactState

FIELDS = ("phone", "status", "lists")

# A cell starting with one of these is read as a formula by spreadsheets (OWASP, CSV
# injection): a quote before it makes it text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """Free text for a CSV cell, never a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def row(state: ContactState, *, for_spreadsheet: bool) -> tuple[str, str, str]:
    """One contact: its phone, account status and subscribed lists (``;``-separated).

    ``for_spreadsheet`` quotes each list name that would start a formula (each, as a
    spreadsheet may split the cell on ``;``); without it the names stay as stored, for
    a file that ``contacts import`` reads back. The phone is E.164: its "+" starts no
    formula."""
    names = sorted(name for name, on in state.lists.items() if on)
    if for_spreadsheet:
        names = [spreadsheet_text(name) for name in names]
    return state.phone, state.status_from(None).value, ";".join(names)
