"""``optline messages``: the JSON shapes and exit codes of unsettled, reconcile and
settle, against Twilio's API answered by the fake provider, on SQLite and PostgreSQL."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cli_support import Cli
from fakeprovider import FakeProvider

from optline.cli import app
from optline.engine import Engine
from optline.providers.base import BeforeRetry, RetryPolicy
from optline.providers.registry import Dispatcher
from optline.store import SenderRow, Store

A = "+14155550100"
BOB = "+14155552671"
EVE = "+12025550143"
TWILIO = {"account_sid": "AC" + "1" * 32, "auth_token": "t" * 32}


class Crash(BaseException):
    """The process stops mid hand-over."""


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        monkeypatch.setenv("OPTLINE_TWILIO_API_URL", provider.url)
        yield provider


@pytest.fixture
def cli(db_url: str) -> Cli:
    with Engine.open(db_url) as engine:
        engine.create_account("acme", "twilio")
        engine.add_sender("acme", A, provider="twilio", credentials=TWILIO)
    return Cli(db_url)


def cut_off(db_url: str, fake: FakeProvider | None, to: str, body: str) -> int:
    """A send the process died on after claiming it: once Twilio had taken it (with
    ``fake``) or before; its message id."""
    dispatcher = Dispatcher({"twilio": fake.url} if fake else {}, RetryPolicy(attempts=1))

    def hand_over(
        sender: SenderRow, to: str, body: str, before_retry: BeforeRetry | None = None
    ) -> str | None:
        if fake is not None:
            dispatcher(sender, to, body)
        raise Crash

    with Engine.open(db_url, dispatch=hand_over) as engine:
        with pytest.raises(Crash):
            engine.send("acme", A, to, body)
        return engine.history("acme", to)[1][-1].id


def queued(db_url: str, to: str, body: str, ago: timedelta) -> int:
    """A send recorded queued ``ago``, never handed over."""
    at = datetime.now(UTC) - ago
    with Engine(Store.open(db_url), clock=lambda: at, dispatch=lambda *_: None) as engine:
        return engine.decide_send("acme", A, to, body).message_id


def test_unsettled_lists_sending_and_long_queued_sends(cli: Cli, db_url: str) -> None:
    stuck = cut_off(db_url, None, BOB, "Cut off")
    old = queued(db_url, EVE, "Queued long ago", timedelta(minutes=6))
    queued(db_url, EVE, "Queued just now", timedelta(seconds=10))

    data = cli.json("messages", "unsettled", "--account", "acme")
    assert set(data) == {"older_than", "counts", "messages"}
    assert (data["older_than"], data["counts"]) == (300, {"queued": 1, "sending": 1})
    assert [(m["id"], m["status"]) for m in data["messages"]] == [
        (stuck, "sending"),
        (old, "queued"),
    ]
    assert set(data["messages"][0]) == {
        "id",
        "status",
        "reason",
        "phone",
        "sender",
        "body",
        "reply",
        "provider_id",
        "at",
        "redacted_at",
    }
    assert cli.json("messages", "unsettled", "--account", "acme", "--older-than", "0")[
        "counts"
    ] == {"queued": 2, "sending": 1}
    text = cli("messages", "unsettled", "--account", "acme")
    assert f"#{stuck}  sending" in text and "'Cut off'" in text
    assert text.splitlines()[-1] == "2 unsettled: 1 queued for over 300 s, 1 sending"

    assert "--older-than" in cli.error(
        "messages", "unsettled", "--account", "acme", "--older-than", "-1"
    )
    assert "unknown account" in cli.error("messages", "unsettled", "--account", "nope")


def test_reconcile_settles_what_twilio_has_and_exits_1_for_what_it_leaves(
    cli: Cli, db_url: str, fake: FakeProvider
) -> None:
    went = cut_off(db_url, fake, BOB, "Twilio took this one")
    lost = cut_off(db_url, None, EVE, "Twilio never saw this one")
    (sid,) = fake.twilio_messages

    result = cli.runner.invoke(app, ["--db", db_url, "messages", "reconcile", "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert (data["settled"], data["left"]) == (1, 1)
    by_id = {r["message_id"]: r for r in data["results"]}
    assert (by_id[went]["outcome"], by_id[went]["provider_id"]) == ("sent", sid)
    assert by_id[lost]["outcome"] == "not_found"
    assert "settle it by hand" in by_id[lost]["detail"]
    assert set(by_id[lost]) == {
        "account",
        "message_id",
        "phone",
        "sender",
        "outcome",
        "provider_id",
        "provider_status",
        "reason",
        "detail",
    }

    # The one left stays listed; settled by hand, nothing is left and reconcile exits 0.
    listed = cli.json("messages", "unsettled", "--account", "acme")["messages"]
    assert [m["id"] for m in listed] == [lost]
    cli(
        "messages", "settle", str(lost), "--account", "acme", "--as", "failed",
        "--reason", "not in Twilio's logs",
    )  # fmt: skip
    assert cli("messages", "reconcile", "--account", "acme").splitlines() == [
        "0 sending: 0 settled sent, 0 settled failed, 0 left for an operator"
    ]


def test_reconcile_in_text_says_what_it_did(cli: Cli, db_url: str, fake: FakeProvider) -> None:
    went = cut_off(db_url, fake, BOB, "Twilio took this one")
    (sid,) = fake.twilio_messages
    assert cli("messages", "reconcile").splitlines() == [
        f"acme #{went} {BOB}: sent {sid}",
        "1 sending: 1 settled sent, 0 settled failed, 0 left for an operator",
    ]


def test_settle_records_who_and_why_and_the_ledger_still_verifies(cli: Cli, db_url: str) -> None:
    stuck = cut_off(db_url, None, BOB, "Cut off")
    settled = cli.json(
        "messages", "settle", str(stuck), "--account", "acme", "--as", "sent",
        "--reason", "the customer confirmed receipt",
    )  # fmt: skip
    assert (settled["id"], settled["status"], settled["reason"]) == (
        stuck,
        "sent",
        "settled_by_operator",
    )
    (event,) = cli.json("contacts", "history", "--account", "acme", BOB)["events"]
    assert event["type"] == "send_settled"
    assert {k: event["data"][k] for k in ("by", "via", "reason", "was", "status")} == {
        "by": getpass.getuser(),  # no --actor: the OS user
        "via": "cli",
        "reason": "the customer confirmed receipt",
        "was": "sending",
        "status": "sent",
    }
    verified = cli("ledger", "verify", "--full").splitlines()
    assert verified[0] == "acme: ok, 1 events"
    assert verified[1].startswith("log: ok,")  # the event waits for, or is in, the log

    again = cli.error(
        "messages", "settle", str(stuck), "--account", "acme", "--as", "failed", "--reason", "x"
    )
    assert "only a send still queued or sending" in again
    assert "reason is required" in cli.error(
        "messages", "settle", str(stuck), "--account", "acme", "--as", "failed", "--reason", " "
    )
    assert "no message" in cli.error(
        "messages", "settle", "999999", "--account", "acme", "--as", "sent", "--reason", "x"
    )
    wrong = cli.runner.invoke(
        app,
        ["--db", db_url, "messages", "settle", str(stuck), "--account", "acme", "--as", "lost",
         "--reason", "x"],
    )  # fmt: skip
    assert wrong.exit_code == 2
