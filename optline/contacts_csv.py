"""Contacts as CSV rows, both ways: written as
``phone,scope,status,since,method,event_seq,purpose``, one row per contact and scope, and
per purpose with a consent of its own (``purpose`` set; empty on the scopes' rows): the
CLI's and the API's exports, a suppression list another tool imports as it is; and read
as ``phone[,status][,lists][,evidence]`` (the CLI's import). What belongs here: the row
formats and their checks, no engine calls."""

from __future__ import annotations

import csv
from pathlib import Path

from optline.domain.consent import Status
from optline.domain.projection import Projection
from optline.engine import ImportRow, phone
from optline.errors import BadInput

FIELDS = ("phone", "scope", "status", "since", "method", "event_seq", "purpose")


def rows(
    record: Projection, status: Status | None = None, sender: str | None = None
) -> list[tuple[str, str, str, str, str, str, str]]:
    """The contact's scopes as rows: the account's, then each sender's own, then each
    purpose's own. With ``sender``, only the scope that decides for it (its own, else
    the account's) and the purposes' own; with ``status``, only the rows in that status.
    Every cell is a phone, a sender number, a status, a method, a time, a number or a
    purpose's name (letters, digits, underscores): none can start a formula."""
    scopes = record.rows()
    if sender is not None:
        own = [r for r in scopes if r.scope == sender and r.purpose is None] or scopes[:1]
        scopes = own + [r for r in scopes if r.purpose is not None]
    if status is not None:
        scopes = [r for r in scopes if r.status is status]
    found = []
    for scope in scopes:
        cells = scope.as_dict()
        found.append(
            (
                record.phone,
                scope.scope,
                scope.status.value,
                cells["since"] or "",
                cells["method"] or "",
                "" if cells["event_seq"] is None else str(cells["event_seq"]),
                scope.purpose or "",
            )
        )
    return found


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


#: What an import row may say a contact is: ``no_consent`` is the absence of a record,
#: which a row leaves by saying nothing (an ``opted_in`` row without evidence).
IMPORTABLE = (Status.OPTED_IN, Status.OPTED_OUT, Status.BLOCKED)


def _status(cell: str | None) -> Status:
    """A row's status; an empty cell is ``opted_in`` (the default for an import)."""
    given = (cell or "").strip() or Status.OPTED_IN.value
    found = next((s for s in IMPORTABLE if s.value == given), None)
    if found is None:
        valid = ", ".join(s.value for s in IMPORTABLE)
        raise BadInput(f"status {given!r} is not one of {valid}")
    return found
