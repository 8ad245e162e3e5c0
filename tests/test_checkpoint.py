"""Signed checkpoints (optline.store.checkpoint): the text a third party keeps, checked
with the public key alone; every alteration, a foreign key and a malformed text are
refused, and the CLI's key and check commands."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optline.cli import app as cli_app
from optline.store.checkpoint import (
    LOG_KEY_ENV,
    BadCheckpoint,
    Checkpoint,
    LogKeys,
    new_key,
    open_checkpoint,
    public_key_text,
    verify_key,
)

AT = datetime(2026, 12, 7, 18, 0, 0, 123456, tzinfo=UTC)
ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")


def test_a_signed_checkpoint_opens_with_the_public_key_alone() -> None:
    keys = LogKeys.from_keys(new_key())
    text = keys.sign(Checkpoint(8, ROOT, AT))
    assert text.startswith(
        "optline-checkpoint/1\nsize 8\nroot 5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960"
        "cfe370eff4604328\ntime 2026-12-07T18:00:00.123456Z\n\nsignature "
    )
    public = verify_key(public_key_text(keys.public_keys[0]))
    assert open_checkpoint(text, [public]) == Checkpoint(8, ROOT, AT)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("size 8\n", "size 9\n"),
        ("root 5dc9", "root 5dc8"),
        ("time 2026-12-07T18", "time 2026-12-07T19"),
    ],
)
def test_an_altered_checkpoint_is_refused(old: str, new: str) -> None:
    keys = LogKeys.from_keys(new_key())
    text = keys.sign(Checkpoint(8, ROOT, AT)).replace(old, new)
    with pytest.raises(BadCheckpoint, match="does not verify"):
        open_checkpoint(text, keys.public_keys)


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    text = LogKeys.from_keys(new_key()).sign(Checkpoint(8, ROOT, AT))
    with pytest.raises(BadCheckpoint, match="not a trusted key"):
        open_checkpoint(text, LogKeys.from_keys(new_key()).public_keys)


def test_the_first_key_signs_and_a_replaced_one_still_opens_old_checkpoints() -> None:
    old, new = new_key(), new_key()
    before = LogKeys.from_keys(old).sign(Checkpoint(1, ROOT, AT))
    rotated = LogKeys.from_keys(f"{new},{old}")
    after = rotated.sign(Checkpoint(2, ROOT, AT))
    assert open_checkpoint(before, rotated.public_keys).size == 1
    assert open_checkpoint(after, LogKeys.from_keys(new).public_keys).size == 2
    with pytest.raises(BadCheckpoint):
        open_checkpoint(after, LogKeys.from_keys(old).public_keys)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "optline-checkpoint/1\nsize 8\n",
        "optline-checkpoint/2\nsize 8\nroot 00\ntime x\n\nsignature a b\n",
        "optline-checkpoint/1\nsize eight\nroot 00\ntime x\n\nsignature a b\n",
        f"optline-checkpoint/1\nsize 8\nroot {ROOT.hex()}\ntime 2026\n\nsignature a b\n",
        f"optline-checkpoint/1\nsize 08\nroot {ROOT.hex()}\ntime 2026-12-07T18:00:00.123456Z"
        "\n\nsignature a b\n",
        f"optline-checkpoint/1\nsize 8\nroot {ROOT.hex()}\ntime 2026-12-07T18:00:00.123456Z"
        "\n\nsignature a !!\n",
    ],
)
def test_a_malformed_checkpoint_is_refused(text: str) -> None:
    with pytest.raises(BadCheckpoint):
        open_checkpoint(text, LogKeys.from_keys(new_key()).public_keys)


def test_a_bad_key_setting_is_named() -> None:
    with pytest.raises(ValueError, match="key 2 is not 32 bytes"):
        LogKeys.from_keys(f"{new_key()},short")
    with pytest.raises(BadCheckpoint, match="not 32 bytes"):
        verify_key("AAAA")


def test_the_cli_makes_a_key_prints_its_public_key_and_checks_a_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    key = runner.invoke(cli_app, ["ledger", "new-key"]).stdout.strip()
    monkeypatch.setenv(LOG_KEY_ENV, key)
    public = runner.invoke(cli_app, ["ledger", "public-key"]).stdout.strip()
    assert public == public_key_text(LogKeys.from_keys(key).public_keys[0])
    path = tmp_path / "checkpoint.txt"
    path.write_text(LogKeys.from_keys(key).sign(Checkpoint(8, ROOT, AT)), encoding="utf-8")
    done = runner.invoke(cli_app, ["ledger", "check-checkpoint", str(path), "--key", public])
    assert done.exit_code == 0, done.output
    assert f"ok: size 8, root {ROOT.hex()}" in done.stdout
    path.write_text(path.read_text(encoding="utf-8").replace("size 8", "size 7"))
    done = runner.invoke(cli_app, ["ledger", "check-checkpoint", str(path), "--key", public])
    assert done.exit_code == 1
    assert "does not verify" in done.stdout
    monkeypatch.delenv(LOG_KEY_ENV)
    assert runner.invoke(cli_app, ["ledger", "public-key"]).exit_code == 2
