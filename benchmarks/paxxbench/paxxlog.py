"""Reading what `paxx -v` logs: its engine calls, the phases of `paxx up`, healthy-in times."""

from __future__ import annotations

import datetime
import re
from collections import defaultdict

from paxxbench.results import table
from paxxbench.runner import Run
from paxxbench.stats import fmt

#: `paxx up` prints `SERVICE ... healthy in 1.2 s` for each service.
HEALTHY_IN = re.compile(r"^(\S+)\s+healthy in ([\d.]+) s", re.MULTILINE)
_VERBOSE = re.compile(r"^\S+ (run|exit|compose)\s+(.*)$")

#: what was called (`docker ps ...`), and the seconds it took, or None when not logged
Call = tuple[str, float | None]


def healthy_in(stderr: str) -> list[tuple[str, float]]:
    """The `healthy in` time `paxx up` printed for each service."""
    return [(name, float(seconds)) for name, seconds in HEALTHY_IN.findall(stderr)]


def docker_calls(stderr: str) -> list[Call]:
    """The engine calls a `paxx -v` run logged: (what, seconds or None when not logged)."""
    calls: list[Call] = []
    pending: tuple[str, float] | None = None
    compose: tuple[str, float] | None = None
    for line in stderr.splitlines():
        match = _VERBOSE.match(line.strip())
        if not match:
            continue
        stamp = clock(line.split()[0])
        kind, rest = match.groups()
        if compose is not None:  # a Compose call lasts until paxx logs its next step
            calls.append((compose[0], stamp - compose[1]))
            compose = None
        if kind == "run":
            argv = re.findall(r"'([^']*)'", rest)
            pending = (" ".join(argv[:3]), stamp)
        elif kind == "exit" and pending is not None:
            calls.append((pending[0], stamp - pending[1]))
            pending = None
        elif kind == "compose":
            action = re.search(r"action=(\S+)", rest)
            compose = (f"docker compose {action[1] if action else '?'} (python-on-whales)", stamp)
    return calls


def clock(stamp: str) -> float:
    """Seconds since midnight of an `HH:MM:SS.ffffff` time stamp; 0.0 when it is not one."""
    try:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)
    except ValueError:
        return 0.0


def describe_calls(calls: list[Call]) -> str:
    """`3 × docker image inspect (45 ms), 1 × docker ps ...`, in first-seen order."""
    grouped: dict[str, list[float]] = defaultdict(list)
    for what, seconds in calls:
        grouped[what].append(seconds if seconds is not None else float("nan"))
    parts = []
    for what, times in grouped.items():
        known = [t for t in times if t == t]
        spent = f", {fmt(sum(known), 's')} in all" if known else ""
        parts.append(f"{len(times)} × `{what}`{spent}")
    return "; ".join(parts)


def up_timeline(result: Run) -> list[tuple[str, float]]:
    """The phases of one `paxx -v up`, from the timestamps of its debug log."""
    marks = []
    for line in result.stderr.splitlines():
        match = _VERBOSE.match(line.strip())
        if match:
            marks.append((match[1], clock(line.split()[0]), match[2]))
    compose = next((i for i, mark in enumerate(marks) if mark[0] == "compose"), None)
    if compose is None:
        return []
    start = clock(datetime.datetime.fromtimestamp(result.started_at).strftime("%H:%M:%S.%f"))
    end = start + result.wall
    first, up = marks[0][1], marks[compose][1]
    after_up = marks[compose + 1][1] if compose + 1 < len(marks) else end
    table_at = max(
        (
            stamp
            for kind, stamp, text in marks
            if kind == "run" and "'ps'" in text and "json" in text
        ),
        default=end,
    )
    return [
        ("start-up: interpreter, imports (here with -v: structlog too), CLI", first - start),
        (
            "engine check, rendering, pre-start checks (ports, volumes, images), "
            "importing python-on-whales",
            up - first,
        ),
        ("`docker compose up` through python-on-whales", after_up - up),
        ("waiting until healthy (polling, `docker exec` probes)", table_at - after_up),
        ("the final status table, exit", end - table_at),
    ]


def phases_table(phases: list[tuple[str, float]]) -> str:
    """The phases of `up_timeline` as a table."""
    return table(["phase", "time"], [[phase, fmt(seconds, "s")] for phase, seconds in phases])
