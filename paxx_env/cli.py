"""The `paxx` command line: parse, call, print. The one place errors become exit codes.

Heavy modules (the catalog, rendering, python-on-whales) are imported inside the commands
that need them, so `paxx --help`, `paxx --version` and `paxx status` start quickly.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from paxx_env import __version__
from paxx_env.errors import Interrupted, PaxxError, UsageError, report

if TYPE_CHECKING:
    from paxx_env.catalog import Catalog
    from paxx_env.spec import Project
    from paxx_env.workspace import SyncResult

HELP = """\
paxx gives a Python web project a reproducible local service environment:
Redis, PostgreSQL with pgvector, S3 (MinIO), mail (Mailpit), search (Meilisearch)
and tracing (Jaeger), declared in pyproject.toml and run on Docker Compose.

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


class _Options:
    project_dir: Path = Path()


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
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Global options."""
    if verbose:
        from paxx_env import log

        log.enable()
    _Options.project_dir = project_dir


# ----------------------------------------------------------------------------- helpers


def _start() -> Path:
    return (Path.cwd() / _Options.project_dir).resolve()


def _catalog() -> Catalog:
    from paxx_env.catalog import load_catalog

    return load_catalog()


def _open(catalog: Catalog, create: bool = False) -> Project:
    from paxx_env.spec import open_project

    return open_project(_start(), catalog, create=create)


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    from paxx_env.fsio import exclusive_lock
    from paxx_env.userstate import project_lock_path

    def waiting(holder: str) -> None:
        who = f" (pid {holder})" if holder else ""
        typer.echo(f"waiting for another paxx command on this project{who} to finish...", err=True)

    with exclusive_lock(project_lock_path(root), on_wait=waiting):
        yield


def _print_actions(result: SyncResult, verbose: bool = False) -> None:
    from paxx_env.ui import print_actions

    shown = [a for a in result.actions if verbose or a.verb != "identical"]
    print_actions(shown)
    for note in result.notes:
        typer.echo(f"     note  {note}")


def _lock_note(result: SyncResult) -> None:
    if result.lock_problems:
        typer.echo(
            f"Note: paxx.lock is out of date ({'; '.join(result.lock_problems)}); "
            "run `paxx lock` before `paxx up`."
        )


def _confirm_volumes(volumes: list[str], yes: bool) -> bool:
    typer.echo("These volumes and all the data in them will be deleted:")
    for volume in volumes:
        typer.echo(f"  {volume}")
    if yes or not sys.stdin.isatty():
        return True
    return typer.confirm("Delete them?", default=False)


# ----------------------------------------------------------------------------- commands


@app.command()
def init() -> None:
    """Start a declaration: [tool.paxx] in pyproject.toml, or paxx.toml if there is none.

    Optional: `paxx feature add` does the same on first use.
    """
    catalog = _catalog()
    project = _open(catalog, create=True)
    if project.initialized:
        typer.echo(f"Nothing to do: {project.source_label} already declares this project.")
        return
    from paxx_env.workspace import sync

    with _locked(project.root):
        result = sync(project, catalog, features=[], command="init")
    _print_actions(result)
    typer.echo(f"Declared an empty environment in {project.source_label}.")
    typer.echo("Next: `paxx feature list`, then `paxx feature add NAME`.")


@feature_app.command("list")
def feature_list() -> None:
    """Show every feature, the services it runs and whether it is enabled here."""
    from paxx_env.paths import find_root
    from paxx_env.ui import table

    catalog = _catalog()
    enabled: set[str] = set()
    closure: set[str] = set()
    if find_root(_start()) is not None:
        project = _open(catalog)
        enabled = set(project.declaration.features)
        closure = set(catalog.closure(list(enabled)))
    rows = []
    for name, feature in sorted(catalog.features.items()):
        profile = feature.profile
        services = catalog.services_for([name])
        if name in enabled:
            mark = "yes"
        elif name in closure:
            mark = "required"
        else:
            mark = ""
        rows.append([name, ", ".join(services), mark, profile.summary])
    typer.echo(table(rows, ["FEATURE", "SERVICES", "ENABLED", "WHAT IT GIVES YOU"]))


@feature_app.command("add")
def feature_add(
    names: Annotated[list[str], typer.Argument(help="Features to enable, e.g. storage cache.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite generated files you edited (a copy is kept)."),
    ] = False,
) -> None:
    """Enable features: write their Compose overlays, .env entries and dependencies.

    Host ports are chosen on 127.0.0.1 (the service's usual port, or the next free one) and
    kept in .env; secrets are generated once per project. Running it again changes nothing.
    """
    from paxx_env.spec import check_feature
    from paxx_env.workspace import sync

    catalog = _catalog()
    for name in names:
        check_feature(name, catalog)
    project = _open(catalog, create=True)
    with _locked(project.root):
        project = _open(catalog, create=True)
        declared = list(project.declaration.features)
        new = [n for n in dict.fromkeys(names) if n not in declared]
        wanted = declared + new
        # Nothing new: keep the declared list as the user ordered it.
        result = sync(
            project,
            catalog,
            features=wanted if new or not project.initialized else None,
            force=force,
            command=f"feature add {' '.join(names)}",
        )
    _print_actions(result)
    requested = ", ".join(dict.fromkeys(names))
    if not result.changed:
        typer.echo(f"Nothing to change: {requested} already enabled and every file up to date.")
        return
    implied = sorted(set(result.render.features) - set(wanted))
    services = sorted({s for n in names for s in catalog.services_for([n])})
    typer.echo(f"Enabled {requested}" + (f" (services: {', '.join(services)})" if services else ""))
    if implied:
        typer.echo(f"Also enabled, as required: {', '.join(implied)}")
    _lock_note(result)
    typer.echo("Next: `paxx up` starts the services.")


@feature_app.command("remove")
def feature_remove(
    names: Annotated[list[str], typer.Argument(help="Features to disable.")],
    volumes: Annotated[
        bool,
        typer.Option("--volumes", help="Also delete the data volumes of services no longer used."),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before deleting data.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Remove generated files even if you edited them (a copy is kept)."
        ),
    ] = False,
) -> None:
    """Disable features and undo what `feature add` wrote.

    Containers of services no longer needed are stopped; their data volumes are kept unless
    you pass --volumes.
    """
    from paxx_env.spec import check_feature
    from paxx_env.workspace import forget_secrets, sync

    catalog = _catalog()
    for name in names:
        check_feature(name, catalog)
    project = _open(catalog)
    with _locked(project.root):
        project = _open(catalog)
        declared = list(project.declaration.features)
        closure = catalog.closure(declared)
        for name in names:
            if name not in declared:
                if name in closure:
                    needs = [f for f in declared if name in catalog.closure([f])]
                    raise UsageError(
                        f"{name} is not declared itself; {', '.join(needs)} requires it",
                        f"remove {', '.join(needs)} instead",
                    )
                raise UsageError(
                    f"feature {name!r} was never added to this project",
                    f"enabled features: {', '.join(declared) or 'none'}",
                )
        remaining = [f for f in declared if f not in names]
        before = set(catalog.services_for(declared))
        gone = sorted(before - set(catalog.services_for(remaining)))
        engine_ok = _engine_reachable(required=volumes)
        volume_names = {v for s in gone for v in catalog.services[s].volumes} if volumes else set()
        if volume_names:
            # Ask before anything changes: a "no" leaves files, services and data as they are.
            from paxx_env.engine import project_volumes
            from paxx_env.state import load_state

            existing = project_volumes(load_state(project.root).project, volume_names)
            if existing and not _confirm_volumes(existing, yes):
                raise PaxxError(
                    "cancelled: nothing was changed",
                    f"`paxx feature remove {' '.join(names)}` without --volumes keeps the data",
                )
        result = sync(
            project,
            catalog,
            features=remaining,
            force=force,
            command=f"feature remove {' '.join(names)}",
        )
        _print_actions(result)
        deleted: list[str] = []
        if engine_ok and gone:
            from paxx_env.lifecycle import teardown

            down = teardown(result.project_name, set(gone), volume_names, lambda _: True)
            deleted = down.volumes
            for service in down.containers:
                typer.echo(f"  stopped  {service}")
            if deleted:
                forget_secrets(project.root, catalog, gone)
                for volume in deleted:
                    typer.echo(f"  deleted  volume {volume}")
    typer.echo(f"Removed {', '.join(names)}.")
    kept = sorted({v for s in gone for v in catalog.services[s].volumes})
    if kept and not deleted:
        typer.echo(
            f"Kept the data of {', '.join(gone)} (volumes: {', '.join(kept)}); "
            "`paxx down --volumes` deletes it."
        )


def _engine_reachable(required: bool) -> bool:
    from paxx_env.engine import check_engine
    from paxx_env.errors import EngineError

    try:
        check_engine()
    except EngineError:
        if required:
            raise
        return False
    return True


@app.command()
def up(
    services: Annotated[
        list[str] | None, typer.Argument(help="Services to start (default: all declared).")
    ] = None,
    timeout: Annotated[
        int, typer.Option("--timeout", "-t", help="Seconds to wait for health.", min=1)
    ] = 180,
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite generated files you edited (a copy is kept)."),
    ] = False,
) -> None:
    """Start the declared services and wait until every one is healthy.

    Regenerates what the declaration implies, pulls only missing images, starts the
    containers and shows one line per service until it is healthy. On failure it names the
    service and shows its last health-check output and log lines; the others keep running.
    """
    from paxx_env import lifecycle
    from paxx_env.ui import Progress

    catalog = _catalog()
    project = _open(catalog)
    with _locked(project.root):
        project = _open(catalog)
        with Progress(services or []) as progress:
            result = lifecycle.up(project, catalog, services or [], timeout, force, progress)
    _print_actions(result)
    _print_status(project.root, json_output=False)


@app.command()
def status(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON (schema in docs/commands/status.md).")
    ] = False,
) -> None:
    """Show state, health, host ports and URLs of every declared service.

    Works whether or not anything is running.
    """
    from paxx_env.paths import require_root

    root = require_root(_start())
    _print_status(root, json_output)


def _print_status(root: Path, json_output: bool) -> None:
    from paxx_env.status import print_status

    print_status(root, json_output)


@app.command()
def logs(
    service: Annotated[str | None, typer.Argument(help="One service (default: all).")] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines.")
    ] = False,
    tail: Annotated[
        int | None, typer.Option("--tail", "-n", help="Only the last N lines of each.", min=0)
    ] = None,
) -> None:
    """Print the logs of the services (Ctrl-C stops following)."""
    from paxx_env import engine
    from paxx_env.lifecycle import check_services
    from paxx_env.paths import ENV_FILE, find_root
    from paxx_env.state import load_state

    root = find_root(_start())
    state = load_state(root) if root else None
    if root is None or state is None or not state.project:
        raise UsageError(
            "this project has not been started yet, so there are no logs",
            "run `paxx up` first",
        )
    declared = sorted(state.services)
    chosen = check_services([service], declared) if service else declared
    engine.check_engine()
    stack = engine.Project(root, state.project, state.compose_files, ENV_FILE)
    code = stack.stream_logs(chosen, follow, tail)
    if code:
        raise typer.Exit(128 - code if code < 0 else code)


@app.command()
def down(
    volumes: Annotated[
        bool,
        typer.Option("--volumes", help="Also delete this project's data volumes (asks first)."),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before deleting volumes.")
    ] = False,
) -> None:
    """Stop and remove the project's containers; keep the data unless --volumes.

    With --volumes, the project's data volumes are listed and, on a terminal, paxx asks
    before deleting them (--yes skips the question; without a terminal nobody is asked).
    Volumes of other projects are never touched.
    """
    from paxx_env import lifecycle
    from paxx_env.engine import check_engine
    from paxx_env.paths import require_root
    from paxx_env.state import load_state

    root = require_root(_start())
    state = load_state(root)
    if not state.project:
        typer.echo("Nothing to stop: this project has not been started.")
        return
    check_engine()
    volume_names: set[str] = set()
    if volumes:
        catalog = _catalog()
        volume_names = {v for s in catalog.services.values() for v in s.volumes}
    with _locked(root):
        result = lifecycle.teardown(
            state.project, None, volume_names, lambda vs: _confirm_volumes(vs, yes)
        )
        if result.volumes:
            from paxx_env.workspace import forget_secrets

            catalog = _catalog()
            gone = [n for n in catalog.services if n not in state.services]
            forget_secrets(root, catalog, gone)
    stopped = ", ".join(result.containers) or "nothing was running"
    typer.echo(f"Stopped and removed: {stopped}.")
    if result.volumes:
        typer.echo(f"Deleted {len(result.volumes)} volume(s): {', '.join(result.volumes)}.")
    elif volumes:
        typer.echo("No data volumes to delete.")
    else:
        typer.echo("Data volumes kept; `paxx down --volumes` deletes them.")


@app.command()
def doctor() -> None:
    """Check the engine, Compose, health-check support, ports, disk space and generated files.

    Each check prints ok, warn or fail with a fix; the exit code is 1 when any check fails.
    """
    from paxx_env.doctor import FAIL, run_checks
    from paxx_env.paths import find_root

    catalog = _catalog()
    project = _open(catalog) if find_root(_start()) is not None else None
    failed = False
    for check in run_checks(project, catalog):
        typer.echo(f"{check.status:<5} {check.name:<14} {check.message}")
        if check.fix and check.status != "ok":
            typer.echo(f"{'':<20} fix: {check.fix}")
        failed = failed or check.status == FAIL
    if failed:
        raise typer.Exit(1)


# ----------------------------------------------------------------------------- entry point


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


# The commands of the reproducible environment register on `app` when their module loads.
from paxx_env import cli_env  # noqa: E402, F401  (import for its side effect, after `app`)
