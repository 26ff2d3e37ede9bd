"""The typer app: global options, every command registered, errors turned into exit codes."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from paxx_env import __version__
from paxx_env.commands import (
    common,
    dashboard,
    doctor,
    env,
    feature,
    lifecycle,
    reproducibility,
)
from paxx_env.errors import Interrupted, PaxxError, report

HELP = """\
paxx gives a Python web project a reproducible local service environment:
Redis, PostgreSQL with pgvector, S3 (MinIO), mail (Mailpit), search (Meilisearch)
and tracing (Jaeger), declared in pyproject.toml and run on Docker Compose
(or, with `paxx up --target swarm`, as a stack on a Swarm).

\b
  paxx feature add storage    declare a feature: Compose overlay, .env, dependencies
  paxx up                     start what is declared, wait until healthy
  paxx status                 state, health, ports and URLs of every service
  paxx down --volumes         stop, and delete this project's data

Ports bind to 127.0.0.1 only; passwords are generated per project into .env.
Docs: docs/commands/*.md and docs/features/*.md in the paxx repository.
"""

app = typer.Typer(
    name="paxx",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
feature_app = typer.Typer(
    help="List, add and remove features (service profiles).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(feature_app, name="feature")

# The order here is the order of `paxx --help`.
app.command()(feature.init)
feature_app.command("list")(feature.feature_list)
feature_app.command("add")(feature.feature_add)
feature_app.command("remove")(feature.feature_remove)
for command in (lifecycle.up, lifecycle.status, lifecycle.logs, lifecycle.down, doctor.doctor):
    app.command()(command)
for command in (
    reproducibility.lock,
    reproducibility.update,
    reproducibility.generations,
    reproducibility.diff,
    reproducibility.rollback,
    reproducibility.gc,
    env.env,
):
    app.command()(command)
app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(env.run)
app.command(help=dashboard.HELP)(dashboard.dashboard)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"paxx {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print debug logs (commands run, timings).")
    ] = False,
    project_dir: Annotated[
        Path,
        typer.Option(
            "--project-dir",
            "-C",
            help="Run as if paxx was started in this folder.",
            file_okay=False,
        ),
    ] = Path(),
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            help="The Docker context (engine) to use, as `docker --context`. Default: "
            "DOCKER_HOST, DOCKER_CONTEXT, or the engine the project's environment runs on.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Global options."""
    if verbose:
        from paxx_env import log

        log.enable()
    if context:
        from paxx_env.engine.target import choose_context

        choose_context(context)
    common.Options.project_dir = project_dir


def _interrupt(_signal: int, _frame: object) -> None:
    raise Interrupted(
        "interrupted",
        "run the command again: paxx writes its files atomically, so none is half-written",
    )


def main(argv: list[str] | None = None) -> None:
    """Run paxx; turn PaxxError into two lines on stderr and an exit code."""
    # Ctrl-C becomes a PaxxError (exit 130 with a message) wherever it lands; typer would
    # otherwise turn it into a silent exit.
    signal.signal(signal.SIGINT, _interrupt)
    try:
        app(args=argv, prog_name="paxx", standalone_mode=True)
    except PaxxError as error:
        report(error)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        report(Interrupted("interrupted", ""))
        sys.exit(Interrupted.exit_code)
