"""Contacts as CSV rows, both ways: written as
``phone,scope,status,since,method,event_seq,purpose``, one row per contact and scope, and
per purpose with a consent of its own (``purpose`` set; empty on the scopes' rows): the
CLI's and the API's exports, a suppression list another tool imports as it is; and read
as ``phone[,status][,lists][,evidence]`` (the CLI's and the web UI's import). What
belongs here: the row formats and their checks; of the engine, only the listing an
export reads page by page."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from optline.domain.consent_codes import Status
from optline.domain.projection import Projection
from optline.engine import Engine, ImportRow, phone
from optline.engine.context import AccountRef
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
    with handle:
        return read_rows(handle, str(path))


def read_rows(lines: Iterable[str], name: str) -> tuple[list[ImportRow], list[tuple[int, str]]]:
    """:func:`read_import` of an open text (a file, or an upload), called ``name``."""
    rows: list[ImportRow] = []
    problems: list[tuple[int, str]] = []
    reader = csv.DictReader(lines)
    try:
        if not reader.fieldnames or "phone" not in reader.fieldnames:
            raise BadInput(f"{name}: the header must name a 'phone' column")
        for record in reader:
            line = reader.line_num
            try:
                number = phone(record.get("phone") or "")
                status = _status(record.get("status"))
            except BadInput as exc:
                problems.append((line, str(exc)))
                continue
            lists = tuple(n.strip() for n in (record.get("lists") or "").split(";") if n.strip())
            evidence = (record.get("evidence") or "").strip() or None
            rows.append(ImportRow(line, number, status, lists, evidence))
    except (csv.Error, UnicodeDecodeError) as exc:
        # The rest of the file cannot be read: its rows cannot be checked either.
        problems.append((reader.line_num, f"{exc} (the rest of the file is not read)"))
    return rows, problems


def export(
    engine: Engine, account: AccountRef, status: Status | None, sender: str | None
) -> Iterator[str]:
    """The export file (:data:`FIELDS`, :func:`rows`), a page of contacts at a time:
    the API's, the web UI's (``opted_out``: the suppression list), one file."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    after: str | None = None
    while True:
        page = engine.contacts(account, status, None, after, EXPORT_PAGE, sender)
        records = engine.records(account, [s.phone for s in page])
        for state in page:
            writer.writerows(rows(records[state.phone], status, sender))
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(page) < EXPORT_PAGE:
            return
        after = page[-1].phone


#: Contacts read a page at a time by :func:`export`.
EXPORT_PAGE = 1000


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
