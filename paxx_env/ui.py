"""Terminal output: file actions, tables, the status report, and the progress lines of `up`."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # kept out of start-up: `paxx status` prints tables without them
    from paxx_env.lifecycle import Event
    from paxx_env.report import ProjectStatus
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
        rows.append([name, service.state, service.health or "-", ports, urls])
    header = f"project {report.project}  environment {report.env_hash or '-'}"
    engine = report.engine
    lines = [header + (f"  engine {engine.describe()}" if engine else "")]
    if engine and engine.forward_running is not None:
        ports = ", ".join(map(str, engine.forwarded_ports))
        state = "running" if engine.forward_running else "stopped: `paxx up` restarts it"
        lines.append(f"ports forwarded over SSH to 127.0.0.1: {ports} ({state})")
    lines.append(table(rows, ["SERVICE", "STATE", "HEALTH", "PORTS", "URLS"]))
    behind = report.docker_behind()
    if behind:
        lines.append(
            f"docker: {', '.join(behind)}: health: starting until Docker's first health check "
            f"(one interval after the start); paxx saw {'it' if len(behind) == 1 else 'them'} "
            "answer"
        )
    lines += [f"drift: {line}" for line in report.drift.messages()]
    out.write("\n".join(lines) + "\n")


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
            self.active[event.service] = event.phase in {"pulling", "starting", "waiting"}
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
