"""`paxx status` of a stack: each service's replicas, health, node and published ports.

From the summary in state.json and two engine calls asked at once (`docker service ls` and
`docker stack ps`). Swarm marks a task `running` only once its health check has passed, so
a running task is a healthy one. The JSON form is in docs/commands/status.md.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from paxx_env.engine.tasks import ServiceRow, TaskRow, stack_services, task_rows
from paxx_env.envhash import HASH_LABEL, current_env_hash
from paxx_env.lastup import LastUp, bind_engine
from paxx_env.report import Drift, EngineStatus, preview_state
from paxx_env.state import ServiceSummary, State, edited_files, load_state

SCHEMA = 1
_STARTING = frozenset({"new", "pending", "assigned", "accepted", "preparing", "ready", "starting"})


@dataclass
class PublishedPort:
    """A port a task publishes on its node (every interface of it)."""

    published: int
    target: int
    protocol: str


@dataclass
class SwarmServiceStatus:
    """One row of `paxx status` for a stack."""

    name: str
    declared: bool
    #: tasks running / wanted; 0/0 when the service is not deployed
    running: int
    desired: int
    #: the current task's state (running, starting, ...), or `not deployed`
    state: str
    #: healthy (running), starting, or null
    health: str | None
    node: str
    image: str
    ports: list[PublishedPort] = field(default_factory=list)
    #: host:port on the stack's network, for a container attached to it
    addresses: list[str] = field(default_factory=list)
    #: the latest task error while the service is not healthy
    error: str = ""
    #: the environment hash the service was deployed with (null when not deployed)
    env_hash: str | None = None


@dataclass
class SwarmStatus:
    """The whole report for a stack."""

    project: str
    stack: str
    services: list[SwarmServiceStatus]
    env_hash: str = ""
    drift: Drift = field(default_factory=Drift)
    engine: EngineStatus | None = None

    @property
    def network(self) -> str:
        """The stack's attachable network."""
        return f"{self.stack}_default"

    def to_json(self) -> str:
        """The report as JSON (schema in docs/commands/status.md)."""
        payload: dict[str, Any] = {
            "schema": SCHEMA,
            "target": "swarm",
            "project": self.project,
            "stack": self.stack,
            "network": self.network,
            "env_hash": self.env_hash,
            "engine": asdict(self.engine) if self.engine else None,
            "services": [asdict(s) for s in self.services],
            "drift": asdict(self.drift),
        }
        return json.dumps(payload, indent=2)


def swarm_report(root: Path, state: State | None = None, env_hash: str = "") -> SwarmStatus:
    """The report of the project at `root`, whose services run (or would run) as a stack."""
    state = state if state is not None else load_state(root)
    if not state.project:
        state = preview_state(root)
    last = LastUp.load(root)
    bind_engine(root, last)
    stack = state.project
    rows: dict[str, ServiceRow] = {}
    tasks: list[TaskRow] = []
    if stack:
        with ThreadPoolExecutor(max_workers=1) as pool:
            asked = pool.submit(task_rows, stack)
            rows = stack_services(stack)
            tasks = asked.result()
    services = [
        _row(name, True, rows.pop(name, None), tasks, summary)
        for name, summary in sorted(state.services.items())
    ]
    services += [_row(name, False, row, tasks, None) for name, row in sorted(rows.items())]
    drift = Drift(
        declaration_changed=bool(stack) and (env_hash or current_env_hash(root)) != state.env_hash,
        stale_containers=[
            s.name for s in services if s.env_hash not in (None, state.env_hash) and s.declared
        ],
        edited_files=edited_files(root, state),
        kept_files=edited_files(root, state, kept=True),
        lock=list(state.lock_problems),
    )
    target = last.target
    engine = EngineStatus(target.context, target.endpoint) if target else None
    return SwarmStatus(state.project, stack, services, state.env_hash, drift, engine)


def _row(
    name: str,
    declared: bool,
    row: ServiceRow | None,
    tasks: list[TaskRow],
    summary: ServiceSummary | None,
) -> SwarmServiceStatus:
    mine = [t for t in tasks if t.service == name]
    current = next((t for t in mine if t.desired == "running"), None)
    state = current.state if current else ("no task" if row else "not deployed")
    health = "healthy" if state == "running" else "starting" if state in _STARTING else None
    error = "" if health == "healthy" else next((t.error for t in mine if t.error), "")
    targets = sorted({target for _, target in summary.ports.values()}) if summary else []
    return SwarmServiceStatus(
        name=name,
        declared=declared,
        running=sum(1 for t in mine if t.desired == "running" and t.state == "running"),
        desired=row.desired if row else 0,
        state=state,
        health=health,
        node=current.node if current else "",
        image=row.image if row else (summary.image if summary else ""),
        ports=[PublishedPort(*port) for port in (current.ports if current else ())],
        addresses=[f"{name}:{port}" for port in targets],
        error=error,
        env_hash=row.labels.get(HASH_LABEL) if row else None,
    )
