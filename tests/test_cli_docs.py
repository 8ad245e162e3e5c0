"""docs/cli.md against the Typer app: every command has a usage line there, and that
line names every one of the command's options."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.core import TyperGroup

from optline.cli import app

DOC = Path(__file__).parent.parent / "docs" / "cli.md"


def _commands(group: TyperGroup, path: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every runnable command of the app by its full name (``contacts import``)."""
    found: dict[str, Any] = {}
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            found.update(_commands(command, (*path, name)))
        else:
            found[" ".join((*path, name))] = command
    return found


def _usage_lines() -> list[str]:
    """The doc's ``optline ...`` lines inside code blocks, with their continuation
    lines (indented) joined on."""
    usages: list[str] = []
    for block in re.findall(r"^```\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S):
        for line in block.splitlines():
            if line.startswith("optline "):
                usages.append(line)
            elif line.startswith(" ") and usages and line.strip():
                usages[-1] += " " + line.strip()
    return usages


_ROOT = typer.main.get_command(app)
assert isinstance(_ROOT, TyperGroup)
COMMANDS = _commands(_ROOT)


def test_the_app_has_the_commands_the_doc_is_checked_for() -> None:
    assert {"accounts create", "contacts import", "ledger check-proof", "serve"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_and_option_is_documented(name: str) -> None:
    usages = [u for u in _usage_lines() if re.match(rf"optline {re.escape(name)}(\s|$)", u)]
    assert usages, f"docs/cli.md has no usage line for `optline {name}`"
    usage = " ".join(usages)
    options = [
        opt
        for param in COMMANDS[name].params
        if param.param_type_name == "option"
        for opt in param.opts
        if opt.startswith("--") and opt != "--help"
    ]
    missing = [opt for opt in options if not re.search(rf"{re.escape(opt)}(?![\w-])", usage)]
    assert not missing, f"`optline {name}` in docs/cli.md lacks {missing}"
