"""``optline contacts list`` filters as the web UI and ``GET /v1/contacts`` do: status
in a scope, from a sender, for a purpose, list, method, time of the change, and part
of the number (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from cli_support import Cli

A = "+14155550100"
BOB = "+14155552671"
EVE = "+12025550143"
ZOE = "+13125550188"


@pytest.fixture
def cli(db_url: str) -> Cli:
    run = Cli(db_url)
    run("accounts", "create", "acme", "--support-contact", "help@acme.example")
    run("senders", "add", "--account", "acme", A)
    run("purposes", "add", "--account", "acme", "reminders")
    run("lists", "create", "--account", "acme", "news")
    for number in (BOB, EVE):
        run("contacts", "opt-in", "--account", "acme", number, "--evidence", "paper form")
    run("contacts", "opt-out", "--account", "acme", BOB, "--purpose", "marketing")
    run("contacts", "opt-in", "--account", "acme", ZOE, "--evidence", "site",
        "--method", "web_form", "--purpose", "reminders")  # fmt: skip
    run("contacts", "opt-in", "--account", "acme", ZOE, "--list", "news")
    return run


def phones(cli: Cli, *filters: str) -> list[str]:
    listed = json.loads(cli("contacts", "list", "--account", "acme", "--format", "json", *filters))
    return [c["phone"] for c in listed["contacts"]]


def test_every_filter_of_the_listing(cli: Cli) -> None:
    everyone = sorted([BOB, EVE, ZOE])
    assert phones(cli) == everyone
    # Per purpose: the status a text of it is decided by (the gate's reading).
    assert phones(cli, "--status", "opted_out", "--purpose", "marketing") == [BOB]
    assert phones(cli, "--status", "opted_in", "--purpose", "marketing", "--sender", A) == [EVE]
    assert phones(cli, "--status", "opted_in", "--purpose", "reminders") == everyone
    assert phones(cli, "--status", "opted_in") == everyone
    assert phones(cli, "--method", "web_form") == [ZOE]
    assert phones(cli, "--method", "web_form", "--purpose", "marketing") == []
    assert phones(cli, "--list", "news") == [ZOE]
    # Part of the number: its start with a "+", else digits anywhere, as typed.
    assert phones(cli, "--number", "+1 415") == [BOB]
    assert phones(cli, "--number", "555-01") == [EVE, ZOE]
    # Days (UTC, the last one included) or zoned times.
    assert phones(cli, "--status", "opted_out", "--since", "2000-01-01") == [BOB]
    assert phones(cli, "--status", "opted_out", "--until", "2000-01-01") == []
    assert phones(cli, "--since", "2999-01-01T00:00:00+00:00", "--method", "manual") == []
    csv = cli("contacts", "list", "--account", "acme", "--status", "opted_out",
              "--purpose", "marketing")  # fmt: skip
    assert csv.splitlines()[1].split(",")[:3] == [BOB, "account", "opted_out"]


def test_bad_filters_are_named(cli: Cli) -> None:
    for args, said in [
        (("--number", "abc"), "number"),
        (("--since", "yesterday"), "--since"),
        (("--until", "2026-01-01T00:00:00"), "time zone"),
        (("--purpose", "weekly"), "unknown purpose"),
    ]:
        assert said in cli.error("contacts", "list", "--account", "acme", *args)
