"""Who did it: a text sent by a user or an API key names them on its message and on
its refusal's event, the inbox and the contact's page show it; changes to users are
on record (engine, /ui/users, the CLI, the API); the users API; a read-only user is
shown no form that changes contacts."""

from __future__ import annotations

import re

import httpx
import pytest
from cli_support import Cli
from fastapi.testclient import TestClient
from test_api_support import BOB, EVE, A, Tenant, assert_problem, auth
from test_web_inbox import _reply
from web_support import HOST, sign_in
from webhook_support import ACME, TX, World

from optline.domain.actors import Actor
from optline.domain.messages import Via
from optline.domain.users import Role, UserChange
from optline.engine import Engine
from optline.errors import BadInput

BY = Actor("ann", Via.CLI)


def _text(response: httpx.Response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.text).split())


def _key(engine: Engine, name: str, role: Role) -> dict[str, str]:
    engine.add_user("acme", name, role, f"{name} password", BY)
    return auth(engine.issue_user_key("acme", name, BY))


def _as(acme: Tenant, engine: Engine, name: str, role: Role) -> TestClient:
    engine.add_user("acme", name, role, f"{name} password", BY)
    signed = sign_in(acme.client, account="acme", user=name, password=f"{name} password")
    assert signed.status_code == 303, signed.text
    return acme.client


# -- sends ------------------------------------------------------------------------------


def test_a_send_through_the_api_names_its_key_on_the_message_and_its_refusal(
    acme: Tenant, engine: Engine
) -> None:
    agent = _key(engine, "alice", Role.AGENT)
    acme.ok("POST", f"/v1/contacts/{BOB}/opt-in", {"evidence": "booked online"})
    text = {"from": A, "to": BOB, "body": "Your visit is at 3"}
    sent = acme.client.post("/v1/messages", headers=agent, json=text).json()
    assert sent["allowed"] is True
    message = acme.ok("GET", f"/v1/messages/{sent['message_id']}")
    assert (message["sent_by"], message["sent_via"]) == ("user:alice", "api")
    # The account's own key is named by its key's name.
    own = acme.ok("POST", "/v1/messages", {**text, "body": "See you then"})
    assert acme.ok("GET", f"/v1/messages/{own['message_id']}")["sent_by"] == "default"

    acme.ok("POST", f"/v1/contacts/{BOB}/opt-out")
    refused = acme.client.post("/v1/messages", headers=agent, json=text).json()
    assert (refused["allowed"], refused["reason"]) == (False, "opted_out")
    events, messages = engine.history("acme", BOB)
    assert (events[-1].type, events[-1].data["by"], events[-1].data["via"]) == (
        "send_refused",
        "user:alice",
        "api",
    )
    assert (messages[-1].status, messages[-1].sent_by) == ("failed", "user:alice")
    # A broadcast's texts name the key too.
    fanned = acme.client.post(
        "/v1/broadcasts",
        headers=agent,
        json={"from": A, "body": "We are closed Monday", "numbers": [EVE], "campaign": False},
    ).json()
    (result,) = fanned["results"]
    broadcast = acme.ok("GET", f"/v1/messages/{result['message_id']}")
    assert (broadcast["sent_by"], broadcast["sent_via"]) == ("user:alice", "api")
    # An automatic answer (the opt-out's confirmation, say) names no one.
    assert all(m.sent_by is None for m in messages if m.reply)


def test_a_reply_from_the_inbox_names_the_signed_in_user_in_the_thread_and_history(
    acme: Tenant, engine: Engine
) -> None:
    client = _as(acme, engine, "alice", Role.AGENT)
    engine.receive("acme", BOB, A, "Can I move my appointment?", "SM1")
    assert _reply(client, BOB, "Of course, which day suits you?").status_code == 303
    last = engine.history("acme", BOB)[1][-1]
    assert (last.direction, last.status, last.sent_by, last.sent_via) == (
        "out",
        "sent",
        "user:alice",
        "ui",
    )
    assert "by user:alice (ui)" in _text(client.get(f"/ui/inbox/{BOB}"))
    assert "by user:alice (ui)" in _text(client.get(f"/ui/contacts/{BOB}"))

    engine.receive("acme", BOB, A, "STOP", "SM2")
    _reply(client, BOB, "Sorry to see you go")
    event = engine.history("acme", BOB)[0][-1]
    assert (event.type, event.data["by"], event.data["via"]) == ("send_refused", "user:alice", "ui")
    thread = _text(client.get(f"/ui/inbox/{BOB}"))
    assert "Send refused" in thread and "by: user:alice via: ui" in thread


# -- read-only users see no forms that change contacts -------------------------------------


def test_a_read_only_user_is_shown_no_forms_that_change_contacts(
    acme: Tenant, engine: Engine
) -> None:
    engine.receive("acme", BOB, A, "hello?", "SM1")
    agent = TestClient(acme.client.app)
    engine.add_user("acme", "alice", Role.AGENT, "alice password", BY)
    sign_in(agent, account="acme", user="alice", password="alice password")
    reader = _as(acme, engine, "rita", Role.READ_ONLY)
    forms = (
        f"/ui/contacts/{BOB}/opt-out",
        f"/ui/contacts/{BOB}/opt-in",
        f"/ui/contacts/{BOB}/block",
    )
    for client, shown in ((agent, True), (reader, False)):
        contact = client.get(f"/ui/contacts/{BOB}").text
        assert all((f'action="{path}"' in contact) is shown for path in forms)
        assert (f'action="/ui/contacts/{BOB}/consent"' in contact) is shown
        thread = client.get(f"/ui/inbox/{BOB}").text
        assert (f'action="/ui/inbox/{BOB}/reply"' in thread) is shown
    assert "you may read, but not change anything" in _text(reader.get(f"/ui/inbox/{BOB}"))
    # The server still refuses the form posted anyway.
    refused = reader.post(f"/ui/contacts/{BOB}/opt-out", data={}, headers=HOST)
    assert refused.status_code == 403


# -- changes to users on record ------------------------------------------------------------


def test_every_change_to_a_user_records_who_made_it(engine: Engine) -> None:
    engine.create_account("acme", overrides={"support_contact": "help@example.com"})
    engine.add_user("acme", "alice", Role.AGENT, "correct horse", BY)
    admin = Actor("user:ada", Via.UI)
    engine.issue_user_key("acme", "alice", admin)
    engine.set_user_active("acme", "alice", False, admin)
    engine.set_user_active("acme", "alice", True, Actor("ops", Via.API))
    engine.revoke_user_keys("acme", "Alice", BY)
    changes = engine.user_changes("acme")
    assert [(c.user_name, c.change, c.by, c.via) for c in changes] == [
        ("alice", UserChange.KEYS_REVOKED, "ann", "cli"),
        ("alice", UserChange.ENABLED, "ops", "api"),
        ("alice", UserChange.DISABLED, "user:ada", "ui"),
        ("alice", UserChange.KEY_ISSUED, "user:ada", "ui"),
        ("alice", UserChange.ADDED, "ann", "cli"),
    ]
    assert [c.change for c in engine.user_changes("acme", 2)] == [
        UserChange.KEYS_REVOKED,
        UserChange.ENABLED,
    ]
    # A change refused records nothing.
    engine.set_user_active("acme", "alice", False, BY)
    with pytest.raises(BadInput):
        engine.issue_user_key("acme", "alice", BY)
    assert engine.user_changes("acme", 1)[0].change is UserChange.DISABLED


def test_the_users_page_lists_who_changed_users(acme: Tenant, engine: Engine) -> None:
    client = _as(acme, engine, "ada", Role.ADMIN)
    client.post(
        "/ui/users",
        data={"name": "bob", "role": "agent", "password": "bob password"},
        headers=HOST,
    )
    client.post("/ui/users/bob/disable", headers=HOST)
    table = _text(client.get("/ui/users")).split("Changes to users", 1)[1]
    assert "bob disabled user:ada (ui)" in table and "bob added user:ada (ui)" in table
    assert "ada added ann (cli)" in table


def test_the_cli_lists_changes_to_users(db_url: str) -> None:
    cli = Cli(db_url)
    cli("accounts", "create", "acme", "--support-contact", "help@example.com")
    cli("--actor", "ann", "users", "add", "alice", "--account", "acme", "--password", "x" * 8)
    cli("--actor", "bo", "users", "disable", "alice", "--account", "acme")
    changes = cli.json("users", "audit", "--account", "acme")["changes"]
    assert [(c["user"], c["change"], c["by"], c["via"]) for c in changes] == [
        ("alice", "disabled", "bo", "cli"),
        ("alice", "added", "ann", "cli"),
    ]
    assert "alice\tdisabled\tbo (cli)" in cli("users", "audit", "--account", "acme")


# -- the users API -----------------------------------------------------------------------


def test_an_admin_manages_users_through_the_api(acme: Tenant, engine: Engine) -> None:
    added = acme.post("/v1/users", {"name": "Bob", "role": "agent", "password": "bob password"})
    assert added.status_code == 201, added.text
    assert (added.json()["name"], added.json()["created_by"]) == ("bob", "default")
    issued = acme.post("/v1/users/bob/keys")
    assert issued.status_code == 201
    key = auth(issued.json()["api_key"])
    assert acme.client.get("/v1/account", headers=key).json()["key"] == "user:bob"
    listed = acme.ok("GET", "/v1/users")
    assert [(u["name"], u["api_keys"], u["active"]) for u in listed["users"]] == [("bob", 1, True)]
    assert issued.json()["api_key"] not in str(listed)  # shown that once only
    assert acme.ok("POST", "/v1/users/bob/disable")["active"] is False
    assert_problem(acme.client.get("/v1/account", headers=key), 401, "unauthorized")
    assert acme.ok("POST", "/v1/users/bob/enable")["active"] is True
    assert acme.ok("DELETE", "/v1/users/bob/keys") == {"user": "bob", "revoked": 1}
    assert_problem(acme.client.get("/v1/account", headers=key), 401, "unauthorized")
    changes = acme.ok("GET", "/v1/users?changes=10")["changes"]
    assert [(c["change"], c["by"], c["via"]) for c in changes] == [
        ("keys_revoked", "default", "api"),
        ("enabled", "default", "api"),
        ("disabled", "default", "api"),
        ("key_issued", "default", "api"),
        ("added", "default", "api"),
    ]


def test_the_users_api_refuses_bad_input_and_anyone_but_an_admin(
    acme: Tenant, engine: Engine
) -> None:
    good = {"name": "bob", "role": "agent", "password": "bob password"}
    acme.ok("POST", "/v1/users", good, status=201)
    assert_problem(acme.post("/v1/users", good), 409, "conflict")
    for bad in (
        {**good, "name": "carl", "password": "short"},
        {**good, "name": "Not A Name!"},
        {**good, "name": "carl", "role": "owner"},
        {"name": "carl"},
    ):
        assert_problem(acme.post("/v1/users", bad), 422)
    assert_problem(acme.post("/v1/users/zed/disable"), 404, "unknown_user")
    assert acme.post("/v1/users/bob/nap").status_code == 404
    assert_problem(acme.delete("/v1/users/zed/keys"), 404, "unknown_user")
    acme.ok("POST", "/v1/users/bob/disable")
    assert "disabled" in assert_problem(acme.post("/v1/users/bob/keys"), 422)["detail"]
    for role in (Role.AGENT, Role.READ_ONLY):
        caller = _key(engine, f"x{role.value[0]}", role)
        for method, path in (
            ("GET", "/v1/users"),
            ("POST", "/v1/users/bob/enable"),
            ("POST", "/v1/users/bob/keys"),
            ("DELETE", "/v1/users/bob/keys"),
        ):
            refused = acme.client.request(method, path, headers=caller)
            assert_problem(refused, 403, "forbidden")
    assert not engine.users("acme")[0][0].active
    assert len(engine.user_changes("acme")) == 6  # bob added, disabled; 2 added, 2 keys


def test_a_send_refused_at_its_hand_over_still_names_who_sent_it(world: World) -> None:
    engine = world.engine
    alice = Actor("user:alice", Via.API)
    pending = engine.decide_send(ACME, TX, BOB, "Your table is ready", actor=alice)
    engine.opt_out(ACME, BOB)  # committed between the decision and the hand-over
    assert engine.deliver(pending).status == "failed"
    events, messages = engine.history(ACME, BOB)
    assert (events[-1].type, events[-1].data["by"], events[-1].data["via"]) == (
        "send_refused",
        "user:alice",
        "api",
    )
    assert (messages[-1].status, messages[-1].sent_by) == ("failed", "user:alice")
    assert world.fake.requests == []


def test_a_text_sent_from_the_cli_names_its_actor(db_url: str, engine: Engine) -> None:
    cli = Cli(db_url)
    cli("accounts", "create", "acme", "--profile", "twilio")
    cli("senders", "add", "--account", "acme", A)
    cli("--actor", "ann", "send", "--account", "acme", "--from", A, "--to", BOB, "hello")
    (sent,) = engine.history("acme", BOB)[1]
    assert (sent.direction, sent.sent_by, sent.sent_via) == ("out", "ann", "cli")
