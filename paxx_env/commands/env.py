"""`paxx env` and `paxx run`: the app's variables, printed or passed to a command."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from typing import Annotated

import typer

from paxx_env.commands import common

FORMATS = ("dotenv", "json", "shell")


def _variables(show_secrets: bool) -> tuple[dict[str, str], list[str]]:
    from paxx_env.variables import app_variables

    catalog = common.load_catalog()
    with common.project_session(catalog) as project:
        found = app_variables(project, catalog, show_secrets)
    return found.values, found.hidden


def env(
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="dotenv, json or shell.")
    ] = "dotenv",
    show_secrets: Annotated[
        bool,
        typer.Option("--show-secrets", help="Also print passwords, keys and URLs holding them."),
    ] = False,
) -> None:
    """Print the variables the app needs (secrets only with --show-secrets).

    `eval "$(paxx env --format shell --show-secrets)"` loads them into a shell;
    `paxx run -- CMD` runs one command with them.
    """
    from paxx_env.dotenv import format_line
    from paxx_env.errors import UsageError

    if output_format not in FORMATS:
        raise UsageError(
            f"unknown format {output_format!r}",
            "use --format dotenv, --format json or --format shell",
        )
    values, hidden = _variables(show_secrets)
    if output_format == "json":
        typer.echo(json.dumps(values, indent=2))
    elif output_format == "shell":
        for key, value in values.items():
            typer.echo(f"export {key}={shlex.quote(value)}")
    else:
        for key, value in values.items():
            typer.echo(format_line(key, value))
    if hidden:
        typer.echo(
            f"# not shown, they hold secrets: {', '.join(hidden)} (--show-secrets prints them)",
            err=True,
        )


def run(
    command: Annotated[
        list[str] | None, typer.Argument(help="The command and its arguments, after --.")
    ] = None,
) -> None:
    """Run a command with the app's variables set; its exit code is paxx's.

    For example `paxx run -- pytest` or `paxx run -- arq myapp.tasks.WorkerSettings`.
    """
    from paxx_env.errors import CommandNotFound, UsageError

    if not command:
        raise UsageError(
            "no command given", "write it after --, e.g. `paxx run -- python -m myapp`"
        )
    values, _ = _variables(show_secrets=True)
    try:
        child = subprocess.Popen(command, env={**os.environ, **values})
    except FileNotFoundError:
        raise CommandNotFound(
            f"command not found: {command[0]}",
            "check the spelling, or that it is installed in this environment",
        ) from None
    except PermissionError:
        raise CommandNotFound(
            f"cannot run {command[0]}: permission denied", "make it executable (chmod +x)"
        ) from None
    code = wait_passing_signals(child)
    sys.exit(128 - code if code < 0 else code)


def wait_passing_signals(child: subprocess.Popen[bytes]) -> int:
    """Wait for a child that shares the terminal: Ctrl-C is the child's to handle.

    The terminal sends SIGINT to the whole process group, so the child gets it directly;
    paxx only waits for it to finish (a Python handler, unlike SIG_IGN, is not inherited).
    """
    import signal

    signal.signal(signal.SIGINT, lambda _signal, _frame: None)
    return child.wait()
