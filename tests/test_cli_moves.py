"""``optline contacts move`` on both databases: the contact's consent goes to the new
number with evidence and the --actor; a number with history of its own exits 2."""

from __future__ import annotations

import json

from cli_support import Cli

BOB = "+14155552671"
NEW = "+14155553000"


def test_contacts_move_moves_consent_and_refuses_a_number_with_history(db_url: str) -> None:
    cli = Cli(db_url)
    cli("accounts", "create", "acme", "--support-contact", "help@acme.example")
    cli("contacts", "opt-in", "--account", "acme", BOB, "--evidence", "paper form")
    cli("contacts", "opt-out", "--account", "acme", NEW)
    move = ("contacts", "move", "--account", "acme", BOB, "--to", NEW)

    assert "evidence" in cli.error(*move, "--evidence", " ")
    assert "replace_history" in cli.error(*move, "--evidence", "Bob, at the desk")
    out = cli("--actor", "dana", *move, "--evidence", "Bob, at the desk", "--replace-history")
    assert out.splitlines() == [f"{BOB}: no_consent", f"{NEW}: opted_in"]
    history = json.loads(cli("contacts", "history", "--account", "acme", NEW, "--json"))
    moved = history["events"][-1]
    assert (moved["type"], moved["data"]["from"], moved["data"]["by"]) == (
        "number_moved_in",
        BOB,
        "dana",
    )
