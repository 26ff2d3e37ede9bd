"""Waiting until started services are ready, reported as events.

A service whose catalog entry declares a probe is ready when it answers that probe on its
host port (hostprobe.py): what the app needs, seen the moment it happens, at the cost of a
connection every 50 ms and no process on either side. Docker's own health check stays what
`docker ps`, `docker compose ps` and `depends_on` read; paxx watches Docker's view only to
notice a container that exits or turns unhealthy.

A service without a probe, or on an engine whose ports this machine cannot reach, is ready
when Docker says healthy; where the engine has no start_interval (before 25), paxx also runs
its health check with `docker exec` while it waits, so readiness is seen as soon as it
happens rather than one interval (10 s) later.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from paxx_env.engine.compose import Stack
from paxx_env.engine.containers import (
    ContainerState,
    inspect_containers,
    project_containers,
    run_health_check,
)
from paxx_env.engine.events import Changes
from paxx_env.errors import Interrupted, ServiceFailed
from paxx_env.hostprobe import Attempt

#: How often the wait looks at what the probes found.
POLL_SECONDS = 0.05
#: The pause between two host probes of one service.
HOST_PAUSE = 0.05
#: How often Docker's view is read: often where it decides readiness, seldom where it only
#: catches a container that exits (each `docker inspect` is a CLI process the services'
#: start has to share the CPU with). Where host probes decide, `docker events` says when a
#: container exits or Docker's health check changes its verdict, and Docker's view is read
#: then; the slow round only covers what that stream may miss.
INSPECT_SECONDS = {"health": 0.25, "exec": 0.5, "host": 5.0}
#: `docker exec` probes: the first at once, then a pause growing to this.
MAX_EXEC_PAUSE = 0.5
EXEC_TIMEOUT = 5.0
#: How long Docker may call a service healthy while it does not answer here, before paxx
#: says so (a port that does not reach the container, a probe that does not fit it).
HOST_GRACE = 10.0
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


@dataclass(frozen=True)
class HostProbe:
    """One service's probe from this machine, and where it asks (for messages)."""

    attempt: Attempt
    where: str


class HostProbes:
    """Each service's host probe in a thread of its own, every HOST_PAUSE, until it answers."""

    def __init__(self, probes: dict[str, HostProbe], pause: float | None = None) -> None:
        self.probes = probes
        self.pause = HOST_PAUSE if pause is None else pause
        #: service -> time.monotonic() of its first good answer
        self.ready_at: dict[str, float] = {}
        #: service -> what its last attempt got
        self.answers: dict[str, str] = {}
        self._stop = threading.Event()
        self._running: set[str] = set()

    def start(self, services: Iterable[str]) -> None:
        """Start probing `services` (those with a probe, not probed yet)."""
        for service in services:
            if service in self.probes and service not in self._running:
                self._running.add(service)
                threading.Thread(target=self._run, args=(service,), daemon=True).start()

    def order(self, service: str) -> tuple[float, str]:
        """Sort key: services by the time they answered (not yet: last), then by name."""
        return (self.ready_at.get(service, float("inf")), service)

    def stop(self) -> None:
        """Stop every probe thread (they end within one attempt)."""
        self._stop.set()

    def _run(self, service: str) -> None:
        attempt = self.probes[service].attempt
        while not self._stop.is_set():
            began = time.monotonic()
            ready, self.answers[service] = attempt()
            if ready:
                self.ready_at[service] = time.monotonic()
                return
            self._stop.wait(max(0.0, self.pause - (time.monotonic() - began)))


@dataclass(frozen=True)
class Ready:
    """What the wait saw."""

    #: ids of containers paxx saw ready while Docker did not say healthy yet
    probed: list[str]
    #: service -> container id
    ids: dict[str, str]


@dataclass
class _Watch:
    """What the wait knows about each pending service."""

    pending: set[str]
    started: float
    exec_probe: bool
    host: HostProbes
    probed: list[str] = field(default_factory=list)
    execs: dict[str, Future[tuple[bool, str]]] = field(default_factory=dict)
    last_output: dict[str, str] = field(default_factory=dict)
    exec_output: dict[str, str] = field(default_factory=dict)
    docker_healthy_since: dict[str, float] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def how(self, service: str) -> str:
        """How readiness of `service` is seen: "host", "exec" or "health" (Docker's)."""
        if service in self.host.probes:
            return "host"
        return "exec" if self.exec_probe else "health"


def wait_until_healthy(
    stack: Stack,
    services: list[str],
    started: float,
    timeout: float,
    emit: Emit,
    host: HostProbes | None = None,
    exec_probe: bool = False,
) -> Ready:
    """Wait until every service is ready (see the module's docstring).

    `host` holds the services' host probes (running already, or started here); with
    `exec_probe`, paxx runs the health check of a service without one itself.
    """
    watch = _Watch(set(services), started, exec_probe, host or HostProbes({}))
    watch.host.start(services)
    changes: Changes | None = None
    pool = ThreadPoolExecutor(max_workers=max(1, len(services)), thread_name_prefix="probe")
    try:
        # Inside the try: an engine that fails here still gets its `docker events` ended.
        changes = Changes(stack.name) if any(watch.how(s) == "host" for s in services) else None
        found = project_containers(stack.name, paxx_only=False)
        ids = {c.service: c.id for c in found}
        states = {c.service: c for c in found}
        inspected = time.monotonic()
        while watch.pending:
            now = time.monotonic()
            every = min(INSPECT_SECONDS[watch.how(s)] for s in watch.pending)
            changed = changes.take() if changes else set()
            if now - inspected >= every or any(ids.get(s) in changed for s in watch.pending):
                found = inspect_containers([ids[s] for s in watch.pending if s in ids])
                states, inspected = {c.service: c for c in found}, now
            # Those that answered first are reported first.
            for service in sorted(watch.pending, key=watch.host.order):
                if service in states:
                    _step(stack, watch, states[service], pool, now, emit)
            if watch.pending and now - started > timeout:
                service = sorted(watch.pending)[0]
                _timed_out(stack, watch, service, states.get(service), now, timeout, emit)
            if watch.pending:
                time.sleep(POLL_SECONDS)
        return Ready(watch.probed, ids)
    except (KeyboardInterrupt, Interrupted):
        raise INTERRUPTED_WAITING from None
    finally:
        watch.stop.set()
        watch.host.stop()
        if changes:
            changes.close()
        pool.shutdown(wait=False, cancel_futures=True)


def _step(
    stack: Stack,
    watch: _Watch,
    state: ContainerState,
    pool: ThreadPoolExecutor,
    now: float,
    emit: Emit,
) -> None:
    """Look at one pending service once: failed, ready, or still waiting."""
    service = state.service
    if state.state in {"exited", "dead"}:
        _fail(stack, service, f"exited with code {state.exit_code}", "", now - watch.started, emit)
    if state.health == "unhealthy":
        _fail(stack, service, "unhealthy", state.health_output, now - watch.started, emit)
    docker_ready = state.health == "healthy" or (
        state.health == "none" and state.state == "running" and not state.health_test
    )
    at = now
    if watch.how(service) == "host":
        ready = service in watch.host.ready_at
        at = watch.host.ready_at.get(service, now)
        if not ready and docker_ready:
            _check_answers_here(stack, watch, service, now, emit)
    else:
        ready = docker_ready
        if not ready and watch.exec_probe and state.state == "running" and state.health_test:
            ready = _exec_probe(watch, state, pool)
    if ready:
        watch.pending.discard(service)
        if state.health != "healthy":
            watch.probed.append(state.id)
        emit(Event(service, "healthy", at - watch.started))
    else:
        watch.last_output[service] = (
            watch.host.answers.get(service)
            or state.health_output
            or watch.exec_output.get(service)
            or watch.last_output.get(service, "")
        )


def _check_answers_here(stack: Stack, watch: _Watch, service: str, now: float, emit: Emit) -> None:
    """Fail a service Docker has called healthy for HOST_GRACE that does not answer here."""
    since = watch.docker_healthy_since.setdefault(service, now)
    if now - since < HOST_GRACE:
        return
    probe = watch.host.probes[service]
    answer = watch.host.answers.get(service, "")
    _fail(
        stack,
        service,
        f"healthy in its container, but no answer on {probe.where}",
        f"{probe.where}: {answer}" if answer else "",
        now - watch.started,
        emit,
    )


def _exec_probe(watch: _Watch, state: ContainerState, pool: ThreadPoolExecutor) -> bool:
    """Start paxx's `docker exec` probe loop for a container, or read its outcome once done."""
    future = watch.execs.get(state.service)
    if future is None:
        report = functools.partial(watch.exec_output.__setitem__, state.service)
        watch.execs[state.service] = pool.submit(
            _exec_until_ready, state.id, state.health_test, watch.stop, report
        )
        return False
    if not future.done():
        return False
    ready, watch.last_output[state.service] = future.result()
    return ready


def _exec_until_ready(
    container_id: str,
    test: tuple[str, ...],
    stop: threading.Event,
    report: Callable[[str], None],
) -> tuple[bool, str]:
    output = ""
    pause = 0.1
    while not stop.is_set():
        began = time.monotonic()
        ok, output = run_health_check(container_id, test, EXEC_TIMEOUT)
        report(output)
        if ok:
            return True, output
        # Each `docker exec` costs CPU the starting services need (a database's first
        # initialisation especially), so the pause grows from 0.1 s to at most 0.5 s.
        stop.wait(max(0.0, pause - (time.monotonic() - began)))
        pause = min(pause * 1.5, MAX_EXEC_PAUSE)
    return False, output


def _timed_out(
    stack: Stack,
    watch: _Watch,
    service: str,
    state: ContainerState | None,
    now: float,
    timeout: float,
    emit: Emit,
) -> None:
    """Fail a service still not ready after `timeout`, with what its checks last said."""
    outputs = []
    if service in watch.host.probes:
        answer = watch.host.answers.get(service, "no attempt yet")
        outputs.append(f"{watch.host.probes[service].where}: {answer}")
    inside = state.health_output if state else ""
    if not inside and state is not None and state.state == "running" and state.health_test:
        # Docker has not run its check yet (its first comes one interval after the start):
        # run it once, so the message shows what it says.
        inside = run_health_check(state.id, state.health_test, EXEC_TIMEOUT)[1]
    inside = inside or watch.exec_output.get(service, "")
    if inside:
        outputs.append(inside)
    why = f"not healthy after {timeout:.0f} s"
    _fail(stack, service, why, "\n".join(outputs), now - watch.started, emit)


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
