"""Starting a rendered environment: ask the engine, refuse what would harm, pull, start, wait.

`lifecycle.up` calls it after a sync; `quickstart` calls it without one when the folder is
what the last sync left (fresh.py). Everything here reads what a sync wrote (the summary in
state.json and the values in .env), never the catalog, so the second path needs neither the
catalog nor the renderer.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from paxx_env import prestart
from paxx_env.engine import containers, images
from paxx_env.engine.compose import Stack
from paxx_env.engine.docker import set_managed_keys
from paxx_env.engine.forward import forward_alive, start_forward, stop_forward
from paxx_env.engine.info import EngineInfo
from paxx_env.engine.target import EngineTarget
from paxx_env.errors import Interrupted
from paxx_env.hostprobe import HOST, ProbeSpec, attempt
from paxx_env.lastup import LastUp, already_up, fingerprint_of, record_up
from paxx_env.mirror import registry_mirror, through_mirror
from paxx_env.paths import ENV_FILE, FORWARD_LOG
from paxx_env.readiness import (
    INTERRUPTED_WAITING,
    Emit,
    Event,
    HostProbe,
    HostProbes,
    Ready,
    wait_until_healthy,
)
from paxx_env.state import State

#: Over SSH each probe is a round trip to the other machine: a longer pause.
SSH_PROBE_PAUSE = 0.25


@dataclass(frozen=True)
class Rendered:
    """A synced project, as `up` starts it: its folder, state.json and paxx's .env values."""

    root: Path
    state: State
    values: dict[str, str]

    def stack(self) -> Stack:
        """The engine-side view; the shell no longer overrides paxx's .env values."""
        set_managed_keys(self.values)
        return Stack(self.root, self.state.project, self.state.compose_files, ENV_FILE)


@dataclass(frozen=True)
class Survey:
    """What the engine holds of the project before `up` starts anything."""

    existing: list[containers.ContainerState]
    #: volume name -> creation time, for the volumes that exist
    created: dict[str, str]
    #: services whose image is not in the engine's store
    missing: set[str]
    #: the fingerprint of Compose's inputs now (lastup.fingerprint_of)
    fingerprint: str
    #: whether containers of services no longer declared were removed
    removed_stale: bool

    def already_up(self, last: LastUp, targets: list[str]) -> bool:
        """Whether Compose has nothing to do (see lastup.already_up)."""
        return not self.removed_stale and already_up(last, self.existing, targets, self.fingerprint)


def survey(
    rendered: Rendered, targets: list[str], listed: list[containers.ContainerState] | None = None
) -> Survey:
    """Ask the engine what it holds (three questions at once); remove undeclared containers.

    `listed`: every container of the project, when the caller listed them already under the
    project lock it still holds (lastup.first_look); the engine is not asked again.
    """
    state = rendered.state
    mirror = registry_mirror()
    wanted = {s: through_mirror(state.services[s].image, mirror) for s in targets}
    volumes = [f"{state.project}_{v}" for s in targets for v in state.services[s].volumes]
    with ThreadPoolExecutor(max_workers=3) as pool:
        existing = pool.submit(_containers_of, state.project, listed)
        created = pool.submit(containers.volumes_created, volumes)
        missing = pool.submit(images.missing_images, wanted.values())
        absent = set(missing.result())
        found = existing.result()
    stale = [c.id for c in found if c.paxx_service and c.paxx_service not in state.services]
    containers.force_remove(stale)
    return Survey(
        [c for c in found if c.id not in stale],
        created.result(),
        {s for s in targets if wanted[s] in absent},
        fingerprint_of(rendered.root, state.project, state.compose_files),
        bool(stale),
    )


def _containers_of(
    project: str, listed: list[containers.ContainerState] | None
) -> list[containers.ContainerState]:
    return containers.project_containers(project, False) if listed is None else listed


def start(
    rendered: Rendered,
    targets: list[str],
    timeout: float,
    last: LastUp,
    target: EngineTarget,
    info: EngineInfo,
    emit: Emit,
) -> None:
    """Start `targets` unless they are up already, and wait until they are ready."""
    seen = survey(rendered, targets)
    start_surveyed(rendered, seen, targets, timeout, last, target, info, emit)


def start_surveyed(
    rendered: Rendered,
    seen: Survey,
    targets: list[str],
    timeout: float,
    last: LastUp,
    target: EngineTarget,
    info: EngineInfo,
    emit: Emit,
) -> None:
    """`start` once the engine was asked (`seen`): say they are up already, or launch them."""
    if seen.already_up(last, targets):
        _say_already_up(rendered, targets, last, target, emit)
    else:
        _launch(rendered, seen, targets, timeout, last, target, info, emit)


def _say_already_up(
    rendered: Rendered, targets: list[str], last: LastUp, target: EngineTarget, emit: Emit
) -> None:
    """Nothing to start: say so, and keep the engine's record (and an SSH forward) as it is."""
    for service in targets:
        emit(Event(service, "healthy", 0.0, "already up"))
    _keep_engine(rendered.root, last, target, rendered.state)


def _launch(
    rendered: Rendered,
    seen: Survey,
    targets: list[str],
    timeout: float,
    last: LastUp,
    target: EngineTarget,
    info: EngineInfo,
    emit: Emit,
) -> None:
    """Check, pull, start `targets` and wait until they are ready; record what runs then."""
    root, state, values = rendered.root, rendered.state, rendered.values
    stack = rendered.stack()
    prestart.check_secrets_match_volumes(state, values, targets, seen.created)
    running = {c.service for c in seen.existing if c.state == "running"}
    forwarded = set(last.forward.get("ports", [])) if target.ssh else set()
    prestart.check_ports(state, values, [s for s in targets if s not in running], forwarded)
    _pull([s for s in targets if s in seen.missing], stack, emit)
    # Before the start: the record names the engine the containers are on even if waiting
    # fails, and over SSH the probes reach the services through the forward.
    last = _keep_engine(root, last, target, state)
    probes = HostProbes(
        _host_probes(rendered, targets, target), SSH_PROBE_PAUSE if target.ssh else None
    )
    # A port of a container that did not run before answers only once that container does;
    # a running one may be replaced, so its port is probed once Compose is done. Over SSH
    # probes wait for Compose too: each one before the port is published is an error line
    # in the forward's log.
    early = [s for s in targets if s not in running] if target.ssh is None else []
    ready = _start_and_wait(stack, targets, timeout, probes, early, info, emit)
    started = {s: ready.ids[s] for s in targets if s in ready.ids}
    record_up(root, last, ready.probed, seen.fingerprint, started)


def _start_and_wait(
    stack: Stack,
    targets: list[str],
    timeout: float,
    probes: HostProbes,
    early: list[str],
    info: EngineInfo,
    emit: Emit,
) -> Ready:
    started = time.monotonic()
    try:
        for service in targets:
            emit(Event(service, "starting"))
        probes.start(early)
        stack.start(targets)
        return wait_until_healthy(
            stack, targets, started, timeout, emit, probes, exec_probe=not info.start_interval
        )
    except (KeyboardInterrupt, Interrupted):
        raise INTERRUPTED_WAITING from None
    finally:
        probes.stop()


def _host_probes(
    rendered: Rendered, targets: list[str], target: EngineTarget
) -> dict[str, HostProbe]:
    """The host probe of each target that declares one, when its ports reach this machine."""
    if not target.ports_reach_here:
        return {}
    probes = {}
    for service in targets:
        declared = rendered.state.services[service].probe
        if not declared:
            continue
        spec = ProbeSpec.from_dict(declared)
        try:
            probe = attempt(spec, rendered.values)
            where = f"{HOST}:{int(rendered.values[spec.port])} ({spec.describe()})"
        except (KeyError, ValueError):  # .env lacks a value: Docker's health check decides
            continue
        probes[service] = HostProbe(probe, where)
    return probes


def _keep_engine(root: Path, last: LastUp, target: EngineTarget, state: State) -> LastUp:
    """Record the engine the environment runs on; on an ssh:// engine, forward its ports."""
    engine = {"context": target.context, "endpoint": target.endpoint}
    forward = last.forward
    if target.ssh is not None:
        ports = sorted(p for s in state.services.values() for p, _ in s.ports.values())
        if forward.get("ports") != ports or not forward_alive(forward["pid"], ports):
            if forward:
                stop_forward(int(forward["pid"]))
            pid = start_forward(target.ssh, ports, root / FORWARD_LOG)
            forward = {"pid": pid, "ports": ports, "destination": target.ssh.destination}
    if (engine, forward) == (last.engine, last.forward):
        return last
    kept = LastUp(last.healthy, last.runtime, last.containers, engine, forward)
    kept.save(root)
    return kept


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
