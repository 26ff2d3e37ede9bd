"""P1's runs: the stack from nothing, by `paxx up`, by `compose --wait`, and to own readiness."""

from __future__ import annotations

import itertools
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field

from paxxbench.engine import ExecEvents, wait_docker_healthy
from paxxbench.idle import wait_until_idle
from paxxbench.paxxlog import healthy_in
from paxxbench.probes import PROBES, Probe, Watcher
from paxxbench.runner import BenchError, Run, log
from paxxbench.workbench import Bench, Stack


def _per_service() -> defaultdict[str, list[float]]:
    return defaultdict(list)


@dataclass
class ColdRuns:
    """What the cold-start measure collected."""

    paxx: list[Run] = field(default_factory=list)
    compose_wait: list[Run] = field(default_factory=list)
    compose_detach: list[Run] = field(default_factory=list)
    own_ready: list[float] = field(default_factory=list)
    own_per_service: dict[str, list[float]] = field(default_factory=_per_service)
    paxx_per_service: dict[str, list[float]] = field(default_factory=_per_service)
    paxx_execs: dict[str, list[float]] = field(default_factory=_per_service)
    compose_execs: dict[str, list[float]] = field(default_factory=_per_service)
    #: during `paxx up`, counted from its start: when the service answered the host probe,
    #: when the first and the last exec on it started, and the median time between two
    paxx_ready: dict[str, list[float]] = field(default_factory=_per_service)
    paxx_first_exec: dict[str, list[float]] = field(default_factory=_per_service)
    paxx_last_exec: dict[str, list[float]] = field(default_factory=_per_service)
    paxx_exec_gap: dict[str, list[float]] = field(default_factory=_per_service)
    #: from its container's start (`docker events`) until the service answered the host
    #: probe: during `paxx up`, and alone (own readiness)
    paxx_after_start: dict[str, list[float]] = field(default_factory=_per_service)
    own_after_start: dict[str, list[float]] = field(default_factory=_per_service)
    #: how long `paxx up` went on after the last service answered the host probe
    paxx_after_ready: list[float] = field(default_factory=list)
    #: how long after `paxx up` returned Docker itself said every service healthy
    docker_after: list[float] = field(default_factory=list)
    #: runs after which Docker did not say so within wait_docker_healthy's time
    docker_never: int = 0
    #: the share of CPU time idle just before each timed run (idle.py)
    idle: list[float] = field(default_factory=list)


def host_probes(stack: Stack) -> dict[str, Probe]:
    """The host-side readiness probe of each service, with the ports and secrets in .env."""
    env = stack.dotenv()
    return {name: factory(env) for name, (_, factory) in PROBES.items()}


def cold_runs(bench: Bench, stack: Stack) -> ColdRuns:
    """Each of the three ways, `bench.repeat` times, each from nothing; the order rotated."""
    cold = ColdRuns()
    ways = {
        "paxx": _paxx_up,
        "compose --wait": _compose_wait,
        "own readiness": _own_readiness,
    }
    kinds = list(ways)
    # Untimed: the first `up` on an engine writes the per-machine overlay for it (a
    # start_interval on engines >= 25); every timed way then runs the same files.
    bench.reset(stack)
    bench.paxx_cmd(stack, "up", timeout=400)
    for i in range(bench.repeat):
        for kind in kinds[i % 3 :] + kinds[: i % 3]:  # rotate the order between repetitions
            bench.reset(stack)
            cold.idle.append(wait_until_idle(bench.wait_idle))
            log(f"P1 run {i + 1}/{bench.repeat}: {kind} ({cold.idle[-1]:.0f} % idle)")
            ways[kind](bench, stack, cold)
    bench.reset(stack)
    return cold


def _paxx_up(bench: Bench, stack: Stack, cold: ColdRuns) -> None:
    """`paxx up`, while a light observer (every 50 ms) notes when each service answers."""
    began = time.time()
    observer = Watcher(host_probes(stack), time.perf_counter(), interval=0.05)
    events = ExecEvents(bench, stack)
    result = bench.paxx_cmd(stack, "up", timeout=400)
    returned = time.perf_counter()
    execs = events.stop()
    ready = observer.join()
    _after_start(ready, events, began, cold.paxx_after_start)
    try:
        wait_docker_healthy(bench, stack)  # polls every 0.5 s
        cold.docker_after.append(time.perf_counter() - returned)
    except BenchError as exc:  # Docker's own check failed (a loaded machine): say so, go on
        log(f"P1: {exc}")
        cold.docker_never += 1
    cold.paxx.append(result)
    if len(ready) == len(PROBES):
        cold.paxx_after_ready.append(result.wall - max(ready.values()))
    for name, seconds in healthy_in(result.stderr):
        cold.paxx_per_service[name].append(seconds)
    for name in PROBES:
        if name in ready:
            cold.paxx_ready[name].append(ready[name])
        times = sorted(execs.get(name, []))
        cold.paxx_execs[name].append(len(times))
        if times:
            cold.paxx_first_exec[name].append(times[0])
            cold.paxx_last_exec[name].append(times[-1])
        if len(times) > 1:
            gaps = [b - a for a, b in itertools.pairwise(times)]
            cold.paxx_exec_gap[name].append(statistics.median(gaps))


def _compose_wait(bench: Bench, stack: Stack, cold: ColdRuns) -> None:
    """`docker compose up --detach --wait`, counting the health checks Docker runs meanwhile."""
    events = ExecEvents(bench, stack)
    cold.compose_wait.append(bench.compose(stack, "up", "--detach", "--wait", timeout=400))
    execs = events.stop()
    for name in PROBES:
        cold.compose_execs[name].append(len(execs.get(name, [])))


def _own_readiness(bench: Bench, stack: Stack, cold: ColdRuns) -> None:
    """`docker compose up --detach` while the host probes every service every 10 ms."""
    began = time.time()
    watcher = Watcher(host_probes(stack), time.perf_counter())
    events = ExecEvents(bench, stack)  # as during `paxx up`: the same listener beside it
    cold.compose_detach.append(bench.compose(stack, "up", "--detach"))
    ready = watcher.join()
    events.stop()
    _after_start(ready, events, began, cold.own_after_start)
    missing = sorted(set(PROBES) - set(ready))
    if missing:
        raise BenchError(f"never answered from the host: {', '.join(missing)}")
    cold.own_ready.append(max(ready.values()))
    for name, seconds in ready.items():
        cold.own_per_service[name].append(seconds)


def _after_start(
    ready: dict[str, float], events: ExecEvents, began: float, into: dict[str, list[float]]
) -> None:
    """Per service: from its container's start until it answered (`ready` counts from `began`)."""
    for name, seconds in ready.items():
        if name in events.started:
            into[name].append(seconds - (events.started[name] + events.since - began))
