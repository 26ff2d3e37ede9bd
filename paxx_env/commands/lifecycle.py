"""`paxx up`, `status`, `logs` and `down`: the running environment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from paxx_env.commands import common
from paxx_env.commands.feature import FORCE_HELP

if TYPE_CHECKING:
    from paxx_env.catalog import Catalog
    from paxx_env.declaration import Project

TARGET_HELP = (
    "Where the services run: compose (default) or swarm (a stack on the engine's Swarm, "
    "docs/swarm.md). Default: [tool.paxx] target, else where the last `up` ran them."
)


def up(
    services: Annotated[
        list[str] | None, typer.Argument(help="Services to start (default: all declared).")
    ] = None,
    timeout: Annotated[
        int, typer.Option("--timeout", "-t", help="Seconds to wait for health.", min=1)
    ] = 180,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
    target: Annotated[str | None, typer.Option("--target", help=TARGET_HELP)] = None,
    publish: Annotated[
        list[str] | None,
        typer.Option(
            "--publish",
            help="Swarm only: publish this service's ports, on every interface of the node "
            "that runs it (repeat for more). Without it, nothing is published.",
        ),
    ] = None,
) -> None:
    """Start the declared services and wait until every one is healthy.

    Regenerates what the declaration implies (unless nothing changed since the last time),
    pulls only missing images, starts the containers and shows one line per service until
    it answers. On failure it names the service and shows its last health-check output and
    log lines; the others keep running. With --target swarm, deploys them as a stack on the
    engine's Swarm instead.
    """
    from paxx_env import lifecycle
    from paxx_env.errors import UsageError
    from paxx_env.lastup import SWARM, LastUp, choose_target
    from paxx_env.ui import Progress

    if not force and target is None and not publish and _up_quickly(services or [], timeout):
        return
    catalog = common.load_catalog()
    with common.project_session(catalog) as project:
        chosen = choose_target(project.root, LastUp.load(project.root), target, "up")
        if chosen == SWARM:
            if services:
                raise UsageError(
                    "a Swarm stack is deployed whole: `paxx up --target swarm` takes no services",
                    "run it without service names",
                )
            return _up_swarm(project, catalog, timeout, force, publish or [])
        if publish:
            raise UsageError(
                "--publish is for --target swarm; with Compose every port is published, "
                "on 127.0.0.1 only",
                "drop --publish, or add --target swarm",
            )
        with Progress(services or []) as progress:
            result = lifecycle.up(project, catalog, services or [], timeout, force, progress)
    common.print_result(result)
    common.print_status(project.root, False, result.state, result.env_hash)


def _up_quickly(services: list[str], timeout: int) -> bool:
    """`up` without a sync when the folder is what the last one left (quickstart.py)."""
    from paxx_env.paths import find_root
    from paxx_env.quickstart import prepare
    from paxx_env.ui import Progress

    root = find_root(common.start())
    if root is None:
        return False
    with common.locked(root):
        quick = prepare(root, services)
        if quick is None:
            return False
        with Progress(quick.targets) as progress:
            quick.run(timeout, progress)
    common.print_status(root, False, quick.state, quick.state.env_hash)
    return True


def _up_swarm(
    project: Project, catalog: Catalog, timeout: int, force: bool, publish: list[str]
) -> None:
    from paxx_env.swarm.deploy import up as deploy
    from paxx_env.swarm.report import swarm_report
    from paxx_env.ui import Progress, print_swarm_status

    declared = list(project.declaration.selection(catalog).services)
    with Progress(declared) as progress:
        done = deploy(project, catalog, timeout, force, publish, progress)
    common.print_result(done.result)
    for note in done.notes:
        typer.echo(f"     note  swarm: {note}")
    for service, ports in done.published.items():
        typer.echo(
            f"warning: {service}'s ports ({', '.join(map(str, ports))}) are published on "
            "every interface of the node that runs it, not on 127.0.0.1: whoever can reach "
            "that node can reach them",
            err=True,
        )
    print_swarm_status(swarm_report(project.root, done.result.state, done.result.env_hash), False)


def status(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON (schema in docs/commands/status.md).")
    ] = False,
    target: Annotated[str | None, typer.Option("--target", help=TARGET_HELP)] = None,
) -> None:
    """Show state, health, host ports and URLs of every declared service.

    Works whether or not anything is running. For a Swarm stack: replicas, health, the
    node of each service and the ports it publishes.
    """
    common.print_status(common.root(), json_output, target=target)


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
    from paxx_env.lastup import SWARM, LastUp, choose_target
    from paxx_env.lifecycle import stream_logs
    from paxx_env.paths import find_root
    from paxx_env.swarm.logs import stream_logs as stream_stack_logs

    root = find_root(common.start())
    if root is None:
        raise UsageError(
            "this project has not been started yet, so there are no logs", "run `paxx up` first"
        )
    if choose_target(root, LastUp.load(root), None, "logs") == SWARM:
        code = stream_stack_logs(root, service, follow, tail)
    else:
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
    target: Annotated[str | None, typer.Option("--target", help=TARGET_HELP)] = None,
) -> None:
    """Stop and remove the project's containers; keep the data unless --volumes.

    With --volumes, the project's data volumes are listed and, on a terminal, paxx asks
    before deleting them (--yes skips the question; without a terminal nobody is asked).
    Volumes of other projects are never touched. On Swarm, removes the stack, and its
    secrets and network.
    """
    from paxx_env.lastup import SWARM, LastUp, choose_target
    from paxx_env.lifecycle import Teardown
    from paxx_env.lifecycle import down as take_down
    from paxx_env.swarm.remove import down as remove_stack
    from paxx_env.ui import teardown_lines

    root = common.root()
    catalog = common.load_catalog() if volumes else None

    def confirm(found: list[str]) -> bool:
        return common.confirm_volumes(found, yes)

    with common.locked(root):
        if choose_target(root, LastUp.load(root), target, "down") == SWARM:
            removed = remove_stack(root, catalog, confirm)
            result = Teardown(removed.services, removed.volumes) if removed else None
        else:
            result = take_down(root, catalog, confirm)
    for line in teardown_lines(result, volumes):
        typer.echo(line)
