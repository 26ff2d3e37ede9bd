"""The stack at rest: health-check executions per minute per service, CPU and memory."""

from __future__ import annotations

import json
import re
import time

from paxxbench.engine import ExecEvents, container_ids, wait_docker_healthy
from paxxbench.measure import Measure, Stage
from paxxbench.probes import PROBES
from paxxbench.results import Section, table
from paxxbench.stats import Stats
from paxxbench.workbench import Bench, Stack

#: service → (CPU %, memory MiB), from one `docker stats --no-stream`
Sample = dict[str, tuple[float, float]]


def measure_steady_state(bench: Bench, stack: Stack) -> Section:
    """Watch the stack for `bench.rest` seconds: exec_start events, `docker stats` samples."""
    section = Section("Steady state: the stack at rest")
    wait_docker_healthy(bench, stack)
    events = ExecEvents(bench, stack)
    started = time.monotonic()
    samples: list[Sample] = []
    while time.monotonic() - started < bench.rest or not samples:
        samples.append(stats_sample(bench, stack))
    time.sleep(max(0.0, bench.rest - (time.monotonic() - started)))
    elapsed = time.monotonic() - started
    counts = {name: len(times) for name, times in events.stop().items()}
    rows = []
    for name in sorted(PROBES):
        rows.append(
            [
                name,
                f"{counts.get(name, 0) * 60 / elapsed:.1f}",
                Stats([s[name][0] for s in samples if name in s]).fmt("%"),
                Stats([s[name][1] for s in samples if name in s]).fmt(" MiB"),
            ]
        )
    total = Stats([sum(cpu for cpu, _ in s.values()) for s in samples])
    rows.append(["**all six**", f"{sum(counts.values()) * 60 / elapsed:.1f}", total.fmt("%"), ""])
    section.add(
        f"After `paxx up`, nothing else running in the stack, over {elapsed:.0f} s. Health "
        "checks per minute are `exec_start` events (`docker events`); CPU and memory are "
        f"{len(samples)} samples of `docker stats --no-stream` (100 % = one CPU). paxx itself "
        "runs no process at rest: these are Docker's health checks every 10 s and the "
        "services' own idle work, the same as under plain `docker compose`.",
        table(["service", "health checks / min", "CPU, median (min–max)", "memory"], rows),
    )
    section.reproduce = [
        "# at rest",
        "docker events --filter event=exec_start --filter label=com.docker.compose.project=NAME",
        "docker stats --no-stream",
    ]
    return section


def stats_sample(bench: Bench, stack: Stack) -> Sample:
    """One `docker stats --no-stream` of the stack's running containers."""
    out = bench.docker(
        "stats", "--no-stream", "--format", "{{json .}}", *container_ids(bench, stack), stack=stack
    ).stdout
    return parse_stats(out, stack.name)


def parse_stats(out: str, project: str) -> Sample:
    """`docker stats --format '{{json .}}'` lines, per Compose service (from the name)."""
    sample = {}
    for line in out.splitlines():
        item = json.loads(line)
        service = item["Name"].removeprefix(f"{project}-").rsplit("-", 1)[0]
        sample[service] = (float(item["CPUPerc"].rstrip("%")), mib(item["MemUsage"]))
    return sample


def mib(text: str) -> float:
    """The used part of `docker stats`' MemUsage (`12.5MiB / 1.9GiB`), in MiB."""
    value = text.split("/")[0].strip()
    match = re.match(r"([\d.]+)\s*([KMG]i?B|B)", value)
    if not match:
        return 0.0
    number, unit = float(match[1]), match[2]
    scale = {
        "B": 1 / 2**20,
        "KiB": 1 / 1024,
        "KB": 1 / 1024,
        "MiB": 1,
        "MB": 1,
        "GiB": 1024,
        "GB": 1024,
    }
    return number * scale.get(unit, 1)


MEASURE = Measure("steady state", Stage.RUNNING, measure_steady_state)
