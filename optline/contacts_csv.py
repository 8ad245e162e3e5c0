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


def read_import(path: Path) -> tuple[list[ImportRow], list[tuple[int, str]]]:
    """The rows of an import file, and ``(line, why)`` for each one that cannot be read
    (the engine refuses the whole file when there is any, after checking the others)."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    rows: list[ImportRow] = []
    problems: list[tuple[int, str]] = []
    with handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "phone" not in reader.fieldnames:
            raise BadInput(f"{path}: the header must name a 'phone' column")
        try:
            for record in reader:
                line = reader.line_num
                try:
                    number = phone(record.get("phone") or "")
                    status = _status(record.get("status"))
                except BadInput as exc:
                    problems.append((line, str(exc)))
                    continue
                lists = tuple(
                    n.strip() for n in (record.get("lists") or "").split(";") if n.strip()
                )
                evidence = (record.get("evidence") or "").strip() or None
                rows.append(ImportRow(line, number, status, lists, evidence))
        except (csv.Error, UnicodeDecodeError) as exc:
            # The rest of the file cannot be read: its rows cannot be checked either.
            problems.append((reader.line_num, f"{exc} (the rest of the file is not read)"))
    return rows, problems


def _status(cell: str | None) -> Status:
    """A row's status; an empty cell is ``opted_in`` (the default for an import)."""
    given = (cell or "").strip() or Status.OPTED_IN.value
    try:
        return Status(given)
    except ValueError:
        valid = ", ".join(s.value for s in Status)
        raise BadInput(f"status {given!r} is not one of {valid}") from None
