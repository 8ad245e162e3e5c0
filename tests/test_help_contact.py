"""HELP always says something useful: an account whose HELP answer names a support
contact is never created nor left without one (CTIA 5.1.2.1), by the engine, the API
(422 naming the field) or the CLI (exit 2 naming it)."""

from __future__ import annotations

import pytest
from cli_support import Cli
from fastapi.testclient import TestClient
from test_api_support import ADMIN_KEY, Tenant, assert_problem, auth

from optline.domain.policy import missing_help_fields
from optline.domain.policy_overrides import with_overrides
from optline.domain.profiles import PROFILES, get_profile
from optline.engine import Engine
from optline.errors import MissingField

A = "+14155550100"
BOB = "+14155552671"


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_a_profile_needs_a_support_contact_exactly_when_its_help_text_names_one(
    name: str,
) -> None:
    policy = PROFILES[name]
    names_support = any("{support}" in r.help for r in policy.replies.values())
    assert missing_help_fields(policy) == (["support_contact"] if names_support else [])
    filled = with_overrides(policy, {"support_contact": "help@acme.example"})
    assert missing_help_fields(filled) == []


def test_blank_or_custom_help_texts_count() -> None:
    default = get_profile("default")
    assert missing_help_fields(with_overrides(default, {"support_contact": "  "}))
    custom = {"help": "Call {support} for help."}
    twilio = with_overrides(get_profile("twilio"), {"custom_replies": custom})
    assert missing_help_fields(twilio) == ["support_contact"]


def test_the_engine_refuses_an_account_without_a_support_contact(engine: Engine) -> None:
    with pytest.raises(MissingField) as refused:
        engine.create_account("acme")
    assert refused.value.field == "support_contact"
    assert engine.accounts() == []
    engine.create_account("acme", "twilio")  # Twilio's HELP text names no contact
    for change in [
        {"profile": "default"},  # a switch to a profile that needs one
        {"overrides": {"custom_replies": {"help": "Help: {support}"}}},
    ]:
        with pytest.raises(MissingField):
            engine.set_policy("acme", **change)  # type: ignore[arg-type]
    assert engine.account("acme").profile == "twilio"
    engine.set_policy("acme", "default", {"support_contact": "help@acme.example"})
    with pytest.raises(MissingField):  # nor can it be taken away afterwards
        engine.set_policy("acme", overrides={})
    engine.add_sender("acme", A)
    got = engine.receive("acme", BOB, A, "HELP")
    assert got.reply is not None and "Help at help@acme.example." in got.reply


def test_the_api_answers_422_naming_the_field(client: TestClient) -> None:
    body = {"name": "acme", "profile": "default"}
    refused = assert_problem(
        client.post("/v1/accounts", json=body, headers=auth(ADMIN_KEY)), 422, "missing_field"
    )
    assert refused["field"] == "support_contact" and "support_contact" in refused["detail"]
    body["overrides"] = {"support_contact": "help@acme.example"}  # type: ignore[assignment]
    created = client.post("/v1/accounts", json=body, headers=auth(ADMIN_KEY))
    tenant = Tenant(client, created.json()["api_key"], "acme")
    response = client.put("/v1/policy", json={"overrides": {}}, headers=tenant.headers)
    assert assert_problem(response, 422, "missing_field")["field"] == "support_contact"


def test_the_cli_exits_2_naming_the_field(db_url: str) -> None:
    cli = Cli(db_url)
    assert "support_contact" in cli.error("accounts", "create", "acme")
    cli("accounts", "create", "acme", "--support-contact", "help@acme.example")
    message = cli.error("policy", "set", "--account", "acme", "--override", "support_contact=")
    assert "support_contact" in message
