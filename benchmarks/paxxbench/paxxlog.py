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
_VERBOSE = re.compile(r"^\S+ (run|exit)\s+(.*)$")
#: Compose's subcommands paxx runs; a Compose call is named by the one in its argv.
_COMPOSE_ACTIONS = ("up", "pull", "logs", "version")

#: what was called (`docker ps ...`), and the seconds it took, or None when not logged
Call = tuple[str, float | None]


def healthy_in(stderr: str) -> list[tuple[str, float]]:
    """The `healthy in` time `paxx up` printed for each service."""
    return [(name, float(seconds)) for name, seconds in HEALTHY_IN.findall(stderr)]


def call_name(argv: list[str]) -> str:
    """`docker ps --all`; for Compose, `docker compose up` (its files and project skipped)."""
    if argv[1:2] == ["compose"]:
        action = next((a for a in argv[2:] if a in _COMPOSE_ACTIONS), "?")
        return f"docker compose {action}"
    return " ".join(argv[:3])


def docker_calls(stderr: str) -> list[Call]:
    """The engine calls a `paxx -v` run logged: (what, seconds or None when not logged)."""
    calls: list[Call] = []
    pending: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for line in stderr.splitlines():
        match = _VERBOSE.match(line.strip())
        if not match:
            continue
        stamp = clock(line.split()[0])
        kind, rest = match.groups()
        argv = re.findall(r"'([^']*)'", rest)
        # `exit` logs the first three words of the argv `run` logged: that pairs them up,
        # also when calls overlap (several run at once from threads).
        key = " ".join(argv[:3])
        if kind == "run":
            pending[key].append((call_name(argv), stamp))
        elif pending[key]:
            name, began = pending[key].pop(0)
            calls.append((name, stamp - began))
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
    starts = [i for i, (kind, _, text) in enumerate(marks) if kind == "run" and _is_up(text)]
    if not starts:
        return []
    up = marks[starts[0]][1]
    after_up = next(
        (
            stamp
            for kind, stamp, text in marks[starts[0] :]
            if kind == "exit" and "'compose'" in text
        ),
        up,
    )
    start = clock(datetime.datetime.fromtimestamp(result.started_at).strftime("%H:%M:%S.%f"))
    end = start + result.wall
    first = marks[0][1]
    table_at = max(
        (
            stamp
            for kind, stamp, text in marks
            if kind == "run" and "'ps'" in text and "json" in text
        ),
        default=end,
    )
    return [
        ("start-up: interpreter, imports (here with -v: typer and structlog too)", first - start),
        (
            "before Compose: the engine (context, containers, volumes, images, version); "
            "a sync when the folder changed",
            up - first,
        ),
        ("`docker compose up --detach`", after_up - up),
        (
            "waiting until every service answers (host probes, `docker inspect`)",
            table_at - after_up,
        ),
        ("the final status table, exit", end - table_at),
    ]


def _is_up(text: str) -> bool:
    argv = re.findall(r"'([^']*)'", text)
    return argv[1:2] == ["compose"] and "up" in argv[2:]


def phases_table(phases: list[tuple[str, float]]) -> str:
    """The phases of `up_timeline` as a table."""
    return table(["phase", "time"], [[phase, fmt(seconds, "s")] for phase, seconds in phases])
