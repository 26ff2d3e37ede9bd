"""What a stack's services and tasks are doing: replicas, task states, nodes, ports, logs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from paxx_env.engine.docker import attach_docker, run_docker, run_docker_completed
from paxx_env.engine.swarm import NAMESPACE_LABEL, run_on_manager
from paxx_env.names import PAXX_LABEL

#: The label on every task's container that names the deployed spec (see swarm/stackfile.py).
SPEC_LABEL = "dev.paxx.spec"

_PORT = re.compile(r"(?P<host>[^,\s]*):(?P<published>\d+)->(?P<target>\d+)/(?P<protocol>\w+)")


@dataclass(frozen=True)
class ServiceRow:
    """One service of the stack, from `docker service inspect`."""

    name: str
    #: the replicas it asks for
    desired: int
    image: str
    labels: dict[str, str]


def stack_services(stack: str) -> dict[str, ServiceRow]:
    """The stack's services by their name in the stack (redis, not shop_redis)."""
    ids = run_on_manager(
        ["service", "ls", "--quiet", "--filter", f"label={NAMESPACE_LABEL}={stack}"]
    ).split()
    if not ids:
        return {}
    # A service removed meanwhile is an error on stderr; the others are still listed.
    items = json.loads(run_docker(["service", "inspect", *ids], check=False) or "[]")
    rows = {}
    for item in items:
        spec = item.get("Spec") or {}
        name = str(spec.get("Name", "")).removeprefix(f"{stack}_")
        replicated = (spec.get("Mode") or {}).get("Replicated") or {}
        container = (spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}
        rows[name] = ServiceRow(
            name=name,
            desired=int(replicated.get("Replicas", 0)),
            image=str(container.get("Image", "")),
            labels=dict(spec.get("Labels") or {}),
        )
    return rows


@dataclass(frozen=True)
class TaskState:
    """One task of the stack, from `docker inspect`: what waiting for a deploy needs."""

    id: str
    #: the paxx service (the dev.paxx.service label of its container)
    service: str
    #: the digest of the spec it was made from (its dev.paxx.spec label)
    spec: str
    #: new, pending, assigned, preparing, starting, running, failed, rejected, shutdown, ...
    state: str
    desired: str
    error: str


def task_states(stack: str) -> list[TaskState]:
    """Every task the Swarm keeps for the stack (current ones and recent history)."""
    ids = run_docker(["stack", "ps", "--quiet", "--no-trunc", stack], check=False).split()
    if not ids:
        return []
    raw = run_docker(["inspect", "--type", "task", *ids], check=False)
    try:
        items: list[dict[str, Any]] = json.loads(raw or "[]")
    except ValueError:
        return []
    tasks = []
    for item in items:
        labels = ((item.get("Spec") or {}).get("ContainerSpec") or {}).get("Labels") or {}
        status = item.get("Status") or {}
        tasks.append(
            TaskState(
                id=str(item.get("ID", "")),
                service=str(labels.get(PAXX_LABEL, "")),
                spec=str(labels.get(SPEC_LABEL, "")),
                state=str(status.get("State", "")),
                desired=str(item.get("DesiredState", "")),
                error=str(status.get("Err", "")),
            )
        )
    return tasks


@dataclass(frozen=True)
class TaskRow:
    """One task as `docker stack ps` lists it: what `paxx status` shows."""

    service: str
    node: str
    #: the first word of CURRENT STATE, lower case: running, starting, failed, ...
    state: str
    desired: str
    error: str
    #: (published, target, protocol) of the ports it publishes on its node
    ports: tuple[tuple[int, int, str], ...]


def task_rows(stack: str) -> list[TaskRow]:
    """The stack's tasks, newest first per service (`docker stack ps` order)."""
    out = run_docker(["stack", "ps", "--no-trunc", "--format", "{{json .}}", stack], check=False)
    rows = []
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        item = json.loads(line)
        name = str(item.get("Name", "")).removeprefix(f"{stack}_")
        ports = {
            (int(m["published"]), int(m["target"]), m["protocol"])
            for m in _PORT.finditer(str(item.get("Ports", "")))
        }
        rows.append(
            TaskRow(
                service=name.rsplit(".", 1)[0],
                node=str(item.get("Node", "")),
                state=(str(item.get("CurrentState", "")).split() or [""])[0].lower(),
                desired=str(item.get("DesiredState", "")).lower(),
                error=str(item.get("Error", "")),
                ports=tuple(sorted(ports)),
            )
        )
    return rows


def service_logs(stack: str, service: str, tail: int) -> str:
    """The last `tail` log lines of a service's tasks (stdout and stderr)."""
    completed = run_docker_completed(
        ["service", "logs", "--no-task-ids", "--tail", str(tail), f"{stack}_{service}"]
    )
    return (completed.stdout + completed.stderr).rstrip()


def stream_service_logs(stack: str, service: str, follow: bool, tail: int | None) -> int:
    """Print a service's logs on this terminal; return the docker CLI's exit code."""
    args = ["service", "logs"]
    if follow:
        args.append("--follow")
    if tail is not None:
        args += ["--tail", str(tail)]
    return attach_docker([*args, f"{stack}_{service}"])
