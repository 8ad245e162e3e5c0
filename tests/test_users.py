"""Users and roles: the rules (pure), the store and engine on SQLite and PostgreSQL
(users, their keys by hash, sessions, disabling), the REST API with a user's own key
(roles refused with 403 and a reason, the user recorded as the actor), and the CLI."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from cli_support import Cli
from hypothesis import given
from hypothesis import strategies as st
from test_api_support import BOB, EVE, Tenant, assert_problem, auth

from optline.domain.actors import Actor
from optline.domain.messages import Via
from optline.domain.users import Access, Role, refusal, user_name
from optline.engine import Engine
from optline.errors import AlreadyExists, BadInput, UnknownUser
from optline.store.migrate import alembic_config
from optline.store.schema import ui_sessions, user_keys, users

#: Who makes the changes to users these tests make.
BY = Actor("ann", Via.CLI)

# -- the rules ----------------------------------------------------------------------------


@given(st.sampled_from([*Role, None]), st.sampled_from(Access))
def test_each_role_may_do_what_it_is_given_and_is_told_why_not(
    role: Role | None, access: Access
) -> None:
    allowed = {
        Role.ADMIN: set(Access),
        Role.AGENT: {Access.READ, Access.CONTACTS},
        Role.READ_ONLY: {Access.READ},
        None: {Access.READ},  # no role known: read only
    }[role]
    why = refusal(role, access)
    assert (why is None) == (access in allowed)
    if why is not None:
        assert "may" in why and len(why) > 20


@given(st.text(max_size=80))
def test_a_user_name_is_kept_only_in_its_one_form(raw: str) -> None:
    try:
        name = user_name(raw)
    except BadInput:
        return
    assert name == raw.strip().lower() and user_name(name) == name
    assert 1 <= len(name) <= 64 and name.isascii() and ":" not in name and " " not in name


# -- the store and the engine -------------------------------------------------------------


def test_users_are_added_listed_and_refused_twice_or_with_a_bad_password(engine: Engine) -> None:
    engine.create_account("acme", overrides={"support_contact": "help@example.com"})
    alice = engine.add_user("acme", " Alice ", "agent", "correct horse", BY)
    assert (alice.name, alice.role, alice.active, alice.created_by) == (
        "alice",
        Role.AGENT,
        True,
        "ann",
    )
    with pytest.raises(AlreadyExists):
        engine.add_user("acme", "alice", Role.ADMIN, "another password", BY)
    with pytest.raises(BadInput, match="at least 8"):
        engine.add_user("acme", "bob", Role.ADMIN, "short", BY)
    with pytest.raises(BadInput, match="not one of admin, agent, read_only"):
        engine.add_user("acme", "bob", "owner", "long enough", BY)
    with pytest.raises(UnknownUser):
        engine.issue_user_key("acme", "nobody", BY)
    # The password is stored as an Argon2id hash, never as given.
    with engine.store.read() as tx:
        stored = tx.conn.execute(sa.select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert [(u.name, keys) for u, keys in engine.users("acme")] == [("alice", 0)]


def test_a_users_keys_work_until_revoked_or_the_user_is_disabled(engine: Engine) -> None:
    engine.create_account("acme", overrides={"support_contact": "help@example.com"})
    engine.add_user("acme", "alice", Role.READ_ONLY, "correct horse", BY)
    first, second = (
        engine.issue_user_key("acme", "alice", BY),
        engine.issue_user_key("acme", "alice", BY),
    )
    found = engine.account_for_key(first)
    assert found is not None
    assert (found.name, found.api_key_name, found.role) == ("acme", "user:alice", Role.READ_ONLY)
    # Only hashes are stored.
    with engine.store.read() as tx:
        hashes = set(tx.conn.execute(sa.select(user_keys.c.key_hash)).scalars())
    assert len(hashes) == 2 and first not in hashes and second not in hashes
    engine.set_user_active("acme", "alice", False, BY)
    assert engine.account_for_key(first) is None and engine.account_for_key(second) is None
    with pytest.raises(BadInput, match="disabled"):
        engine.issue_user_key("acme", "alice", BY)
    engine.set_user_active("acme", "alice", True, BY)
    assert engine.account_for_key(second) is not None
    assert engine.revoke_user_keys("acme", "alice", BY) == 2
    assert engine.account_for_key(first) is None and engine.account_for_key(second) is None
    assert [keys for _, keys in engine.users("acme")] == [0]


def test_sessions_hold_while_their_user_or_key_does(engine: Engine) -> None:
    engine.create_account("acme", overrides={"support_contact": "help@example.com"})
    engine.add_user("acme", "alice", Role.AGENT, "correct horse", BY)
    assert engine.sign_in("acme", "alice", "wrong horse") is None
    assert engine.sign_in("acme", "nobody", "correct horse") is None
    assert engine.sign_in("other", "alice", "correct horse") is None
    token = engine.sign_in("acme", "ALICE", "correct horse")
    assert token is not None
    session = engine.ui_session(token)
    assert session is not None and session.user == "alice" and len(session.csrf) > 30
    assert (session.account.api_key_name, session.account.role) == ("user:alice", Role.AGENT)
    ((user, _),) = engine.users("acme")
    assert user.last_sign_in_at is not None
    with engine.store.read() as tx:  # the token is stored by its hash only
        assert token not in set(tx.conn.execute(sa.select(ui_sessions.c.token_hash)).scalars())
    engine.set_user_active("acme", "alice", False, BY)
    assert engine.ui_session(token) is None
    assert engine.sign_in("acme", "alice", "correct horse") is None
    # A session opened with the account's key ends when the account gets a new key.
    key = engine.issue_api_key("acme")
    by_key = engine.sign_in_with_key(key)
    assert by_key is not None
    held = engine.ui_session(by_key)
    assert held is not None and held.user is None and held.account.role is Role.ADMIN
    engine.issue_api_key("acme")
    assert engine.ui_session(by_key) is None
    assert engine.sign_in_with_key("ol_not-a-key") is None


def test_a_key_name_may_not_pass_for_a_user(engine: Engine) -> None:
    engine.create_account("acme", overrides={"support_contact": "help@example.com"})
    with pytest.raises(BadInput, match="users'"):
        engine.issue_api_key("acme", "user:alice")


# -- the REST API with a user's own key ---------------------------------------------------


def _user_key(engine: Engine, tenant: Tenant, name: str, role: Role) -> dict[str, str]:
    engine.add_user(tenant.name, name, role, f"{name} password", BY)
    return auth(engine.issue_user_key(tenant.name, name, BY))


def test_an_agents_key_works_with_contacts_and_is_recorded_as_theirs(
    acme: Tenant, engine: Engine
) -> None:
    agent = _user_key(engine, acme, "alice", Role.AGENT)
    client = acme.client
    me = client.get("/v1/account", headers=agent).json()
    assert (me["name"], me["key"], me["role"]) == ("acme", "user:alice", "agent")
    assert (acme.ok("GET", "/v1/account")["key"], acme.ok("GET", "/v1/account")["role"]) == (
        "default",
        "admin",
    )
    opted = client.post(f"/v1/contacts/{BOB}/opt-out", headers=agent, json={"note": "asked"})
    assert opted.status_code == 200, opted.text
    event = engine.history("acme", BOB)[0][-1]
    assert (event.type, event.data["by"], event.data["via"]) == ("opted_out", "user:alice", "api")
    # The account's set-up is an admin's: refused, with the reason, nothing made.
    for method, path, body in [
        ("POST", "/v1/senders", {"number": "+14155550142"}),
        ("PUT", "/v1/policy", {"profile": "default"}),
        ("POST", "/v1/lists", {"name": "vip"}),
        (
            "POST",
            "/v1/subscriptions",
            {"url": "https://hooks.example.com/x", "events": ["opted_out"]},
        ),
    ]:
        refused = client.request(method, path, headers=agent, json=body)
        problem = assert_problem(refused, 403, "forbidden")
        assert "user:alice" in problem["detail"] and "only an admin" in problem["detail"]
    assert all(s.number != "+14155550142" for s in engine.senders("acme"))
    assert engine.lists("acme") == []
    # The account's own key is its admin's, as before.
    assert acme.post("/v1/lists", {"name": "vip"}).status_code == 201


def test_a_read_only_key_reads_and_changes_nothing(acme: Tenant, engine: Engine) -> None:
    reader = _user_key(engine, acme, "rita", Role.READ_ONLY)
    client = acme.client
    assert client.get(f"/v1/contacts/{BOB}/history", headers=reader).status_code == 200
    for path in (f"/v1/contacts/{EVE}/opt-in", f"/v1/contacts/{EVE}/block"):
        refused = client.post(path, headers=reader, json={"evidence": "front desk"})
        assert "read-only user may read" in assert_problem(refused, 403, "forbidden")["detail"]
    send = {"from": "+14155550100", "to": EVE, "body": "hi"}
    assert_problem(client.post("/v1/messages", headers=reader, json=send), 403, "forbidden")
    assert engine.contact("acme", EVE) is None


def test_a_revoked_or_disabled_users_key_stops_at_once(acme: Tenant, engine: Engine) -> None:
    agent = _user_key(engine, acme, "alice", Role.AGENT)
    assert acme.client.get("/v1/account", headers=agent).status_code == 200
    engine.set_user_active("acme", "alice", False, BY)
    assert_problem(acme.client.get("/v1/account", headers=agent), 401, "unauthorized")
    engine.set_user_active("acme", "alice", True, BY)
    assert acme.client.get("/v1/account", headers=agent).status_code == 200
    engine.revoke_user_keys("acme", "alice", BY)
    assert_problem(acme.client.get("/v1/account", headers=agent), 401, "unauthorized")


# -- the CLI ------------------------------------------------------------------------------


def test_the_cli_adds_lists_disables_and_keys_users(db_url: str, engine: Engine) -> None:
    cli = Cli(db_url)
    cli("accounts", "create", "acme", "--support-contact", "help@example.com")
    added = cli.json("--actor", "ann", "users", "add", "alice", "--account", "acme",
                     "--role", "read_only", "--password", "correct horse")  # fmt: skip
    assert (added["name"], added["role"], added["created_by"]) == ("alice", "read_only", "ann")
    assert "at least 8" in cli.error("users", "add", "bob", "--account", "acme", "--password", "x")
    key = cli.json("users", "key", "alice", "--account", "acme")["api_key"]
    found = engine.account_for_key(key)
    assert found is not None and found.role is Role.READ_ONLY
    listed = cli.json("users", "list", "--account", "acme")["users"]
    assert [(u["name"], u["active"], u["api_keys"]) for u in listed] == [("alice", True, 1)]
    assert "user alice disabled" in cli("users", "disable", "alice", "--account", "acme")
    assert engine.account_for_key(key) is None
    assert "user alice enabled" in cli("users", "enable", "alice", "--account", "acme")
    assert "1 API key(s) of alice revoked" in cli(
        "users", "revoke-keys", "alice", "--account", "acme"
    )
    assert engine.account_for_key(key) is None
    assert "no user 'zed'" in cli.error("users", "disable", "zed", "--account", "acme")


# -- upgrading in place -------------------------------------------------------------------


def test_an_existing_database_upgrades_and_its_account_key_stays_its_admins(
    engine: Engine,
) -> None:
    engine.create_account("acme", overrides={"support_contact": "help@example.com"})
    key = engine.issue_api_key("acme", "front-desk")
    config = alembic_config()
    with engine.store.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "r0022")  # as it was before users
        assert not sa.inspect(conn).has_table("users")
        command.upgrade(config, "head")
        conn.commit()
    found = engine.account_for_key(key)
    assert found is not None
    assert (found.name, found.api_key_name, found.role) == ("acme", "front-desk", Role.ADMIN)
    assert engine.users("acme") == []
    engine.add_user("acme", "alice", Role.ADMIN, "correct horse", BY)
    assert engine.sign_in("acme", "alice", "correct horse") is not None
