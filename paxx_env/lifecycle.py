"""up, restart, teardown and logs: the life of the stack, reported as events for the UI.

`up` syncs the project, then starts it (start.py: asks the engine what exists, refuses what
would harm data or clash, pulls what is missing, starts the services and waits until they
are ready). `restart` stops one service and brings it up again. `teardown` stops and removes
paxx's containers and, when asked, volumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from paxx_env.catalog import Catalog
from paxx_env.declaration import Project
from paxx_env.engine import containers
from paxx_env.engine.compose import Stack
from paxx_env.engine.docker import DockerStream
from paxx_env.engine.forward import stop_forward
from paxx_env.engine.info import check_engine
from paxx_env.engine.target import current_target
from paxx_env.errors import PaxxError, UsageError
from paxx_env.lastup import LastUp, bind_engine, forget_up
from paxx_env.names import check_services
from paxx_env.paths import ENV_FILE
from paxx_env.readiness import Emit, Event
from paxx_env.start import Rendered, start
from paxx_env.state import load_state
from paxx_env.sync import SyncResult, sync
from paxx_env.sync.envfile import forget_secrets

__all__ = [
    "Emit",
    "Event",
    "Teardown",
    "down",
    "follow_logs",
    "restart",
    "stream_logs",
    "teardown",
    "up",
]


def up(
    project: Project,
    catalog: Catalog,
    services: list[str],
    timeout: float,
    force: bool,
    emit: Emit,
) -> SyncResult:
    """Render, start the declared services (or `services`) and wait until they are healthy."""
    declared = list(project.declaration.selection(catalog).services)
    if not declared:
        raise UsageError(
            "no services are declared, so there is nothing to start",
            "add a feature first, e.g. `paxx feature add cache` (`paxx feature list` shows all)",
        )
    targets = check_services(services, declared) if services else declared
    state = load_state(project.root)
    last = LastUp.load(project.root)
    target = bind_engine(project.root, last) or current_target()
    info = check_engine()
    result = sync(
        project,
        catalog,
        force=force,
        start_interval=info.start_interval,
        command="up",
        strict_lock=True,
        state=state,
    )
    rendered = Rendered(project.root, result.state, result.values)
    start(rendered, targets, timeout, last, target, info, emit)
    return result


@dataclass(frozen=True)
class Teardown:
    """What `down` (or `feature remove`) removed."""

    containers: list[str]
    volumes: list[str]


def teardown(
    project_name: str,
    services: set[str] | None,
    volume_names: set[str],
    confirm: Callable[[list[str]], bool],
) -> Teardown:
    """Stop and remove paxx's containers (of `services`, or all) and, if asked, volumes.

    Containers get their stop signal and Compose's default grace period, so databases shut
    down cleanly. Only volumes of this Compose project whose name is in `volume_names` are
    considered, and `confirm` sees the list before anything is stopped or deleted: when it
    says no, nothing happens at all.
    """
    volumes = containers.project_volumes(project_name, volume_names) if volume_names else []
    if volumes and not confirm(volumes):
        raise PaxxError(
            "cancelled: nothing was stopped or deleted",
            "`paxx down` stops the services and keeps their data",
        )
    found = [
        c
        for c in containers.project_containers(project_name)
        if services is None or c.paxx_service in services
    ]
    containers.stop_and_remove([c.id for c in found])
    if services is None:
        containers.remove_network(project_name)
    containers.remove_volumes(volumes)
    return Teardown(sorted({c.paxx_service for c in found}), volumes)


def down(
    root: Path, catalog: Catalog | None, confirm: Callable[[list[str]], bool]
) -> Teardown | None:
    """`paxx down`: stop and remove the project; with a `catalog`, delete its data volumes too.

    None when the project was never started. Deleting the volumes of services no longer
    declared also drops their kept secrets from .env.
    """
    state = load_state(root)
    if not state.project:
        return None
    last = LastUp.load(root)
    bind_engine(root, last)
    check_engine()
    volume_names = {v for s in catalog.services.values() for v in s.volumes} if catalog else set()
    result = teardown(state.project, None, volume_names, confirm)
    if last.forward:
        stop_forward(int(last.forward["pid"]))
    forget_up(root)
    if result.volumes and catalog is not None:
        forget_secrets(root, catalog, [n for n in catalog.services if n not in state.services])
    return result


def restart(
    project: Project, catalog: Catalog, service: str, timeout: float, emit: Emit
) -> SyncResult:
    """Stop one service's container and start it again as `paxx up SERVICE` would.

    The container (and its data) is kept: `up` starts it again, recreating it only when its
    configuration changed, and waits until it is healthy.
    """
    check_services([service], list(project.declaration.selection(catalog).services))
    state = load_state(project.root)
    if state.project:
        bind_engine(project.root, LastUp.load(project.root))
        running = [
            c.id
            for c in containers.project_containers(state.project)
            if c.paxx_service == service and c.state in {"running", "restarting", "paused"}
        ]
        if running:
            emit(Event(service, "stopping"))
            containers.stop(running)
    return up(project, catalog, [service], timeout, False, emit)


def stream_logs(root: Path, service: str | None, follow: bool, tail: int | None) -> int:
    """Print the logs of one service (or all) on this terminal; return Compose's exit code."""
    stack, chosen = _logs_of(root, service)
    return stack.stream_logs(chosen, follow, tail)


def follow_logs(root: Path, service: str, tail: int) -> DockerStream:
    """The last `tail` log lines of one service, then each new line, until closed."""
    stack, (chosen,) = _logs_of(root, service)
    return stack.follow_logs(chosen, tail)


def _logs_of(root: Path, service: str | None) -> tuple[Stack, list[str]]:
    """The project's stack on its engine, and the services whose logs were asked for."""
    state = load_state(root)
    if not state.project:
        raise UsageError(
            "this project has not been started yet, so there are no logs", "run `paxx up` first"
        )
    declared = sorted(state.services)
    chosen = check_services([service], declared) if service else declared
    bind_engine(root, LastUp.load(root))
    check_engine()
    return Stack(root, state.project, state.compose_files, ENV_FILE), chosen
