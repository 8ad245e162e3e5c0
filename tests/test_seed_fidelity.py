"""Where a profile follows its seed or the carriers to the letter, through the engine and
the REST API on real databases (SQLite and PostgreSQL): the account's HELP trigger as
its help reply (seed 001), the first-text notice as a text of its own (seed 004),
opt-out language said once, and toll-free numbers whose network answers STOP and START.
"""

from __future__ import annotations

from test_api_support import BOB, A, Tenant

from optline.engine import Engine

ACME = "acme"

# -- opt-out language said once ----------------------------------------------------------

SALE = "Spring sale: 20% off today. Reply STOP to opt out"


def test_a_first_campaign_text_with_its_own_opt_out_language_gets_no_second_copy(
    engine: Engine,
) -> None:
    engine.create_account(ACME)  # default: "Reply STOP to opt out." on a first text
    engine.add_sender(ACME, A)
    sent = engine.send(ACME, A, BOB, SALE, campaign=True)
    assert sent.allowed and sent.body == SALE
    _, messages = engine.history(ACME, BOB)
    assert [m.body for m in messages] == [SALE]


def test_the_api_sends_a_first_text_with_opt_out_language_as_written(acme: Tenant) -> None:
    sent = acme.ok("POST", "/v1/messages", {"from": A, "to": BOB, "body": SALE, "campaign": True})
    assert (sent["allowed"], sent["body"]) == (True, SALE)
    other = acme.ok("POST", "/v1/messages", {"from": A, "to": "+12025550143", "body": "Hi"})
    assert other["body"] == "Hi\n\nReply STOP to opt out."
