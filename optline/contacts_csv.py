"""Contacts as CSV rows, both ways: written as ``phone,status,lists`` (the CLI's and the
API's exports) and read back as ``phone[,status][,lists][,evidence]`` (the CLI's
import). What belongs here: the row format and its checks, no engine calls."""

from __future__ import annotations

import csv
from pathlib import Path

from optline.domain.consent import ContactState, Status
from optline.engine import ImportRow, phone
from optline.errors import BadInput

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


def read_import(path: Path) -> list[ImportRow]:
    """The rows of an import file, every one checked first: a bad row stops the import
    before any write (``BadInput`` naming the file and line)."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    rows: list[ImportRow] = []
    with handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "phone" not in reader.fieldnames:
            raise BadInput(f"{path}: the header must name a 'phone' column")
        try:
            for record in reader:
                line = reader.line_num
                try:
                    number = phone(record.get("phone") or "")
                    status = Status((record.get("status") or "opted_in").strip())
                except (BadInput, ValueError) as exc:
                    raise BadInput(f"{path} line {line}: {exc}") from None
                lists = tuple(
                    n.strip() for n in (record.get("lists") or "").split(";") if n.strip()
                )
                evidence = (record.get("evidence") or "").strip() or None
                rows.append(ImportRow(line, number, status, lists, evidence))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise BadInput(f"{path} line {reader.line_num}: {exc}") from None
    return rows
