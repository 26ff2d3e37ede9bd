"""`paxx up`, `status`, `logs` and `down`: the running environment."""

from __future__ import annotations

from typing import Annotated

import typer

from paxx_env.commands import common
from paxx_env.commands.feature import FORCE_HELP


def up(
    services: Annotated[
        list[str] | None, typer.Argument(help="Services to start (default: all declared).")
    ] = None,
    timeout: Annotated[
        int, typer.Option("--timeout", "-t", help="Seconds to wait for health.", min=1)
    ] = 180,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Start the declared services and wait until every one is healthy.

    Regenerates what the declaration implies (unless nothing changed since the last time),
    pulls only missing images, starts the containers and shows one line per service until
    it answers. On failure it names the service and shows its last health-check output and
    log lines; the others keep running.
    """
    from paxx_env import lifecycle
    from paxx_env.paths import find_root
    from paxx_env.ui import Progress

    root = find_root(common.start())
    if root is not None and not force:
        from paxx_env.quickstart import prepare

        with common.locked(root):
            quick = prepare(root, services or [])
            if quick is not None:
                with Progress(quick.targets) as progress:
                    quick.run(timeout, progress)
        if quick is not None:
            common.print_status(root, False, quick.state, quick.state.env_hash)
            return
    catalog = common.load_catalog()
    with (
        common.project_session(catalog) as project,
        Progress(services or []) as progress,
    ):
        result = lifecycle.up(project, catalog, services or [], timeout, force, progress)
    common.print_result(result)
    common.print_status(project.root, False, result.state, result.env_hash)


def status(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON (schema in docs/commands/status.md).")
    ] = False,
) -> None:
    """Show state, health, host ports and URLs of every declared service.

    Works whether or not anything is running.
    """
    common.print_status(common.root(), json_output)


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
    from paxx_env.errors import UsageError
    from paxx_env.lifecycle import stream_logs
    from paxx_env.paths import find_root

    root = find_root(common.start())
    if root is None:
        raise UsageError(
            "this project has not been started yet, so there are no logs", "run `paxx up` first"
        )
    code = stream_logs(root, service, follow, tail)
    if code:
        raise typer.Exit(128 - code if code < 0 else code)


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
    from paxx_env.lifecycle import down as take_down

    root = common.root()
    catalog = common.load_catalog() if volumes else None
    with common.locked(root):
        result = take_down(root, catalog, lambda vs: common.confirm_volumes(vs, yes))
    if result is None:
        typer.echo("Nothing to stop: this project has not been started.")
        return
    stopped = ", ".join(result.containers) or "nothing was running"
    typer.echo(f"Stopped and removed: {stopped}.")
    if result.volumes:
        typer.echo(f"Deleted {len(result.volumes)} volume(s): {', '.join(result.volumes)}.")
    elif volumes:
        typer.echo("No data volumes to delete.")
    else:
        typer.echo("Data volumes kept; `paxx down --volumes` deletes them.")
