"""Secrets sealed at rest (OPTLINE_SECRET_KEY): provider credentials and event-webhook
signing secrets, on both databases, through the engine, the HTTP service and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator
from typer.testing import CliRunner

from optline.api.app import Settings, create_app
from optline.cli import app as cli_app
from optline.engine import Engine
from optline.errors import CredentialsUnavailable
from optline.store import Store
from optline.store.sealed import SECRET_KEY_ENV, Sealer, new_key

TOKEN = "f" * 32
CREDENTIALS = {"account_sid": "AC" + "1" * 32, "auth_token": TOKEN}
SENDER = "+14155550100"
BOB = "+14155550123"
HOOK = "https://hooks.example.com/optline"
OLD, NEW = new_key(), new_key()


def stored(store: Store, table: str) -> str:
    """Every value of every row of ``table`` as the database holds it."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT * FROM {table}")).all()
    return json.dumps([[str(v) for v in row] for row in rows])


def sealed_with(store: Store, keys: str | None) -> Engine:
    """An engine on the same database whose store seals with ``keys``."""
    return Engine(Store(store.engine, Sealer.from_keys(keys)))


@pytest.fixture
def account(store: Store) -> Iterator[Store]:
    Engine(store).create_account("acme", "twilio")
    yield store


# -- the sealer ---------------------------------------------------------------------------


def test_a_sealed_text_opens_with_its_key_or_a_later_list_that_holds_it() -> None:
    sealed = Sealer.from_keys(OLD).seal_text("s3cret")
    assert "s3cret" not in sealed and sealed != Sealer.from_keys(OLD).seal_text("s3cret")
    assert Sealer.from_keys(OLD).open_text(sealed) == "s3cret"
    assert Sealer.from_keys(f"{NEW}, {OLD}").open_text(sealed) == "s3cret"
    with pytest.raises(CredentialsUnavailable, match="does not hold"):
        Sealer.from_keys(NEW).open_text(sealed)
    with pytest.raises(CredentialsUnavailable, match="is not set"):
        Sealer().open_text(sealed)
    # Without a key, secrets are stored as given.
    assert Sealer().seal_text("s3cret") == "s3cret"
    assert Sealer().seal_credentials(CREDENTIALS) == CREDENTIALS


@pytest.mark.parametrize("keys", ["not base64!", "c2hvcnQ=", f"{OLD},{OLD[:-4]}"])
def test_a_malformed_key_is_refused_with_the_variable_named(keys: str) -> None:
    with pytest.raises(ValueError, match=SECRET_KEY_ENV):
        Sealer.from_keys(keys)


# -- stored secrets -----------------------------------------------------------------------


def test_credentials_and_signing_secrets_are_sealed_in_the_database(account: Store) -> None:
    engine = sealed_with(account, OLD)
    engine.add_sender("acme", SENDER, "long_code", "twilio", CREDENTIALS)
    _, secret = engine.add_subscription("acme", HOOK, ["opted_out"])
    for table, value in (("senders", TOKEN), ("subscriptions", secret)):
        assert value not in stored(account, table)
    sender = sealed_with(account, OLD).sender(SENDER)
    assert sender is not None and sender.credentials == CREDENTIALS
    # The notification worker signs with the opened secret.
    engine.opt_out("acme", BOB)
    [notification] = engine.claim_notifications(limit=10, lease_seconds=30)
    assert notification.secret == secret


def test_a_sealed_secret_without_its_key_is_a_clear_error(account: Store) -> None:
    sealed_with(account, OLD).add_sender("acme", SENDER, "long_code", "twilio", CREDENTIALS)
    for keys in (None, NEW):
        with pytest.raises(CredentialsUnavailable):
            sealed_with(account, keys).sender(SENDER)


def test_secrets_stored_as_given_are_sealed_later_and_keys_replaced(account: Store) -> None:
    sealed_with(account, None).add_sender("acme", SENDER, "long_code", "twilio", CREDENTIALS)
    _, secret = sealed_with(account, None).add_subscription("acme", HOOK, ["opted_out"])
    assert TOKEN in stored(account, "senders")
    # Stored as given: still read while a key is set, then sealed.
    assert sealed_with(account, OLD).sender(SENDER) is not None
    assert sealed_with(account, OLD).reseal_secrets() == 2
    assert TOKEN not in stored(account, "senders") and secret not in stored(
        account, "subscriptions"
    )
    # A new key first, the old one after it until everything is sealed again.
    assert sealed_with(account, f"{NEW},{OLD}").reseal_secrets() == 2
    sender = sealed_with(account, NEW).sender(SENDER)
    assert sender is not None and sender.credentials == CREDENTIALS


# -- the service and the CLI -------------------------------------------------------------


def test_a_webhook_verifies_with_sealed_credentials_and_is_503_without_the_key(
    account: Store,
) -> None:
    sealed_with(account, OLD).add_sender("acme", SENDER, "long_code", "twilio", CREDENTIALS)
    params = {"From": BOB, "To": SENDER, "Body": "STOP", "MessageSid": "SM" + "a" * 32}
    signature = RequestValidator(TOKEN).compute_signature(
        "http://testserver/webhooks/twilio", params
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }
    for keys, status in ((None, 503), (OLD, 200)):
        app = create_app(Settings(notify=False), engine=sealed_with(account, keys))
        with TestClient(app) as client:
            response = client.post("/webhooks/twilio", content=urlencode(params), headers=headers)
        assert response.status_code == status, response.text
        if status == 503:
            assert response.json()["code"] == "credentials_unavailable"
            assert Engine(account).history("acme", BOB) == ([], [])  # nothing stored
    assert "STOP" in [m.body for m in Engine(account).history("acme", BOB)[1]]


def test_the_cli_makes_keys_and_seals_stored_secrets(
    account: Store, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    made = runner.invoke(cli_app, ["secrets", "new-key"])
    assert made.exit_code == 0 and Sealer.from_keys(made.output.strip()).sealing
    Engine(account).add_sender("acme", SENDER, "long_code", "twilio", CREDENTIALS)

    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    refused = runner.invoke(cli_app, ["--db", db_url, "secrets", "seal"])
    assert refused.exit_code == 2 and SECRET_KEY_ENV in refused.output

    monkeypatch.setenv(SECRET_KEY_ENV, made.output.strip())
    done = runner.invoke(cli_app, ["--db", db_url, "secrets", "seal"])
    assert done.exit_code == 0 and "1 secrets sealed" in done.output
    assert TOKEN not in stored(account, "senders")

    monkeypatch.setenv(SECRET_KEY_ENV, "too short")
    broken = runner.invoke(cli_app, ["--db", db_url, "secrets", "seal"])
    assert broken.exit_code == 2 and SECRET_KEY_ENV in broken.output


def test_a_sender_added_by_the_cli_is_stored_as_the_apis_sealed_and_opened_the_same(
    account: Store, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_KEY_ENV, OLD)
    given = [f"--credential={name}={value}" for name, value in CREDENTIALS.items()]
    added = CliRunner().invoke(
        cli_app,
        ["--db", db_url, "senders", "add", "--account", "acme", SENDER, "--provider", "twilio",
         *given],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert TOKEN not in stored(account, "senders") and TOKEN not in added.output
    sender = sealed_with(account, OLD).sender(SENDER)
    assert sender is not None
    assert (sender.provider, sender.credentials) == ("twilio", CREDENTIALS)
