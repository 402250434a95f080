"""Check that a command line written in a deployment file is one dspo's CLI accepts."""

from __future__ import annotations

from typing import Any

import typer
import typer.main

from dspo.cli import app


def cli_accepts(argv: list[str]) -> None:
    """Parse argv as dspo's CLI would, down to the subcommand, without running it: an
    unknown command or option raises the CLI's own usage error."""
    assert argv[0] == "dspo", argv
    command: Any = typer.main.get_command(app)
    name, rest = "dspo", argv[1:]
    while hasattr(command, "resolve_command"):  # a group: descend into the subcommand
        name, command, rest = command.resolve_command(typer.Context(command), rest)
    command.make_context(name, list(rest))
