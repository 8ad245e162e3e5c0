"""Messages in the chain (on SQLite and PostgreSQL): the events a text causes commit it
and the reply sent back by their SHA-256; the proof carries the texts with their bodies
and hashes and ``check-proof`` checks them offline; ``verify`` names a text whose body
no longer matches; a body redacted on a deletion request keeps the chain and the proof
valid. And ``verify`` compares the review queue with the events' replay."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cli_support import Cli
from test_api_support import BOB, EVE, A, Tenant, assert_problem

from optline.domain.consent import Event
from optline.domain.consent_codes import EventType
from optline.engine import Engine
from optline.proof import check_proof
from optline.store import MessageRow

ACME = "acme"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _tamper(engine: Engine, statement: str, **params: Any) -> None:
    with engine.store.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def _texts(engine: Engine, phone: str = BOB) -> dict[str, MessageRow]:
    """The contact's texts by direction (one each)."""
    _, messages = engine.history(ACME, phone)
    return {m.direction: m for m in messages}


def test_a_stop_commits_its_text_and_reply_and_the_proof_shows_them(
    acme: Tenant, engine: Engine
) -> None:
    result = engine.receive(ACME, BOB, A, "Stop texting me ✋ STOP", provider_id="SM1")
    assert result.events == ("opted_out",) and result.reply is not None
    texts = _texts(engine)
    events, _ = engine.history(ACME, BOB)
    data = events[-1].data
    assert data["message_id"] == texts["in"].id
    assert data["message_sha256"] == _sha("Stop texting me ✋ STOP")
    assert (data["reply_id"], data["reply_sha256"]) == (texts["out"].id, _sha(result.reply))

    proof = acme.ok("GET", f"/v1/contacts/{BOB}/proof")
    shown = {m["id"]: m for m in proof["messages"]}
    assert shown[texts["in"].id] == {
        "id": texts["in"].id,
        "direction": "in",
        "sender": A,
        "at": shown[texts["in"].id]["at"],
        "body": "Stop texting me ✋ STOP",
        "redacted": False,
        "sha256": data["message_sha256"],
    }
    assert shown[texts["out"].id]["body"] == result.reply
    assert check_proof(proof).problems == []
    (verified,) = engine.verify(ACME)
    assert verified.ok


def test_a_text_that_changes_nothing_is_committed_by_no_event(acme: Tenant, engine: Engine) -> None:
    engine.receive(ACME, BOB, A, "See you at 5", provider_id="SM1")
    proof = acme.ok("GET", f"/v1/contacts/{BOB}/proof")
    assert proof["events"] == [] and proof["messages"] == []


def test_an_altered_body_is_named_by_verify_and_by_check_proof(
    acme: Tenant, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    engine.receive(ACME, BOB, A, "STOP", provider_id="SM1")
    inbound = _texts(engine)["in"]
    _tamper(engine, "UPDATE messages SET body = 'hello' WHERE id = :id", id=inbound.id)

    (result,) = engine.verify(ACME)
    assert (result.ok, result.message, result.contact) == (False, inbound.id, None)
    assert result.problem is not None and f"message {inbound.id} was altered" in result.problem
    assert f"MISMATCH at message {inbound.id}" in Cli(db_url)("ledger", "verify", code=1)
    verified = acme.ok("GET", "/v1/ledger/verify")
    assert (verified["ok"], verified["message"]) == (False, inbound.id)

    proof = acme.ok("GET", f"/v1/contacts/{BOB}/proof")
    problems = check_proof(proof).problems
    assert len(problems) == 1 and f"message {inbound.id} was altered" in problems[0]
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof))
    out = Cli(db_url)("ledger", "check-proof", str(path), code=1)
    assert f"message {inbound.id} was altered" in out


def test_check_proof_names_a_changed_hash_a_missing_text_and_a_stray_one(
    acme: Tenant, engine: Engine
) -> None:
    engine.receive(ACME, BOB, A, "STOP", provider_id="SM1")
    texts = _texts(engine)
    proof = acme.ok("GET", f"/v1/contacts/{BOB}/proof")
    by_id = {m["id"]: m for m in proof["messages"]}

    changed = json.loads(json.dumps(proof))
    for message in changed["messages"]:
        if message["id"] == texts["in"].id:  # body and hash changed together
            message["body"], message["sha256"] = "hello", _sha("hello")
    assert check_proof(changed).problems == [
        f"message {texts['in'].id}: its sha256 is not the one event #1 commits",
        f"message {texts['in'].id} was altered: its body is not the one event #1 commits",
    ]

    missing = dict(proof, messages=[by_id[texts["out"].id]])
    assert check_proof(missing).problems == [
        f"message {texts['in'].id}, committed by event #1, is missing"
    ]

    stray = dict(proof, messages=[*proof["messages"], dict(by_id[texts["in"].id], id=999)])
    assert check_proof(stray).problems == ["message 999: no event in the proof commits it"]

    unmarked = json.loads(json.dumps(proof))
    unmarked["messages"][0]["body"] = None
    assert check_proof(unmarked).problems == [
        f"message {unmarked['messages'][0]['id']}: no body, and not marked redacted"
    ]


def test_a_redacted_body_keeps_the_chain_and_the_proof_valid(
    acme: Tenant, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    engine.receive(ACME, BOB, A, "STOP, and forget my number", provider_id="SM1")
    inbound = _texts(engine)["in"]
    cli = Cli(db_url)
    out = cli(
        "--actor", "dpo", "messages", "redact", "--account", ACME, str(inbound.id),
        "--reason", "deletion request 42",
    )  # fmt: skip
    assert out.strip() == f"#{inbound.id} {BOB}: body redacted"
    assert "redacted already" in cli.error(
        "messages", "redact", "--account", ACME, str(inbound.id), "--reason", "again"
    )

    events, messages = engine.history(ACME, BOB)
    assert {m.id: m.body for m in messages}[inbound.id] == ""
    redacted = events[-1]
    assert redacted.type == EventType.MESSAGE_REDACTED and redacted.phone == BOB
    assert {k: redacted.data[k] for k in ("message_id", "message_sha256", "by", "via")} == {
        "message_id": inbound.id,
        "message_sha256": _sha("STOP, and forget my number"),
        "by": "dpo",
        "via": "cli",
    }
    assert redacted.data["reason"] == "deletion request 42"
    (verified,) = engine.verify(ACME)
    assert verified.ok

    proof = acme.ok("GET", f"/v1/contacts/{BOB}/proof")
    (shown,) = [m for m in proof["messages"] if m["id"] == inbound.id]
    assert (shown["body"], shown["redacted"]) == (None, True)
    assert shown["sha256"] == _sha("STOP, and forget my number")
    assert check_proof(proof).problems == []
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof))
    assert "(1 redacted) check out" in cli("ledger", "check-proof", str(path))


def test_the_api_redacts_with_the_keys_name_and_refuses_bad_requests(
    acme: Tenant, engine: Engine
) -> None:
    engine.receive(ACME, BOB, A, "STOP", provider_id="SM1")
    reply = _texts(engine)["out"]
    path = f"/v1/messages/{reply.id}/redact"
    assert_problem(acme.post(path, {"reason": ""}), 422)
    assert_problem(acme.post(path, {"reason": "two\nlines"}), 422)
    assert_problem(acme.post("/v1/messages/9999/redact", {"reason": "gdpr"}), 404)
    assert _texts(engine)["out"].body == reply.body  # nothing half-applied

    done = acme.ok("POST", path, {"reason": "gdpr"})
    assert (done["id"], done["body"]) == (reply.id, "") and done["redacted_at"]
    assert acme.ok("GET", f"/v1/messages/{reply.id}")["redacted_at"] == done["redacted_at"]
    assert_problem(acme.post(path, {"reason": "gdpr"}), 409, "already_redacted")
    events, _ = engine.history(ACME, BOB)
    assert (events[-1].data["by"], events[-1].data["via"]) == ("default", "api")
    assert acme.ok("GET", "/v1/ledger/verify")["ok"] is True
    assert check_proof(acme.ok("GET", f"/v1/contacts/{BOB}/proof")).problems == []


def test_events_recorded_before_texts_were_committed_still_verify(
    acme: Tenant, engine: Engine
) -> None:
    # An event of an earlier version: it names its text by id alone.
    engine.receive(ACME, BOB, A, "See you at 5", provider_id="SM1")
    inbound = _texts(engine)["in"]
    old = Event(EventType.HELP_ANSWERED, BOB, {"source": "keyword", "message_id": inbound.id})
    with engine.store.transaction() as tx:
        account = tx.accounts.by_name(ACME)
        assert account is not None
        tx.ledger.append(account.id, [old], datetime.now(UTC))
    _tamper(engine, "UPDATE messages SET body = 'changed' WHERE id = :id", id=inbound.id)
    proof = acme.ok("GET", f"/v1/contacts/{BOB}/proof")
    assert len(proof["events"]) == 1 and proof["messages"] == []
    assert check_proof(proof).problems == []
    assert engine.verify(ACME)[0].ok  # nothing committed that body: nothing to compare


def test_verify_compares_the_review_queue_with_the_events(
    acme: Tenant, engine: Engine, db_url: str
) -> None:
    engine.receive(ACME, BOB, A, "how do i stop these texts?", provider_id="SM1")
    engine.receive(ACME, EVE, A, "how do i stop these texts?", provider_id="SM2")
    flagged = {f["phone"]: f["seq"] for f in acme.ok("GET", "/v1/review")["flagged"]}
    assert set(flagged) == {BOB, EVE}
    (result,) = engine.verify(ACME)
    assert result.ok

    # A flag closed in SQL leaves the queue while its events say it is open.
    _tamper(
        engine,
        "UPDATE flags SET resolution = 'dismissed', resolved_seq = seq WHERE phone = :phone",
        phone=EVE,
    )
    (result,) = engine.verify(ACME)
    assert (result.ok, result.contact, result.message) == (False, EVE, None)
    assert result.problem is not None
    assert f"flag #{flagged[EVE]}" in result.problem and "stored dismissed" in result.problem
    assert f"MISMATCH at contact {EVE}" in Cli(db_url)("ledger", "verify", code=1)

    # A flag deleted in SQL is named too; repair restores both.
    _tamper(engine, "DELETE FROM flags WHERE phone = :phone", phone=BOB)
    (result,) = engine.verify(ACME)
    assert result.contact == BOB and result.problem is not None
    assert "missing from the queue" in result.problem
    assert engine.repair(ACME) == sorted([BOB, EVE])
    assert engine.verify(ACME)[0].ok
