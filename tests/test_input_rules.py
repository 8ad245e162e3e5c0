"""Every input rule holds whichever way the input comes in.

Each rule is checked once, in the engine (``optline.domain.inputs``, the providers'
credential checks), and the CLI, the REST API and the web UI all go through it: the
same bad input is refused by each of them that takes it (exit 2 with one line, a 422
problem, a 422 error page) and nothing is written. On SQLite and PostgreSQL.

The web UI takes only a contact's opt-out, opt-in, block and unblock (note, evidence)
and the "may I send" check (a text); the CLI takes no note. A rule is run through the
interfaces that offer its input.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from nacl.signing import SigningKey
from test_api_support import (
    ADMIN_KEY,
    BOB,
    ZED,
    A,
    Tenant,
    auth,
)
from typer.testing import CliRunner
from web_support import sign_in

from optline.cli import app as cli_app
from optline.domain import inputs
from optline.domain.consent_codes import Status
from optline.engine import Engine
from optline.store import Store
from optline.web.session import COOKIE

ORIGIN = {"origin": "http://testserver"}
TELNYX_KEY = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
TABLES = (
    "accounts",
    "senders",
    "lists",
    "triggers",
    "contacts",
    "sender_consent",
    "memberships",
    "events",
    "messages",
    "send_requests",
    "subscriptions",
    "notifications",
)


@dataclass(frozen=True)
class Rule:
    """One input rule, as each interface that takes the input is given a bad value."""

    says: str  # what every refusal names
    cli: tuple[str, ...] | None = None  # after ``optline --db URL``
    api: tuple[str, str, Any] | None = None  # method, path, JSON body (or its bytes)
    api_code: str = "bad_input"
    # The API's own refusal, where its JSON cannot even be read as text (bad_text).
    api_says: str | None = None
    admin: bool = False  # the API request is the admin's
    web: tuple[str, str, dict[str, str]] | None = None  # method, path, form or query


LONG_NOTE = "n" * (inputs.MAX_NOTE_CHARS + 1)
LONG_EVIDENCE = "signed form " * (inputs.MAX_EVIDENCE_CHARS // 12 + 1)
LONG_BODY = "x" * (inputs.MAX_OUTBOUND_CHARS + 1)
TELNYX = ("--provider", "telnyx", "--credential", "api_key=KEY123")

RULES: dict[str, Rule] = {
    "a Telnyx public key that does not load": Rule(
        "public_key",
        cli=("senders", "add", "--account", "acme", ZED, *TELNYX, "--credential", "public_key=no"),
        api=(
            "POST",
            "/v1/senders",
            {
                "number": ZED,
                "provider": "telnyx",
                "credentials": {"api_key": "KEY123", "public_key": "no"},
            },
        ),
    ),
    "a Telnyx public key of 31 bytes": Rule(
        "public_key",
        cli=(
            "senders",
            "add",
            "--account",
            "acme",
            ZED,
            *TELNYX,
            "--credential",
            "public_key=" + base64.b64encode(b"k" * 31).decode(),
        ),
        api=(
            "POST",
            "/v1/senders",
            {
                "number": ZED,
                "provider": "telnyx",
                "credentials": {
                    "api_key": "KEY123",
                    "public_key": base64.b64encode(b"k" * 31).decode(),
                },
            },
        ),
    ),
    "a provider's credential missing": Rule(
        "public_key",
        cli=("senders", "add", "--account", "acme", ZED, *TELNYX),
        api=(
            "POST",
            "/v1/senders",
            {"number": ZED, "provider": "telnyx", "credentials": {"api_key": "KEY123"}},
        ),
    ),
    "a subscription URL with a space": Rule(
        "url",
        cli=(
            "subscriptions",
            "add",
            "--account",
            "acme",
            "https://exa mple.com/h",
            "--event",
            "opted_out",
        ),
        api=(
            "POST",
            "/v1/subscriptions",
            {"url": "https://exa mple.com/h", "events": ["opted_out"]},
        ),
    ),
    "a subscription URL that is not http": Rule(
        "url",
        cli=(
            "subscriptions",
            "add",
            "--account",
            "acme",
            "ftp://x.example/h",
            "--event",
            "opted_out",
        ),
        api=("POST", "/v1/subscriptions", {"url": "ftp://x.example/h", "events": ["opted_out"]}),
    ),
    "a subscription URL with a port out of range": Rule(
        "port",
        cli=(
            "subscriptions",
            "add",
            "--account",
            "acme",
            "https://x.example:99999/h",
            "--event",
            "opted_out",
        ),
        api=(
            "POST",
            "/v1/subscriptions",
            {"url": "https://x.example:99999/h", "events": ["blocked"]},
        ),
    ),
    "a subscription to no events": Rule(
        "events",
        cli=("subscriptions", "add", "--account", "acme", "https://x.example/h"),
        api=("POST", "/v1/subscriptions", {"url": "https://x.example/h", "events": []}),
    ),
    "an account name too long": Rule(
        "account name",
        cli=("accounts", "create", "a" * (inputs.MAX_ACCOUNT_NAME_CHARS + 1)),
        api=("POST", "/v1/accounts", {"name": "a" * (inputs.MAX_ACCOUNT_NAME_CHARS + 1)}),
        admin=True,
    ),
    "a list name too long": Rule(
        "list name",
        cli=("lists", "create", "--account", "acme", "l" * (inputs.MAX_LIST_NAME_CHARS + 1)),
        api=("POST", "/v1/lists", {"name": "l" * (inputs.MAX_LIST_NAME_CHARS + 1)}),
    ),
    "a list keyword too long": Rule(
        "keyword",
        cli=(
            "lists",
            "create",
            "--account",
            "acme",
            "news",
            "--opt-out-keyword",
            "k" * (inputs.MAX_KEYWORD_CHARS + 1),
        ),
        api=(
            "POST",
            "/v1/lists",
            {"name": "news", "opt_out_keyword": "k" * (inputs.MAX_KEYWORD_CHARS + 1)},
        ),
    ),
    "a trigger keyword too long": Rule(
        "keyword",
        cli=(
            "triggers",
            "add",
            "--account",
            "acme",
            "k" * (inputs.MAX_KEYWORD_CHARS + 1),
            "--reply",
            "Thanks!",
        ),
        api=(
            "POST",
            "/v1/triggers",
            {"keyword": "k" * (inputs.MAX_KEYWORD_CHARS + 1), "reply": "Hi"},
        ),
    ),
    "a trigger reply too long": Rule(
        "trigger reply",
        cli=("triggers", "add", "--account", "acme", "PROMO", "--reply", LONG_BODY),
        api=("POST", "/v1/triggers", {"keyword": "PROMO", "reply": LONG_BODY}),
    ),
    "evidence too long": Rule(
        "evidence",
        cli=("contacts", "opt-in", "--account", "acme", BOB, "--evidence", LONG_EVIDENCE),
        api=("POST", f"/v1/contacts/{BOB}/opt-in", {"evidence": LONG_EVIDENCE}),
        web=("POST", f"/ui/contacts/{BOB}/opt-in", {"evidence": LONG_EVIDENCE}),
    ),
    "evidence that no database stores": Rule(
        "evidence",
        # Invalid UTF-8 in an argument reaches Python as a lone surrogate.
        cli=("contacts", "opt-in", "--account", "acme", BOB, "--evidence", "signed \udcff form"),
        api=("POST", f"/v1/contacts/{BOB}/opt-in", b'{"evidence": "signed \\ud800 form"}'),
        api_code="bad_text",
        api_says="unpaired surrogate",
        web=("POST", f"/ui/contacts/{BOB}/opt-in", {"evidence": "signed \x00 form"}),
    ),
    "an opt-out note too long": Rule(
        "note",
        api=("POST", f"/v1/contacts/{BOB}/opt-out", {"note": LONG_NOTE}),
        web=("POST", f"/ui/contacts/{BOB}/opt-out", {"note": LONG_NOTE}),
    ),
    "a block note too long": Rule(
        "note",
        web=("POST", f"/ui/contacts/{BOB}/block", {"note": LONG_NOTE}),
    ),
    "an empty text to send": Rule(
        "empty",
        cli=("send", "--account", "acme", "--from", A, "--to", ZED, "   "),
        api=("POST", "/v1/messages", {"from": A, "to": ZED, "body": ""}),
    ),
    "a text to send too long": Rule(
        "1600",
        cli=("send", "--account", "acme", "--from", A, "--to", ZED, LONG_BODY),
        api=("POST", "/v1/messages", {"from": A, "to": ZED, "body": LONG_BODY}),
        web=("GET", "/ui/check", {"sender": A, "to": ZED, "body": LONG_BODY}),
    ),
    "a broadcast to a list and numbers at once": Rule(
        "exactly one",
        api=("POST", "/v1/broadcasts", {"from": A, "body": "Hi", "list": "vip", "numbers": [ZED]}),
    ),
}

INTERFACES = ("cli", "api", "web")
CASES = [
    pytest.param(name, way, id=f"{name} via {way}")
    for name, rule in RULES.items()
    for way in INTERFACES
    if getattr(rule, way) is not None
]


def _snapshot(store: Store) -> dict[str, list[Any]]:
    """Every row of every table, to show that a refusal wrote nothing."""
    with store.engine.connect() as conn:
        return {
            table: sorted(map(repr, conn.execute(sa.text(f"SELECT * FROM {table}")).all()))
            for table in TABLES
        }


@pytest.fixture
def world(acme: Tenant, engine: Engine) -> Tenant:
    """Account acme (default profile, senders A and B) with Bob opted out by a STOP,
    and a list: an opt-in needs evidence, an opt-out a note."""
    engine.receive("acme", BOB, A, "STOP", "SM1")
    acme.ok("POST", "/v1/lists", {"name": "vip"}, status=201)
    return acme


def _cli(db_url: str, args: tuple[str, ...]) -> str:
    result = CliRunner().invoke(cli_app, ["--db", db_url, *args])
    assert result.exit_code == 2, (result.output, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def _api(tenant: Tenant, rule: Rule) -> str:
    assert rule.api is not None
    method, path, body = rule.api
    headers = auth(ADMIN_KEY) if rule.admin else tenant.headers
    if isinstance(body, bytes):
        headers = {**headers, "Content-Type": "application/json"}
        response = tenant.client.request(method, path, content=body, headers=headers)
    else:
        response = tenant.client.request(method, path, json=body, headers=headers)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == rule.api_code, problem
    detail: str = problem["detail"]
    return detail


def _web(client: TestClient, key: str, rule: Rule) -> str:
    assert rule.web is not None
    method, path, data = rule.web
    signed_in = sign_in(client, key)
    assert signed_in.status_code == 303 and COOKIE in signed_in.cookies
    response: httpx.Response
    if method == "GET":
        response = client.get(path, params=data, follow_redirects=False)
    else:
        response = client.post(path, data=data, headers=ORIGIN, follow_redirects=False)
    assert response.status_code == 422, response.text
    return response.text


@pytest.mark.parametrize(("name", "way"), CASES)
def test_a_bad_input_is_refused_alike_everywhere_and_nothing_is_kept(
    world: Tenant, store: Store, db_url: str, name: str, way: str
) -> None:
    rule = RULES[name]
    before = _snapshot(store)
    if way == "cli":
        assert rule.cli is not None
        said = _cli(db_url, rule.cli)
    elif way == "api":
        said = _api(world, rule)
    else:
        said = _web(world.client, world.key, rule)
    says = rule.api_says if way == "api" and rule.api_says else rule.says
    assert says in said, said
    assert _snapshot(store) == before


def test_what_the_rules_refuse_is_just_past_what_they_take(
    world: Tenant, engine: Engine, db_url: str
) -> None:
    """The same inputs at the limit go through, by the CLI and by the API."""
    runner = CliRunner()

    def cli(*args: str) -> None:
        result = runner.invoke(cli_app, ["--db", db_url, *args])
        assert result.exit_code == 0, (args, result.output, result.stderr)

    credentials = ("--credential", f"public_key={TELNYX_KEY}")
    cli("senders", "add", "--account", "acme", ZED, *TELNYX, *credentials)
    cli(
        "subscriptions", "add", "--account", "acme", "HTTPS://x.example:443/h", "--event", "blocked"
    )
    cli("accounts", "create", "a" * inputs.MAX_ACCOUNT_NAME_CHARS, "--profile", "twilio")
    cli("lists", "create", "--account", "acme", "l" * inputs.MAX_LIST_NAME_CHARS)
    cli("triggers", "add", "--account", "acme", "PROMO", "--reply", "x" * 1600)
    cli("contacts", "opt-in", "--account", "acme", BOB, "--evidence", "e" * 2000)
    world.ok("POST", f"/v1/contacts/{BOB}/opt-out", {"note": "n" * inputs.MAX_NOTE_CHARS})
    world.ok("POST", "/v1/messages", {"from": A, "to": ZED, "body": "x" * 1600})

    senders = {s["number"]: s for s in world.ok("GET", "/v1/senders")["senders"]}
    assert senders[ZED]["credentials"] == ["api_key", "public_key"]
    [sub] = world.ok("GET", "/v1/subscriptions")["subscriptions"]
    assert sub["events"] == ["blocked"]
    events = engine.history("acme", BOB)[0]
    assert [e.type for e in events] == ["opted_out", "opted_in", "opted_out"]
    assert events[1].data["evidence"] == "e" * 2000
    state = engine.contact("acme", BOB)
    assert state is not None and state.status_from(None) is Status.OPTED_OUT


def test_the_cli_lists_subscriptions_without_their_secrets(world: Tenant, db_url: str) -> None:
    runner = CliRunner()
    added = runner.invoke(
        cli_app,
        ["--db", db_url, "subscriptions", "add", "--account", "acme", "https://x.example/h",
         "--event", "opted_out", "--event", "blocked", "--json"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = runner.invoke(
        cli_app, ["--db", db_url, "subscriptions", "list", "--account", "acme", "--json"]
    )
    assert listed.exit_code == 0
    made = json.loads(added.stdout)
    assert made["secret"].startswith("whsec_") and made["secret"] not in listed.stdout
    expected = {"id": made["id"], "url": "https://x.example/h", "events": ["blocked", "opted_out"]}
    assert json.loads(listed.stdout) == {"subscriptions": [expected]}
    assert world.ok("GET", "/v1/subscriptions")["subscriptions"] == [expected]


def test_a_credential_without_a_name_is_refused_without_echoing_it(
    world: Tenant, db_url: str
) -> None:
    result = CliRunner().invoke(
        cli_app,
        ["--db", db_url, "senders", "add", "--account", "acme", ZED, "--provider", "generic",
         "--credential", "s3cr3t-value"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "NAME=VALUE" in result.stderr and "s3cr3t-value" not in result.stderr


def test_an_imported_row_follows_the_evidence_rule_with_its_line(
    world: Tenant, store: Store, db_url: str, tmp_path: Path
) -> None:
    """A contacts import (the CLI's alone) holds its evidence to the opt-in's rule."""
    rows = tmp_path / "contacts.csv"
    rows.write_text(f"phone,status,evidence\n{ZED},opted_in,ok\n+13125550111,,{LONG_EVIDENCE}\n")
    before = _snapshot(store)
    result = CliRunner().invoke(
        cli_app, ["--db", db_url, "contacts", "import", "--account", "acme", str(rows)]
    )
    # One line per bad row, then the verdict (docs/cli.md).
    assert result.exit_code == 2
    said, verdict = result.stderr.splitlines()
    assert said.startswith("error: line 3: evidence") and verdict.endswith("nothing imported")
    assert _snapshot(store) == before
