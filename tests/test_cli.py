"""The CLI contract: exact JSON shapes and exit codes that scripts rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from cli_support import Cli

from optline.domain.inputs import MAX_INBOUND_CHARS

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
    }
    assert isinstance(data["reason"], str) and data["reason"]
    assert Cli(db_url).json("classify", "--profile", "command", "STOP PLEASE")["intent"] == "none"


def test_receive_check_send_contract(cli: Cli) -> None:
    got = cli.json("receive", "--account", "acme", "--from", BOB, "--to", A, "--id", "SM1", "STOP")
    assert set(got) == {"intent", "reply", "status", "events"}
    assert (got["intent"], got["status"], got["events"]) == ("opt_out", "opted_out", ["opted_out"])
    again = cli.json(
        "receive", "--account", "acme", "--from", BOB, "--to", A, "--id", "SM1", "STOP"
    )
    assert again == got

    check = cli.json("check", "--account", "acme", "--from", A, "--to", BOB, "--body", "hi")
    refused = {"allowed": False, "reason": "opted_out", "body": "hi", "next_allowed_at": None}
    assert check == refused
    sent = cli.json("send", "--account", "acme", "--from", A, "--to", "+12025550143", "hello")
    assert sent == {"allowed": True, "reason": None, "body": "hello", "next_allowed_at": None}

    history = cli.json("contacts", "history", "--account", "acme", BOB)
    assert [e["type"] for e in history["events"]] == ["opted_out"]


def test_contacts_import_list_and_bad_row(cli: Cli, tmp_path: Path) -> None:
    cli("lists", "create", "--account", "acme", "news", "--opt-out-keyword", "NEWS OFF")
    good = tmp_path / "good.csv"
    good.write_text("phone,status,lists\n(415) 555-2671,opted_out,news\n+12025550143,,news\n")
    assert "imported 2" in cli("contacts", "import", "--account", "acme", str(good))
    listed = cli("contacts", "list", "--account", "acme", "--status", "opted_out")
    assert listed == "phone,status,lists\n+14155552671,opted_out,news\n"
    as_json = json.loads(cli("contacts", "list", "--account", "acme", "--format", "json"))
    assert [c["phone"] for c in as_json["contacts"]] == ["+12025550143", "+14155552671"]

    bad = tmp_path / "bad.csv"
    bad.write_text("phone,status\n+13125550111,opted_out\nnot-a-phone,opted_out\n")
    message = cli.error("contacts", "import", "--account", "acme", str(bad))
    assert "line 3" in message
    listed_after = cli("contacts", "list", "--account", "acme")
    assert "+13125550111" not in listed_after


def test_receive_reads_a_long_text_whole_and_refuses_one_past_the_limit(db_url: str) -> None:
    cli = Cli(db_url)
    cli("accounts", "create", "clinic")
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
    assert "ok, 3 events" in cli("ledger", "verify")
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE events SET type = 'opted_in' WHERE seq = 2"))
    engine.dispose()
    out = cli("ledger", "verify", "--account", "acme", code=1)
    assert "#2" in out


def test_serve_refuses_a_bad_setting_before_starting(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPTLINE_MAX_BODY_BYTES", "lots")
    assert "OPTLINE_MAX_BODY_BYTES" in cli.error("serve", "--port", "1")
