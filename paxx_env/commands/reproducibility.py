"""`paxx lock`, `update`, `generations`, `diff`, `rollback`, `gc`: the reproducible environment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from paxx_env.commands import common

if TYPE_CHECKING:
    from paxx_env.resolve import LockChange


def lock() -> None:
    """Resolve every image tag to its registry digest and write paxx.lock.

    Entries that still match the declaration keep their digest; new or changed services
    are resolved by pulling through the Docker engine (and its registry mirror). Commit
    paxx.lock: with it, every machine runs the same images, by digest.
    """
    _lock(set(), "lock")


def update(
    services: Annotated[
        list[str] | None, typer.Argument(help="Services to re-resolve (default: all).")
    ] = None,
) -> None:
    """Re-resolve locked images deliberately and show what changed.

    A tag can move to new content in its registry; `paxx update` follows it (the lock keeps
    the old digest until you do). Run `paxx up` afterwards to use the new images.
    """
    _lock(set(services) if services else None, "update")


def _lock(refresh: set[str] | None, command: str) -> None:
    from paxx_env.resolve import lock_project

    def resolving(service: str, image: str) -> None:
        typer.echo(f"resolving {service}: {image}", err=True)

    catalog = common.load_catalog()
    with common.project_session(catalog) as project:
        result, changes = lock_project(project, catalog, refresh, command, resolving)
    for change in changes:
        typer.echo(_describe(change))
    common.print_result(result)
    if any(c.verb != "unchanged" for c in changes):
        typer.echo("Locked. Run `paxx up` to use these images; commit paxx.lock.")
    else:
        typer.echo("Nothing changed: every image is locked at its current digest.")


def _describe(change: LockChange) -> str:
    if change.verb == "updated":
        return f"  {change.service}: {change.old} -> {change.new}"
    if change.verb == "added":
        return f"  {change.service}: {change.image}@{change.new}"
    return f"  {change.service}: unchanged ({change.new[:19]}…)"


def generations() -> None:
    """List the recorded generations: number, time, command and what changed."""
    from paxx_env.generations import list_generations
    from paxx_env.ui import table

    found = list_generations(common.root())
    if not found:
        typer.echo(
            "No generations yet: they are recorded by the commands that change the environment."
        )
        return
    rows = [
        [f"{g.number}{'*' if g is found[-1] else ''}", g.time, g.command, g.summary] for g in found
    ]
    typer.echo(table(rows, ["GEN", "TIME (UTC)", "COMMAND", "CHANGE"]))
    typer.echo("* current. `paxx diff N` shows a change; `paxx rollback N` restores a generation.")


def diff(
    older: Annotated[
        int | None, typer.Argument(help="A generation (default: the previous one).")
    ] = None,
    newer: Annotated[int | None, typer.Argument(help="Another (default: the current one).")] = None,
) -> None:
    """Show what changed between two generations (default: the last change)."""
    from paxx_env.generations import diff_between

    older, newer, text = diff_between(common.root(), older, newer)
    typer.echo(text if text else f"Generations {older} and {newer} are identical.", nl=not text)


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
    from paxx_env.rollback import rollback as restore

    catalog = common.load_catalog()
    with common.project_session(catalog) as project:
        restored, result = restore(project, catalog, generation, force)
    common.print_result(result)
    typer.echo(f"Restored generation {restored}. Run `paxx up` to apply it to the services.")


def gc(
    keep: Annotated[
        int, typer.Option("--keep", help="How many recent generations to keep.", min=1)
    ] = 10,
) -> None:
    """Delete old generations, keeping the most recent ones."""
    from paxx_env.generations import prune

    root = common.root()
    with common.locked(root):
        deleted = prune(root, keep)
    if deleted:
        typer.echo(f"Deleted {len(deleted)} generation(s): {', '.join(map(str, deleted))}.")
    else:
        typer.echo(f"Nothing to delete: at most {keep} generation(s) are recorded.")
