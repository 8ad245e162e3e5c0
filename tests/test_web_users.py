"""The web UI's users, sessions and form tokens, through the real app on SQLite and
PostgreSQL: a user's password sign-in (and every way it is refused), the form token
every posted form needs, roles refused with a 403 page that says why, the signed-in
user recorded as the actor, and the admin's users page."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient
from test_api_support import BOB, EVE, Tenant
from web_support import HOST, form_token, sign_in

from optline.domain.actors import Actor
from optline.domain.messages import Via
from optline.domain.users import Role
from optline.engine import Engine
from optline.web.session import COOKIE, CSRF_HEADER, LOGIN_COOKIE

#: Who makes the changes to users these tests make.
BY = Actor("test", Via.CLI)


def _text(response: httpx.Response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.text).split())


def _as(acme: Tenant, engine: Engine, name: str, role: Role) -> TestClient:
    """acme's client, signed in as a new user ``name`` of ``role``."""
    engine.add_user("acme", name, role, f"{name} password", BY)
    signed = sign_in(acme.client, account="acme", user=name, password=f"{name} password")
    assert signed.status_code == 303, signed.text
    return acme.client


def test_a_user_signs_in_with_a_password_and_out(acme: Tenant, engine: Engine) -> None:
    engine.add_user("acme", "alice", Role.AGENT, "correct horse", BY)
    response = sign_in(acme.client, account="acme", user="Alice", password="correct horse")
    assert response.status_code == 303 and response.headers["location"] == "/ui/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "Path=/ui", "SameSite=strict"):
        assert attribute.lower() in cookie.lower()
    home = acme.client.get("/ui/")
    assert home.status_code == 200 and "user:alice" in _text(home) and "(agent)" in _text(home)
    assert "/ui/users" not in home.text  # an agent's menu has no users page
    ((user, _),) = engine.users("acme")
    assert user.last_sign_in_at is not None
    out = acme.client.post("/ui/logout", headers=HOST, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/ui/login"
    # The session is over on the server too, not only in this browser.
    acme.client.cookies.set(COOKIE, response.cookies[COOKIE], path="/ui")
    assert acme.client.get("/ui/", follow_redirects=False).headers["location"] == "/ui/login"


def test_a_wrong_password_an_unknown_user_and_a_disabled_one_are_refused_alike(
    acme: Tenant, engine: Engine
) -> None:
    engine.add_user("acme", "alice", Role.AGENT, "correct horse", BY)
    engine.add_user("acme", "dora", Role.ADMIN, "dora password", BY)
    engine.set_user_active("acme", "dora", False, BY)
    for account, user, password in [
        ("acme", "alice", "wrong horse"),
        ("acme", "nobody", "correct horse"),
        ("other", "alice", "correct horse"),
        ("acme", "dora", "dora password"),
    ]:
        refused = sign_in(acme.client, account=account, user=user, password=password)
        assert refused.status_code == 401, (user, refused.text)
        assert "do not match an active user" in _text(refused)
        assert COOKIE not in refused.cookies
    assert sign_in(acme.client, "not-a-key").status_code == 401


def test_sign_in_needs_its_own_form_token(acme: Tenant) -> None:
    client = acme.client
    form = {"key": acme.key}
    no_token = client.post("/ui/login", data=form, headers=HOST, follow_redirects=False)
    assert no_token.status_code == 403 and "security token" in _text(no_token)
    token = form_token(client.get("/ui/login").text)
    assert client.cookies.get(LOGIN_COOKIE) == token
    wrong = client.post("/ui/login", data={**form, "csrf": token[::-1]}, headers=HOST)
    assert wrong.status_code == 403 and COOKIE not in wrong.cookies
    assert form_token(wrong.text) == token  # the same while the browser keeps it
    right = client.post("/ui/login", data={**form, "csrf": token}, follow_redirects=False)
    assert right.status_code == 303 and COOKIE in right.cookies


def test_a_form_without_the_sessions_token_is_refused_and_changes_nothing(
    acme: Tenant, engine: Engine
) -> None:
    client = _as(acme, engine, "alice", Role.AGENT)
    page = client.get(f"/ui/contacts/{BOB}")
    token = form_token(page.text)
    del client.headers[CSRF_HEADER]
    for data in ({}, {"csrf": "x" * len(token)}, {"csrf": ""}):
        refused = client.post(f"/ui/contacts/{BOB}/opt-out", data=data, headers=HOST)
        assert refused.status_code == 403
        assert "security token is missing or out of date" in _text(refused)
    assert engine.contact("acme", BOB) is None
    # Another session's token is wrong here too.
    other = TestClient(client.app)
    sign_in(other, acme.key)
    theirs = form_token(other.get("/ui/check").text)
    assert theirs != token
    crossed = client.post(f"/ui/contacts/{BOB}/opt-out", data={"csrf": theirs}, headers=HOST)
    assert crossed.status_code == 403 and engine.contact("acme", BOB) is None
    done = client.post(f"/ui/contacts/{BOB}/opt-out", data={"csrf": token}, headers=HOST)
    assert done.status_code == 200 and "Done: opt-out" in _text(done)


def test_an_agents_changes_are_recorded_as_theirs_and_set_up_is_refused(
    acme: Tenant, engine: Engine
) -> None:
    client = _as(acme, engine, "alice", Role.AGENT)
    client.post(f"/ui/contacts/{BOB}/block", data={"note": "abusive"}, headers=HOST)
    event = engine.history("acme", BOB)[0][-1]
    assert (event.type, event.data["by"], event.data["via"]) == ("blocked", "user:alice", "ui")
    for path, data in [
        ("/ui/lists", {"name": "vip"}),
        ("/ui/senders", {"number": "+14155550142"}),
        ("/ui/purposes", {"name": "reminders"}),
        ("/ui/users", {"name": "mallory", "role": "admin", "password": "take over"}),
    ]:
        refused = client.post(path, data=data, headers=HOST)
        assert refused.status_code == 403, path
        text = _text(refused)
        assert "Signed in as user:alice (agent)" in text and "only an admin may change" in text
    assert engine.lists("acme") == [] and [u.name for u, _ in engine.users("acme")] == ["alice"]
    assert client.get("/ui/users").status_code == 403


def test_a_read_only_user_reads_and_changes_nothing(acme: Tenant, engine: Engine) -> None:
    client = _as(acme, engine, "rita", Role.READ_ONLY)
    assert client.get(f"/ui/contacts/{BOB}").status_code in (200, 404)
    assert client.get("/ui/senders").status_code == 200
    for path in (f"/ui/contacts/{EVE}/opt-out", f"/ui/inbox/{EVE}/reply", "/ui/review/1/dismiss"):
        refused = client.post(path, data={"note": "x"}, headers=HOST)
        assert refused.status_code == 403, path
        assert "a read-only user may read, but not change anything" in _text(refused).lower()
    assert engine.contact("acme", EVE) is None
    # Signing out is not a change: it works for them too.
    assert client.post("/ui/logout", headers=HOST, follow_redirects=False).status_code == 303


def test_the_admin_manages_users_on_the_users_page(acme: Tenant, engine: Engine) -> None:
    client = _as(acme, engine, "ada", Role.ADMIN)
    page = client.get("/ui/users")
    assert page.status_code == 200 and "ada" in _text(page)
    form = {"name": "Bob", "role": "agent", "password": "bob password"}
    added = client.post("/ui/users", data=form, headers=HOST)
    assert "User bob added as agent" in _text(added)
    (_, _), (bob, _) = engine.users("acme")
    assert (bob.name, bob.role, bob.created_by) == ("bob", Role.AGENT, "user:ada")
    assert client.post("/ui/users", data=form, headers=HOST).status_code == 409
    weak = client.post("/ui/users", data={**form, "name": "carl", "password": "x"}, headers=HOST)
    assert weak.status_code == 422 and "at least 8" in _text(weak)
    shown = client.post("/ui/users/bob/key", headers=HOST)
    key = re.search(r'id="key"[^>]*>([^<]+)<', shown.text)
    assert key is not None and key.group(1).startswith("ol_")
    assert key.group(1) not in client.get("/ui/users").text  # shown that once only
    api = {"Authorization": f"Bearer {key.group(1)}"}
    assert client.get("/v1/account", headers=api).status_code == 200
    revoked = client.post("/ui/users/bob/revoke-keys", headers=HOST)
    assert "1 API key(s) of bob revoked" in _text(revoked)
    assert client.get("/v1/account", headers=api).status_code == 401
    disabled = client.post("/ui/users/bob/disable", headers=HOST)
    assert "User bob disabled" in _text(disabled)
    again = sign_in(TestClient(client.app), account="acme", user="bob", password="bob password")
    assert again.status_code == 401
    assert not engine.users("acme")[1][0].active
    assert client.post("/ui/users/nobody/disable", headers=HOST).status_code == 404
    assert client.post("/ui/users/bob/delete", headers=HOST).status_code == 404


def test_the_account_key_still_signs_in_as_the_admin(acme: Tenant, engine: Engine) -> None:
    assert sign_in(acme.client, acme.key).status_code == 303
    home = acme.client.get("/ui/")
    assert "/ui/users" in home.text and "(admin)" in _text(home)
    acme.client.post("/ui/lists", data={"name": "vip"}, headers=HOST)
    assert [row.name for row in engine.lists("acme")] == ["vip"]


def test_set_up_forms_are_shown_to_admins_only(acme: Tenant, engine: Engine) -> None:
    client = _as(acme, engine, "alice", Role.AGENT)
    for path in ("/ui/lists", "/ui/purposes", "/ui/senders", "/ui/triggers"):
        page = client.get(path)
        assert page.status_code == 200 and f'method="post" action="{path}"' not in page.text
        assert "Only an admin may" in _text(page), path
    sign_in(client, acme.key)
    assert 'method="post" action="/ui/lists"' in client.get("/ui/lists").text
