"""What every command shares: the project folder, the catalog, the project lock, printing."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from paxx_env.catalog import Catalog
    from paxx_env.declaration import Project
    from paxx_env.state import State
    from paxx_env.sync import SyncResult


class Options:
    """The global options, set by the app's callback before any command runs."""

    project_dir: Path = Path()


def start() -> Path:
    """The folder paxx runs in (-C / --project-dir, else the working directory)."""
    return (Path.cwd() / Options.project_dir).resolve()


def root() -> Path:
    """The project folder at or above the start folder (a UsageError when there is none)."""
    from paxx_env.paths import require_root

    return require_root(start())


def load_catalog() -> Catalog:
    """The catalog of services and features."""
    from paxx_env.catalog import load_catalog as load

    return load()


def open_project(catalog: Catalog, create: bool = False) -> Project:
    """The project at or above the start folder, its declaration validated."""
    from paxx_env.declaration import open_project as open_

    return open_(start(), catalog, create=create)


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the project's lock: paxx commands on one project never interleave."""
    from paxx_env.fsio import exclusive_lock
    from paxx_env.paths import project_lock_path
    from paxx_env.ui import waiting_for_lock
    from paxx_env.userstate import state_home_hint

    def waiting(holder: str) -> None:
        typer.echo(waiting_for_lock(holder), err=True)

    with exclusive_lock(project_lock_path(root), on_wait=waiting, hint=state_home_hint()):
        yield


@contextlib.contextmanager
def project_session(catalog: Catalog, create: bool = False) -> Iterator[Project]:
    """The project, opened again under its lock (another command may have just changed it)."""
    project = open_project(catalog, create=create)
    with locked(project.root):
        yield open_project(catalog, create=create)


def print_result(result: SyncResult, verbose: bool = False) -> None:
    """One line per file a sync touched (identical ones only when `verbose`), then notes."""
    from paxx_env.ui import print_actions

    print_actions([a for a in result.actions if verbose or a.verb != "identical"])
    for note in result.notes:
        typer.echo(f"     note  {note}")


def lock_note(result: SyncResult) -> None:
    """Say so when paxx.lock no longer matches the declaration."""
    if result.lock_problems:
        typer.echo(
            f"Note: paxx.lock is out of date ({'; '.join(result.lock_problems)}); "
            "run `paxx lock` before `paxx up`."
        )


def confirm_volumes(volumes: list[str], yes: bool) -> bool:
    """List the volumes about to be deleted; on a terminal, ask (unless --yes)."""
    typer.echo("These volumes and all the data in them will be deleted:")
    for volume in volumes:
        typer.echo(f"  {volume}")
    if yes or not sys.stdin.isatty():
        return True
    return typer.confirm("Delete them?", default=False)


def print_status(
    root: Path,
    json_output: bool,
    state: State | None = None,
    env_hash: str = "",
    target: str | None = None,
) -> None:
    """The status report of the project at `root` (report.py, or swarm/report.py), printed.

    `state` and `env_hash` when the caller has them already (it has just synced); `target`
    when --target names one.
    """
    from paxx_env.lastup import SWARM, LastUp, choose_target

    if choose_target(root, LastUp.load(root), target, "status") == SWARM:
        from paxx_env.swarm.report import swarm_report
        from paxx_env.ui import print_swarm_status

        print_swarm_status(swarm_report(root, state, env_hash), json_output)
        return
    from paxx_env.report import project_report
    from paxx_env.ui import print_status as print_report

    print_report(project_report(root, state, env_hash), json_output)
