"""Terminal output: file actions, tables, the status report, and the progress lines of `up`."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # kept out of start-up: `paxx status` prints tables without them
    from paxx_env.lifecycle import Event, Teardown
    from paxx_env.report import ProjectStatus
    from paxx_env.swarm.report import SwarmStatus
    from paxx_env.sync import Action

_VERB_WIDTH = 9


def print_actions(actions: Sequence[Action], out: TextIO | None = None) -> None:
    """One line per file: `   create  .env`, `      add  pyproject.toml: dependency x`."""
    out = out or sys.stdout
    for action in actions:
        if action.verb in {"add", "remove"}:
            text = f"{action.path}: {action.detail}"
        else:
            text = action.path + (f" ({action.detail})" if action.detail else "")
        out.write(f"{action.verb:>{_VERB_WIDTH}}  {text}\n")


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    """A plain text table with left-aligned columns."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def print_status(report: ProjectStatus, json_output: bool, out: TextIO | None = None) -> None:
    """`paxx status`: the report as a table (or JSON)."""
    out = out or sys.stdout
    if json_output:
        out.write(report.to_json() + "\n")
        return
    if not report.services:
        out.write("No services declared. Add one with `paxx feature add NAME`.\n")
        return
    rows = []
    for service in report.services:
        ports = ", ".join(f"{p.host}:{p.port}->{p.target}" for p in service.ports) or "-"
        urls = "  ".join(f"{label}: {url}" for label, url in service.urls.items()) or "-"
        name = service.name if service.declared else f"{service.name} (not declared)"
        provides = provides_text(service.features)
        rows.append([name, provides, service.state, service.health or "-", ports, urls])
    header = f"project {report.project}  environment {report.env_hash or '-'}"
    engine = report.engine
    lines = [header + (f"  engine {engine.describe()}" if engine else "")]
    if engine and engine.forward_running is not None:
        ports = ", ".join(map(str, engine.forwarded_ports))
        state = "running" if engine.forward_running else "stopped: `paxx up` restarts it"
        lines.append(f"ports forwarded over SSH to 127.0.0.1: {ports} ({state})")
    lines.append(table(rows, ["SERVICE", "PROVIDES", "STATE", "HEALTH", "PORTS", "URLS"]))
    behind = report.docker_behind()
    if behind:
        lines.append(
            f"docker: {', '.join(behind)}: health: starting until Docker's first health check "
            f"(one interval after the start); paxx saw {'it' if len(behind) == 1 else 'them'} "
            "answer"
        )
    lines += [f"drift: {line}" for line in report.drift.messages()]
    lines += [f"note: {line}" for line in report.drift.remarks()]
    out.write("\n".join(lines) + "\n")


def print_swarm_status(report: SwarmStatus, json_output: bool, out: TextIO | None = None) -> None:
    """`paxx status` of a stack: replicas, health, node, published ports, addresses."""
    out = out or sys.stdout
    if json_output:
        out.write(report.to_json() + "\n")
        return
    rows = []
    for service in report.services:
        published = ", ".join(f"*:{p.published}->{p.target}" for p in service.ports) or "-"
        rows.append(
            [
                service.name if service.declared else f"{service.name} (not declared)",
                f"{service.running}/{service.desired}",
                service.health or service.state,
                service.node or "-",
                published,
                ", ".join(service.addresses) or "-",
            ]
        )
    engine = f"  engine {report.engine.describe()}" if report.engine else ""
    lines = [
        f"project {report.project or '-'}  stack {report.stack or '-'} (Swarm)  "
        f"environment {report.env_hash or '-'}{engine}",
        f"network {report.network} (attachable: a container on it reaches each ADDRESS)",
        table(rows, ["SERVICE", "REPLICAS", "HEALTH", "NODE", "PUBLISHED", "ADDRESS"]),
    ]
    lines += [f"{s.name}: {s.error}" for s in report.services if s.error]
    lines += [f"drift: {line}" for line in report.drift.messages()]
    lines += [f"note: {line}" for line in report.drift.remarks()]
    out.write("\n".join(lines) + "\n")


def waiting_for_lock(holder: str) -> str:
    """What a command says while another paxx command (pid `holder`) holds the project."""
    who = f" (pid {holder})" if holder else ""
    return f"waiting for another paxx command on this project{who} to finish..."


def teardown_lines(result: Teardown | None, volumes: bool) -> list[str]:
    """What `paxx down` (with `--volumes` or not) says it did; `result` None: never started."""
    if result is None:
        return ["Nothing to stop: this project has not been started."]
    stopped = ", ".join(result.containers) or "nothing was running"
    lines = [f"Stopped and removed: {stopped}."]
    if result.volumes:
        lines.append(f"Deleted {len(result.volumes)} volume(s): {', '.join(result.volumes)}.")
    elif volumes:
        lines.append("No data volumes to delete.")
    else:
        lines.append("Data volumes kept; `paxx down --volumes` deletes them.")
    return lines


def provides_text(features: dict[str, str]) -> str:
    """`cache, tasks (valkey)`: the features a service gives, each group with its provider."""
    groups: dict[str, list[str]] = {}
    for feature, provider in features.items():
        groups.setdefault(provider, []).append(feature)
    return ", ".join(f"{', '.join(names)} ({p})" for p, names in groups.items()) or "-"


#: The phases during which a service's line shows a spinner.
_ACTIVE = frozenset({"pulling", "starting", "stopping", "waiting"})


_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Progress:
    """One line per service, rewritten in place on a terminal, appended otherwise."""

    def __init__(self, services: Sequence[str], out: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self.live = self.out.isatty()
        self.services = list(services)
        self.width = max((len(s) for s in self.services), default=8)
        self.lines = {s: "waiting" for s in self.services}
        self.since = {s: time.monotonic() for s in self.services}
        self.active = {s: True for s in self.services}
        self._lock = threading.Lock()
        self._drawn = False
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.live:
            self._draw()
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.live:
            with self._lock:
                self._draw()

    def __call__(self, event: Event) -> None:
        """Record an event from the lifecycle."""
        with self._lock:
            if event.service not in self.lines:
                self.services.append(event.service)
                self.width = max(self.width, len(event.service))
                self.since[event.service] = time.monotonic()
            if event.detail == "already up":
                text = "already up"
            elif event.phase in {"healthy", "pulled"}:
                text = f"{event.phase} in {event.elapsed:.1f} s"
            elif event.phase == "failed":
                text = f"failed after {event.elapsed:.1f} s: {event.detail}"
            else:
                text = event.phase
            self.lines[event.service] = text
            self.active[event.service] = event.phase in _ACTIVE
            self.since[event.service] = time.monotonic()
            if self.live:
                self._draw()
            elif event.phase != "pulled":
                self.out.write(f"{event.service:<{self.width}}  {text}\n")
                self.out.flush()

    def _tick(self) -> None:
        while not self._stop.wait(0.1):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        frame = _SPINNER[int(time.monotonic() * 10) % len(_SPINNER)]
        if self._drawn:
            self.out.write(f"\x1b[{len(self.services)}F")
        for service in self.services:
            mark = frame if self.active.get(service) else " "
            self.out.write(f"\x1b[2K{mark} {service:<{self.width}}  {self.lines[service]}\n")
        self.out.flush()
        self._drawn = True
