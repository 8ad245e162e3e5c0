"""The CLI contract: exact JSON shapes and exit codes that scripts rely on."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from cli_support import Cli
from typer.testing import CliRunner

from optline.cli import app
from optline.cli_contacts import IMPORT_PROBLEMS_SHOWN
from optline.domain.inputs import MAX_INBOUND_CHARS
from optline.engine import Engine

A = "+14155550100"
BOB = "+14155552671"
EVE = "+12025550143"


@pytest.fixture
def cli(db_url: str) -> Cli:
    run = Cli(db_url)
    run("accounts", "create", "acme", "--profile", "twilio")
    run("senders", "add", "--account", "acme", A)
    return run


def test_classify_json_contract(db_url: str) -> None:
    data = Cli(db_url).json("classify", "S T O P")
    assert data == {
        "intent": "opt_out",
        "keyword": "STOP",
        "language": "en",
        "reason": data["reason"],
        "stage": "keyword",
        "detected": None,
    }
    assert isinstance(data["reason"], str) and data["reason"].startswith("keyword stage: ")
    # Not one of Command's keywords: flagged for review (64.1200(a)(10)), not acted on.
    got = Cli(db_url).json("classify", "--profile", "command", "STOP PLEASE")
    assert got["intent"] == "possible_opt_out"


def test_receive_check_send_contract(cli: Cli) -> None:
    got = cli.json("receive", "--account", "acme", "--from", BOB, "--to", A, "--id", "SM1", "STOP")
    assert set(got) == {"intent", "reply", "status", "events"}
    assert (got["intent"], got["status"], got["events"]) == ("opt_out", "opted_out", ["opted_out"])
    again = cli.json(
        "receive", "--account", "acme", "--from", BOB, "--to", A, "--id", "SM1", "STOP"
    )
    assert again == got

    # A refused check exits 1 (a script's answer), an allowed one 0.
    check = cli.json("check", "--account", "acme", "--from", A, "--to", BOB, "--body", "hi", code=1)
    none: dict[str, object] = {"notice": None, "next_allowed_at": None}
    assert check == {"allowed": False, "reason": "opted_out", "body": "hi", **none}
    assert cli("check", "--account", "acme", "--from", A, "--to", BOB, code=1) == (
        "refused: opted_out\n"
    )
    allowed = cli.json("check", "--account", "acme", "--from", A, "--to", EVE, "--body", "hi")
    assert allowed == {"allowed": True, "reason": None, "body": "hi", **none}
    sent = cli.json("send", "--account", "acme", "--from", A, "--to", "+12025550143", "hello")
    assert sent == {"allowed": True, "reason": None, "body": "hello", **none}

    history = cli.json("contacts", "history", "--account", "acme", BOB)
    assert [e["type"] for e in history["events"]] == ["opted_out"]


def test_contacts_import_list_and_bad_row(cli: Cli, tmp_path: Path) -> None:
    cli("lists", "create", "--account", "acme", "news", "--opt-out-keyword", "NEWS OFF")
    good = tmp_path / "good.csv"
    good.write_text("phone,status,lists\n(415) 555-2671,opted_out,news\n+12025550143,,news\n")
    assert "imported 2" in cli("contacts", "import", "--account", "acme", str(good))
    listed = cli("contacts", "list", "--account", "acme", "--status", "opted_out")
    header, row = listed.splitlines()
    assert header == "phone,scope,status,since,method,event_seq,purpose"
    phone, scope, status, since, method, seq, purpose = row.split(",")
    assert (phone, scope, status, method, purpose) == (
        "+14155552671",
        "account",
        "opted_out",
        "import",
        "",
    )
    assert since and int(seq) >= 1
    as_json = json.loads(cli("contacts", "list", "--account", "acme", "--format", "json"))
    assert [c["phone"] for c in as_json["contacts"]] == ["+12025550143", "+14155552671"]

    bad = tmp_path / "bad.csv"
    bad.write_text("phone,status\n+13125550111,opted_out\nnot-a-phone,opted_out\n")
    result = CliRunner().invoke(app, ["--db", cli.db_url, "contacts", "import", "--account",
                                      "acme", str(bad)])  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith("error: line 3: ")
    listed_after = cli("contacts", "list", "--account", "acme")
    assert "+13125550111" not in listed_after


def test_an_import_lists_every_bad_row_with_the_valid_values_and_imports_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    cli("lists", "create", "--account", "acme", "news")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "phone,status,lists\n"
        "+13125550111,opted_out,\n"  # line 2: good
        "not-a-phone,opted_out,\n"  # line 3: unreadable number
        "+13125550112,subscribed,\n"  # line 4: no such status
        "+13125550113,,weekly\n"  # line 5: no such list (found by the engine's check)
        "+13125550114,opted_in,news\n"  # line 6: good
    )
    result = CliRunner().invoke(app, ["--db", cli.db_url, "contacts", "import", "--account",
                                      "acme", str(bad)])  # fmt: skip
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert [line.split(":")[1] for line in lines[:3]] == [" line 3", " line 4", " line 5"]
    assert "'subscribed' is not one of opted_in, opted_out, blocked" in lines[1]
    assert "unknown list 'weekly' (the account's lists: news)" in lines[2]
    assert lines[3] == f"error: {bad}: 3 bad rows, nothing imported"
    assert (
        cli("contacts", "list", "--account", "acme")
        == "phone,scope,status,since,method,event_seq,purpose\n"
    )


def test_an_import_lists_bad_rows_up_to_a_limit_then_counts_the_rest(
    cli: Cli, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("phone\n" + "nope\n" * (IMPORT_PROBLEMS_SHOWN + 5))
    result = CliRunner().invoke(app, ["--db", cli.db_url, "contacts", "import", "--account",
                                      "acme", str(bad)])  # fmt: skip
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == IMPORT_PROBLEMS_SHOWN + 2
    assert lines[IMPORT_PROBLEMS_SHOWN - 1].startswith(f"error: line {IMPORT_PROBLEMS_SHOWN + 1}:")
    assert lines[-2:] == [
        "error: and 5 more bad rows",
        f"error: {bad}: {IMPORT_PROBLEMS_SHOWN + 5} bad rows, nothing imported",
    ]


def test_an_import_on_a_terminal_shows_a_progress_bar(db_url: str, tmp_path: Path) -> None:
    Cli(db_url)("accounts", "create", "acme", "--support-contact", "help@acme.example")
    rows = tmp_path / "rows.csv"
    rows.write_text("phone\n" + "".join(f"+1312555{n:04d}\n" for n in range(200)))
    optline = Path(sys.executable).with_name("optline")
    command = [str(optline), "--db", db_url, "contacts", "import", "--account", "acme", str(rows)]
    terminal, stderr = pty.openpty()  # stderr is a terminal, stdout a pipe
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=stderr, timeout=60)
        os.close(stderr)
        shown = b""
        while chunk := _read(terminal):
            shown += chunk
    finally:
        os.close(terminal)
    assert done.returncode == 0 and done.stdout == b"imported 200 contacts into acme\n"
    assert b"importing" in shown and "━".encode() in shown


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the other end is closed and everything was read
        return b""


def test_accounts_create_prints_the_api_key_once(db_url: str) -> None:
    cli = Cli(db_url)
    made = cli.json("accounts", "create", "acme", "--profile", "twilio")
    assert set(made) == {"name", "profile", "api_key"}
    assert (made["name"], made["profile"]) == ("acme", "twilio")
    text = cli("accounts", "create", "other", "--support-contact", "help@acme.example")
    key = text.splitlines()[1].removeprefix("API key (shown once): ")
    with Engine.open(db_url) as engine:
        signed_in = engine.account_for_key(made["api_key"])
        assert signed_in is not None and signed_in.name == "acme"
        other = engine.account_for_key(key)
        assert other is not None and other.name == "other"


def test_receive_reads_a_long_text_whole_and_refuses_one_past_the_limit(db_url: str) -> None:
    cli = Cli(db_url)
    cli("accounts", "create", "clinic", "--support-contact", "help@clinic.example")
    cli("senders", "add", "--account", "clinic", A)
    talk = "Thanks for the reminder, sorry I missed Tuesday. " * 40
    text = talk + "Please stop texting me"
    assert len(text) > 1600
    got = cli.json("receive", "--account", "clinic", "--from", BOB, "--to", A, text)
    assert (got["intent"], got["status"]) == ("opt_out", "opted_out")
    history = cli.json("contacts", "history", "--account", "clinic", BOB)
    assert history["messages"][0]["body"] == text

    too_long = "x" * (MAX_INBOUND_CHARS + 1)
    message = cli.error("receive", "--account", "clinic", "--from", EVE, "--to", A, too_long)
    assert str(MAX_INBOUND_CHARS) in message
    listed = json.loads(cli("contacts", "list", "--account", "clinic", "--format", "json"))
    assert [c["phone"] for c in listed["contacts"]] == [BOB]  # nothing of Eve's text kept


@pytest.mark.parametrize(
    "args",
    [
        ("receive", "--account", "nobody", "--from", BOB, "--to", A, "STOP"),
        ("receive", "--account", "acme", "--from", "555", "--to", A, "STOP"),
        ("accounts", "create", "other", "--profile", "nope"),
        ("contacts", "opt-in", "--account", "acme", BOB, "--evidence", "form"),
        ("check", "--account", "acme", "--from", "+12025550100", "--to", BOB),
        ("classify", "--profile", "nope", "STOP"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli: Cli, args: tuple[str, ...]) -> None:
    cli("contacts", "opt-out", "--account", "acme", BOB)
    assert cli.error(*args).startswith("error: ")


def test_ledger_verify_names_first_bad_event(cli: Cli, db_url: str) -> None:
    for n, text in enumerate(["STOP", "HELP", "START"]):
        cli("receive", "--account", "acme", "--from", BOB, "--to", A, "--id", f"m{n}", text)
    assert "log: ok, size 0, 0 entries checked, 3 unsequenced" in cli("ledger", "verify")
    assert "acme: ok, 3 events" in cli("ledger", "verify", "--account", "acme")
    assert "acme: ok, 3 events" in cli("ledger", "verify", "--full")
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE events SET type = 'opted_in' WHERE seq = 2"))
    engine.dispose()
    out = cli("ledger", "verify", "--account", "acme", code=1)
    assert "BROKEN at event #2" in out
    # The event waits for the log: the incremental verify checks its hash.
    assert "event #2 of account 1, queued for the log, was altered" in cli(
        "ledger", "verify", code=1
    )


def test_serve_refuses_a_bad_setting_before_starting(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPTLINE_MAX_BODY_BYTES", "lots")
    assert "OPTLINE_MAX_BODY_BYTES" in cli.error("serve", "--port", "1")
