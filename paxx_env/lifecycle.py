"""up, restart, teardown and logs: the life of the stack, reported as events for the UI.

`up` syncs the project, asks the engine what exists, refuses what would harm data or clash
(prestart.py), pulls what is missing, starts the services and waits until they are healthy
(readiness.py). `restart` stops one service and brings it up again. `teardown` stops and
removes paxx's containers and, when asked, volumes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from paxx_env import prestart
from paxx_env.catalog import Catalog, select
from paxx_env.declaration import Project
from paxx_env.engine import containers, images
from paxx_env.engine.compose import Stack, warm_up
from paxx_env.engine.docker import DockerStream, set_managed_keys
from paxx_env.engine.forward import forward_alive, start_forward, stop_forward
from paxx_env.engine.info import check_engine
from paxx_env.engine.target import EngineTarget, current_target
from paxx_env.errors import Interrupted, PaxxError, UsageError
from paxx_env.lastup import LastUp, already_up, bind_engine, fingerprint_of, forget_up, record_up
from paxx_env.mirror import registry_mirror, through_mirror
from paxx_env.names import check_services
from paxx_env.paths import ENV_FILE, FORWARD_LOG
from paxx_env.readiness import INTERRUPTED_WAITING, Emit, Event, wait_until_healthy
from paxx_env.state import load_state
from paxx_env.sync import SyncResult, sync
from paxx_env.sync.envfile import forget_secrets

__all__ = [
    "Emit",
    "Event",
    "Teardown",
    "down",
    "follow_logs",
    "open_stack",
    "restart",
    "stream_logs",
    "teardown",
    "up",
]


def open_stack(result: SyncResult) -> Stack:
    """The engine-side view of a synced project."""
    set_managed_keys(result.values)
    return Stack(result.root, result.project_name, result.compose_files, ENV_FILE)


def up(
    project: Project,
    catalog: Catalog,
    services: list[str],
    timeout: float,
    force: bool,
    emit: Emit,
) -> SyncResult:
    """Render, start the declared services (or `services`) and wait until they are healthy."""
    declaration = project.declaration
    declared = list(select(catalog, declaration.features, declaration.providers).services)
    if not declared:
        raise UsageError(
            "no services are declared, so there is nothing to start",
            "add a feature first, e.g. `paxx feature add cache` (`paxx feature list` shows all)",
        )
    targets = check_services(services, declared) if services else declared
    state = load_state(project.root)
    last = LastUp.load(project.root)
    target = bind_engine(project.root, last) or current_target()
    # python-on-whales takes ~300 ms to import and is needed only to start containers: when
    # the last `up` left things as they are on disk now (probably nothing to start), it is
    # not loaded at all; otherwise it loads in the background while paxx renders.
    if last.runtime != fingerprint_of(project.root, state.project, state.compose_files):
        threading.Thread(target=warm_up, daemon=True).start()
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
    stack = open_stack(result)
    seen = _ask_engine(stack, result, catalog, targets)
    stale = [c.id for c in seen.existing if c.paxx_service and c.paxx_service not in declared]
    containers.force_remove(stale)
    fingerprint = fingerprint_of(project.root, result.project_name, result.compose_files)
    if not stale and already_up(last, seen.existing, targets, fingerprint):
        for service in targets:
            emit(Event(service, "healthy", 0.0, "already up"))
    else:
        prestart.check_secrets_match_volumes(result, catalog, targets, seen.created)
        running = {c.service for c in seen.existing if c.state == "running"}
        forwarded = set(last.forward.get("ports", [])) if target.ssh else set()
        starting = [s for s in targets if s not in running]
        prestart.check_ports(result.values, catalog, starting, skip=forwarded)
        _pull([s for s in targets if s in seen.missing], stack, emit)
        probed = _start_and_wait(stack, targets, timeout, not info.start_interval, emit)
        ids = {c.service: c.id for c in containers.project_containers(stack.name, False)}
        started = {s: ids[s] for s in targets if s in ids}
        last = record_up(project.root, last, probed, fingerprint, started)
    _keep_engine(project.root, last, target, result)
    return result


def _keep_engine(root: Path, last: LastUp, target: EngineTarget, result: SyncResult) -> None:
    """Record the engine the environment runs on; on an ssh:// engine, forward its ports."""
    engine = {"context": target.context, "endpoint": target.endpoint}
    forward = last.forward
    if target.ssh is not None:
        ports = sorted(p for s in result.state.services.values() for p, _ in s.ports.values())
        if forward.get("ports") != ports or not forward_alive(forward["pid"], ports):
            if forward:
                stop_forward(int(forward["pid"]))
            pid = start_forward(target.ssh, ports, root / FORWARD_LOG)
            forward = {"pid": pid, "ports": ports, "destination": target.ssh.destination}
    if (engine, forward) != (last.engine, last.forward):
        LastUp(last.healthy, last.runtime, last.containers, engine, forward).save(root)


@dataclass(frozen=True)
class _Seen:
    """What the engine holds of the project before `up` starts anything."""

    existing: list[containers.ContainerState]
    #: volume name -> creation time, for the volumes that exist
    created: dict[str, str]
    #: services whose image is not in the engine's store
    missing: set[str]


def _ask_engine(stack: Stack, result: SyncResult, catalog: Catalog, targets: list[str]) -> _Seen:
    """Three independent questions to the engine, asked at once."""
    mirror = registry_mirror()
    wanted = {s: through_mirror(result.render.images[s], mirror) for s in targets}
    volumes = [f"{stack.name}_{v}" for s in targets for v in catalog.services[s].volumes]
    with ThreadPoolExecutor(max_workers=3) as pool:
        existing = pool.submit(containers.project_containers, stack.name, False)
        created = pool.submit(containers.volumes_created, volumes)
        missing = pool.submit(images.missing_images, wanted.values())
        absent = set(missing.result())
        return _Seen(
            existing.result(), created.result(), {s for s in targets if wanted[s] in absent}
        )


def _start_and_wait(
    stack: Stack, targets: list[str], timeout: float, probe: bool, emit: Emit
) -> list[str]:
    """Start the services and wait until they are healthy; the ids paxx's probes saw so."""
    started = time.monotonic()
    try:
        for service in targets:
            emit(Event(service, "starting"))
        stack.start(targets)
        return wait_until_healthy(stack, targets, started, timeout, probe, emit)
    except (KeyboardInterrupt, Interrupted):
        raise INTERRUPTED_WAITING from None


def _pull(services: list[str], stack: Stack, emit: Emit) -> None:
    if not services:
        return
    started = time.monotonic()
    for service in services:
        emit(Event(service, "pulling"))
    try:
        stack.pull(services)
    except (KeyboardInterrupt, Interrupted):
        raise Interrupted(
            "interrupted while pulling images", "run `paxx up` again to go on"
        ) from None
    for service in services:
        emit(Event(service, "pulled", time.monotonic() - started))


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
