"""What the engine says about a stack: its containers, their health, the execs run in them."""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections import defaultdict
from typing import Any

from paxxbench.runner import BenchError
from paxxbench.stats import Stats
from paxxbench.workbench import Bench, Stack


class ExecEvents:
    """The `exec_start` events of one Compose project, and when its containers started.

    Execs are health checks and probes.
    """

    def __init__(self, bench: Bench, stack: Stack) -> None:
        self.since = time.time()
        #: service -> seconds after `since` its container started (filled by stop())
        self.started: dict[str, float] = {}
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self._child = bench.start_docker(
            stack,
            "events",
            "--since",
            f"{self.since:.3f}",
            "--filter",
            "type=container",
            "--filter",
            "event=exec_start",
            "--filter",
            "event=start",
            "--filter",
            stack.label,
            "--format",
            "{{json .}}",
            stdout=self._out,
        )

    def stop(self) -> dict[str, list[float]]:
        """Stop listening; the times of the exec_start events, per Compose service.

        Times are seconds after `since` (the moment this counter was started).
        """
        until = time.time()
        time.sleep(0.5)  # let the engine deliver what happened up to `until`
        self._child.terminate()
        self._child.wait()
        self._out.seek(0)
        events = self._out.read().decode()
        self._out.close()
        starts = exec_times(events, self.since, until, action="start")
        self.started = {service: min(times) for service, times in starts.items()}
        return exec_times(events, self.since, until)


def exec_times(
    events: str, since: float, until: float, action: str = "exec_start"
) -> dict[str, list[float]]:
    """The `docker events --format '{{json .}}'` lines up to `until`, per Compose service.

    Only events whose action is `action` (an exec's action goes on with its command line:
    `exec_start: sh -c ...`; a line without one counts as an exec). Times are seconds after
    `since`; lines that are not events are skipped.
    """
    found: dict[str, list[float]] = defaultdict(list)
    for line in events.splitlines():
        with contextlib.suppress(ValueError, KeyError):
            event = json.loads(line)
            at = event["timeNano"] / 1e9
            if event.get("Action", "exec_start").split(":")[0] != action:
                continue
            if at <= until:
                service = event["Actor"]["Attributes"].get("com.docker.compose.service", "?")
                found[service].append(at - since)
    return found


def container_ids(bench: Bench, stack: Stack, *, stopped: bool = False) -> list[str]:
    """The ids of the stack's containers: the running ones, or all of them."""
    flags = "-aq" if stopped else "-q"
    return bench.docker("ps", flags, "--filter", stack.label, stack=stack).stdout.split()


def inspect(bench: Bench, stack: Stack, ids: list[str]) -> list[dict[str, Any]]:
    """`docker inspect` of containers on the stack's engine."""
    items: list[dict[str, Any]] = json.loads(bench.docker("inspect", *ids, stack=stack).stdout)
    return items


def service_of(item: dict[str, Any]) -> str:
    """The Compose service of an inspected container."""
    return str(item["Config"]["Labels"].get("com.docker.compose.service", "?"))


def docker_health(bench: Bench, stack: Stack) -> dict[str, str]:
    """Docker's own view of each service's health."""
    ids = container_ids(bench, stack, stopped=True)
    if not ids:
        return {}
    return {
        service_of(item): (item["State"].get("Health") or {}).get("Status", "none")
        for item in inspect(bench, stack, ids)
    }


def wait_docker_healthy(bench: Bench, stack: Stack, timeout: float = 90) -> float:
    """Wait until Docker itself reports every container healthy; return the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        health = docker_health(bench, stack)
        if health and all(h == "healthy" for h in health.values()):
            return time.perf_counter() - started
        time.sleep(0.5)
    raise BenchError(f"Docker did not report {stack.name} healthy within {timeout:.0f} s")


def bring_up(bench: Bench, stack: Stack) -> float:
    """Start the stack with paxx and wait until Docker itself says healthy (for no-op runs)."""
    bench.paxx_cmd(stack, "up", timeout=400)
    return wait_docker_healthy(bench, stack)


def ensure_running(bench: Bench, stack: Stack) -> None:
    """Bring the stack up unless Docker already says every container of it is healthy."""
    health = docker_health(bench, stack)
    if not health or any(h != "healthy" for h in health.values()):
        bring_up(bench, stack)


def health_check_costs(bench: Bench, stack: Stack, times: int) -> dict[str, Stats]:
    """Wall time of one health check run with `docker exec`, as paxx runs it, per service."""
    costs = {}
    for item in inspect(bench, stack, container_ids(bench, stack)):
        test = (item["Config"].get("Healthcheck") or {}).get("Test") or []
        if not test or test[0] == "NONE":
            continue
        command = ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" else test[1:]
        costs[service_of(item)] = Stats(
            [
                bench.docker("exec", item["Id"], *command, stack=stack, check=False).wall
                for _ in range(times)
            ]
        )
    return costs
