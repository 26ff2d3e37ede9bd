"""Commands of the reproducible environment: lock, update, generations, diff, rollback, gc.

Also env and run. They register on the same `paxx` app as the commands in cli.py.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from paxx_env.cli import _catalog, _locked, _open, _print_actions, _start, app
from paxx_env.errors import PaxxError, UsageError


class CommandNotFound(PaxxError):
    """`paxx run` could not start the command."""

    exit_code = 127


@app.command()
def lock() -> None:
    """Resolve every image tag to its registry digest and write paxx.lock.

    Entries that still match the declaration keep their digest; new or changed services
    are resolved by pulling through the Docker engine (and its registry mirror). Commit
    paxx.lock: with it, every machine runs the same images, by digest.
    """
    _lock_command(refresh=set(), command="lock")


@app.command()
def update(
    services: Annotated[
        list[str] | None, typer.Argument(help="Services to re-resolve (default: all).")
    ] = None,
) -> None:
    """Re-resolve locked images deliberately and show what changed.

    A tag can move to new content in its registry; `paxx update` follows it (the lock keeps
    the old digest until you do). Run `paxx up` afterwards to use the new images.
    """
    _lock_command(refresh=set(services or []), command="update", refresh_all=not services)


def _lock_command(refresh: set[str], command: str, refresh_all: bool = False) -> None:
    from paxx_env.engine import check_engine
    from paxx_env.lifecycle import check_services
    from paxx_env.lockfile import read_lock
    from paxx_env.render import render_project
    from paxx_env.resolve import resolve_lock
    from paxx_env.workspace import sync

    catalog = _catalog()
    project = _open(catalog)
    with _locked(project.root):
        project = _open(catalog)
        declaration = project.declaration
        render = render_project(
            catalog,
            list(declaration.features),
            project.app_name,
            project.source_label,
            image_overrides={k: v.image for k, v in declaration.services.items() if v.image},
        )
        images = render.declared_images
        if not images:
            raise UsageError(
                "no services are declared, so there is nothing to lock",
                "add a feature first, e.g. `paxx feature add cache`",
            )
        if refresh:
            check_services(sorted(refresh), sorted(images))
        if refresh_all:
            refresh = set(images)
        check_engine()
        current = read_lock(project.root)

        def resolving(service: str, image: str) -> None:
            typer.echo(f"resolving {service}: {image}", err=True)

        new, changes = resolve_lock(current, images, refresh, resolving)
        label = command + (f" {' '.join(sorted(refresh))}" if refresh and not refresh_all else "")
        result = sync(project, catalog, new_lock=new, command=label)
    for change in changes:
        if change.verb == "updated":
            typer.echo(f"  {change.service}: {change.old} -> {change.new}")
        elif change.verb == "added":
            typer.echo(f"  {change.service}: {change.image}@{change.new}")
        else:
            typer.echo(f"  {change.service}: unchanged ({change.new[:19]}…)")
    _print_actions(result)
    moved = [c for c in changes if c.verb != "unchanged"]
    if moved:
        typer.echo("Locked. Run `paxx up` to use these images; commit paxx.lock.")
    else:
        typer.echo("Nothing changed: every image is locked at its current digest.")


@app.command()
def generations() -> None:
    """List the recorded generations: number, time, command and what changed."""
    from paxx_env.generations import list_generations
    from paxx_env.ui import table

    root = _root()
    found = list_generations(root)
    if not found:
        typer.echo(
            "No generations yet: they are recorded by the commands that change the environment."
        )
        return
    rows = []
    for generation in found:
        mark = "*" if generation is found[-1] else ""
        rows.append(
            [f"{generation.number}{mark}", generation.time, generation.command, generation.summary]
        )
    typer.echo(table(rows, ["GEN", "TIME (UTC)", "COMMAND", "CHANGE"]))
    typer.echo("* current. `paxx diff N` shows a change; `paxx rollback N` restores a generation.")


@app.command()
def diff(
    older: Annotated[
        int | None, typer.Argument(help="A generation (default: the previous one).")
    ] = None,
    newer: Annotated[int | None, typer.Argument(help="Another (default: the current one).")] = None,
) -> None:
    """Show what changed between two generations (default: the last change)."""
    from paxx_env.generations import diff as diff_generations
    from paxx_env.generations import list_generations

    root = _root()
    numbers = [g.number for g in list_generations(root)]
    if newer is None:
        if not numbers:
            raise UsageError(
                "there are no generations yet",
                "they are recorded by `paxx feature add`, `up`, `lock`...",
            )
        newer = numbers[-1]
    if older is None:
        before = [n for n in numbers if n < newer]
        if not before:
            raise UsageError(
                f"generation {newer} is the first one, so there is nothing before it to compare",
                "`paxx generations` lists them",
            )
        older = before[-1]
    text = diff_generations(root, older, newer)
    typer.echo(text if text else f"Generations {older} and {newer} are identical.", nl=not text)


@app.command()
def rollback(
    generation: Annotated[
        int | None, typer.Argument(help="The generation to restore (default: the previous one).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite generated files you edited (a copy is kept).")
    ] = False,
) -> None:
    """Restore the declaration, lock and generated files of a generation.

    The rollback is itself recorded as a new generation, so it can be undone too. Running
    services are not touched: run `paxx up` to apply it.
    """
    import tomllib

    import tomlkit

    from paxx_env.generations import DECLARATION, list_generations, load_files
    from paxx_env.lockfile import LOCK_FILE, parse_lock
    from paxx_env.spec import Project, validate
    from paxx_env.workspace import sync

    catalog = _catalog()
    project = _open(catalog)
    with _locked(project.root):
        project = _open(catalog)
        numbers = [g.number for g in list_generations(project.root)]
        if generation is None:
            if len(numbers) < 2:
                raise UsageError(
                    "there is no earlier generation to roll back to",
                    "`paxx generations` lists them",
                )
            generation = numbers[-2]
        files = load_files(project.root, generation)
        try:
            table = tomllib.loads(files[DECLARATION].decode())
        except (KeyError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            raise UsageError(
                f"generation {generation} is damaged: its {DECLARATION} is missing or not TOML",
                "roll back to another generation (`paxx generations` lists them)",
            ) from None
        declaration = validate(table, project.source, catalog)
        document = project.document
        if project.has_pyproject:
            tool = document.setdefault("tool", tomlkit.table(is_super_table=True))
            tool["paxx"] = tomlkit.item(table)
        else:
            document = tomlkit.document()
            for key, value in table.items():
                document[key] = value
        restored = Project(project.root, project.source, document, declaration, True)
        lock_text = files.get(LOCK_FILE)
        new_lock = parse_lock(lock_text.decode()) if lock_text else None
        result = sync(
            restored,
            catalog,
            features=list(declaration.features),
            new_lock=new_lock,
            force=force,
            command=f"rollback {generation}",
        )
    _print_actions(result)
    typer.echo(f"Restored generation {generation}. Run `paxx up` to apply it to the services.")


@app.command()
def gc(
    keep: Annotated[
        int, typer.Option("--keep", help="How many recent generations to keep.", min=1)
    ] = 10,
) -> None:
    """Delete old generations, keeping the most recent ones."""
    from paxx_env.generations import prune

    root = _root()
    with _locked(root):
        deleted = prune(root, keep)
    if deleted:
        typer.echo(f"Deleted {len(deleted)} generation(s): {', '.join(map(str, deleted))}.")
    else:
        typer.echo(f"Nothing to delete: at most {keep} generation(s) are recorded.")


def _root() -> Path:
    from paxx_env.paths import require_root

    return require_root(_start())


def _app_environment(show_secrets: bool) -> tuple[dict[str, str], list[str]]:
    """The variables the app needs (not Compose's), and the names of those holding secrets."""
    from paxx_env.render import template_variables
    from paxx_env.workspace import sync

    catalog = _catalog()
    project = _open(catalog)
    with _locked(project.root):
        project = _open(catalog)
        result = sync(project, catalog, command="env")
    entries = [e for s in result.render.env for e in s.entries if not e.key.startswith("COMPOSE_")]
    secret_keys = {e.key for e in entries if e.kind == "secret"}
    secret_bearing = {
        e.key for e in entries if e.kind == "secret" or template_variables(e.template) & secret_keys
    }
    values = {e.key: result.values[e.key] for e in entries}
    hidden = [] if show_secrets else [k for k in values if k in secret_bearing]
    return {k: v for k, v in values.items() if k not in hidden}, hidden


@app.command()
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

    if output_format not in {"dotenv", "json", "shell"}:
        raise UsageError(
            f"unknown format {output_format!r}",
            "use --format dotenv, --format json or --format shell",
        )
    values, hidden = _app_environment(show_secrets)
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


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def run(
    command: Annotated[
        list[str] | None, typer.Argument(help="The command and its arguments, after --.")
    ] = None,
) -> None:
    """Run a command with the app's variables set; its exit code is paxx's.

    For example `paxx run -- pytest` or `paxx run -- arq myapp.tasks.WorkerSettings`.
    """
    if not command:
        raise UsageError(
            "no command given", "write it after --, e.g. `paxx run -- python -m myapp`"
        )
    values, _ = _app_environment(show_secrets=True)
    environment = {**os.environ, **values}
    try:
        child = subprocess.Popen(command, env=environment)
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
    signal.signal(signal.SIGINT, lambda _signal, _frame: None)
    return child.wait()
