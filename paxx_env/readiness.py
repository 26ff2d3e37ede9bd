"""Waiting until started services are healthy, reported as events.

Docker runs a service's health check every `interval`. Where the engine has no
start_interval (before 25), paxx also runs the same check with `docker exec` in a tight
loop while it waits, so readiness is seen as soon as it happens.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from paxx_env.engine.compose import Stack
from paxx_env.engine.containers import (
    ContainerState,
    inspect_containers,
    project_containers,
    run_health_check,
)
from paxx_env.errors import Interrupted, ServiceFailed

POLL_SECONDS = 0.1
INSPECT_SECONDS = 0.5
MAX_PROBE_PAUSE = 0.5
PROBE_TIMEOUT = 5.0
LOG_LINES = 50
INTERRUPTED_WAITING = Interrupted(
    "interrupted while waiting; the services go on starting in the background",
    "run `paxx status` to see them, or `paxx up` to wait again",
)


@dataclass(frozen=True)
class Event:
    """A step in the life of one service: pulling, starting, healthy, running, failed."""

    service: str
    phase: str
    elapsed: float = 0.0
    detail: str = ""


Emit = Callable[[Event], None]


@dataclass
class _Watch:
    """What the wait knows about each pending service."""

    pending: set[str]
    started: float
    probe: bool
    probed: list[str] = field(default_factory=list)
    probes: dict[str, Future[tuple[bool, str]]] = field(default_factory=dict)
    last_output: dict[str, str] = field(default_factory=dict)
    probe_output: dict[str, str] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)


def wait_until_healthy(
    stack: Stack,
    services: list[str],
    started: float,
    timeout: float,
    probe: bool,
    emit: Emit,
) -> list[str]:
    """Wait until every service is healthy (or running, without a health check).

    With `probe`, paxx runs each running container's health check itself while it waits.
    Returns the ids of the containers found healthy that way.
    """
    watch = _Watch(set(services), started, probe)
    ids = {c.service: c.id for c in project_containers(stack.name, paxx_only=False)}
    pool = ThreadPoolExecutor(max_workers=max(1, len(services)), thread_name_prefix="probe")
    # With paxx's own probes deciding readiness, Docker's view is needed only to notice a
    # container that exits or turns unhealthy: asking for it less often leaves the CPU to
    # the services that are starting (each `docker inspect` is a CLI process).
    inspect_every = INSPECT_SECONDS if probe else POLL_SECONDS
    states: dict[str, ContainerState] = {}
    inspected = 0.0
    try:
        while watch.pending:
            now = time.monotonic()
            if now - inspected >= inspect_every:
                found = inspect_containers([ids[s] for s in watch.pending if s in ids])
                states, inspected = {c.service: c for c in found}, now
            for service in sorted(watch.pending):
                if service in states:
                    _step(stack, watch, states[service], pool, now, emit)
            if watch.pending and now - started > timeout:
                service = sorted(watch.pending)[0]
                why = f"not healthy after {timeout:.0f} s"
                _fail(stack, service, why, watch.last_output.get(service, ""), now - started, emit)
            if watch.pending:
                time.sleep(POLL_SECONDS)
        return watch.probed
    except (KeyboardInterrupt, Interrupted):
        raise INTERRUPTED_WAITING from None
    finally:
        watch.stop.set()
        pool.shutdown(wait=False, cancel_futures=True)


def _step(
    stack: Stack,
    watch: _Watch,
    state: ContainerState,
    pool: ThreadPoolExecutor,
    now: float,
    emit: Emit,
) -> None:
    """Look at one pending service once: failed, healthy, or still waiting."""
    service = state.service
    if state.state in {"exited", "dead"}:
        _fail(stack, service, f"exited with code {state.exit_code}", "", now - watch.started, emit)
    if state.health == "unhealthy":
        _fail(stack, service, "unhealthy", state.health_output, now - watch.started, emit)
    ready = state.health == "healthy" or (
        state.health == "none" and state.state == "running" and not state.health_test
    )
    if not ready and watch.probe and state.state == "running" and state.health_test:
        ready = _probe(watch, state, pool)
    if ready:
        watch.pending.discard(service)
        emit(Event(service, "healthy", time.monotonic() - watch.started))
    else:
        watch.last_output[service] = (
            state.health_output
            or watch.probe_output.get(service)
            or watch.last_output.get(service, "")
        )


def _probe(watch: _Watch, state: ContainerState, pool: ThreadPoolExecutor) -> bool:
    """Start paxx's own probe loop for a container, or read its outcome once it is done."""
    future = watch.probes.get(state.service)
    if future is None:
        report = functools.partial(watch.probe_output.__setitem__, state.service)
        watch.probes[state.service] = pool.submit(
            _probe_until_ready, state.id, state.health_test, watch.stop, report
        )
        return False
    if not future.done():
        return False
    ready, watch.last_output[state.service] = future.result()
    if ready:
        watch.probed.append(state.id)
    return ready


def _probe_until_ready(
    container_id: str,
    test: tuple[str, ...],
    stop: threading.Event,
    report: Callable[[str], None],
) -> tuple[bool, str]:
    output = ""
    pause = POLL_SECONDS
    while not stop.is_set():
        began = time.monotonic()
        ok, output = run_health_check(container_id, test, PROBE_TIMEOUT)
        report(output)
        if ok:
            return True, output
        # Each `docker exec` costs CPU the starting services need (a database's first
        # initialisation especially), so the pause grows from 0.1 s to at most 0.5 s:
        # quick services are seen at once, slow ones at most 0.5 s late.
        stop.wait(max(0.0, pause - (time.monotonic() - began)))
        pause = min(pause * 1.5, MAX_PROBE_PAUSE)
    return False, output


def _fail(
    stack: Stack, service: str, why: str, health_output: str, elapsed: float, emit: Emit
) -> None:
    emit(Event(service, "failed", elapsed, why))
    details = []
    if health_output:
        details.append(f"last health check output of {service}:\n{health_output}")
    logs = stack.logs(service, LOG_LINES)
    if logs:
        details.append(f"last {LOG_LINES} log lines of {service}:\n{logs}")
    raise ServiceFailed(
        f"{service} did not become healthy: {why}",
        f"see `paxx logs {service}`; the other services keep running (`paxx status`)",
        details="\n\n".join(details),
    )
