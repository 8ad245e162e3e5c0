"""The command line run in-process on a test database, for the CLI tests."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from optline.cli import app


class Cli:
    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> str:
        result = self.runner.invoke(app, ["--db", self.db_url, *args])
        assert result.exit_code == code, (args, result.output, result.stderr)
        return result.stdout

    def json(self, *args: str, code: int = 0) -> dict[str, Any]:
        out = self(*args, "--json", code=code)
        data = json.loads(out)  # exactly one JSON object, nothing else
        assert isinstance(data, dict)
        return data

    def error(self, *args: str) -> str:
        result = self.runner.invoke(app, ["--db", self.db_url, *args])
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        return lines[0]
