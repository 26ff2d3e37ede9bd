"""Containers, volumes and networks of a Compose project: what the engine says, and removal."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from paxx_env.engine.docker import run_docker, run_docker_completed
from paxx_env.errors import EngineTimeout
from paxx_env.names import PAXX_LABEL

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
VOLUME_LABEL = "com.docker.compose.volume"
#: How long `docker stop` may take: Compose's default grace period for every container.
STOP_TIMEOUT = 120


@dataclass(frozen=True)
class ContainerState:
    """One container of the project as `docker inspect` reports it."""

    id: str
    service: str
    state: str
    health: str
    exit_code: int
    health_test: tuple[str, ...]
    health_output: str
    ports: tuple[tuple[str, int, int], ...]
    paxx_service: str
    #: the image as the container was created from it (what `docker ps` shows)
    image: str = ""
    labels: dict[str, str] = field(default_factory=dict, compare=False)


def parse_inspect(item: dict[str, Any]) -> ContainerState:
    """Turn one `docker inspect` record into a ContainerState."""
    labels = item.get("Config", {}).get("Labels") or {}
    state = item.get("State", {})
    health = state.get("Health") or {}
    log_entries = health.get("Log") or []
    test = (item.get("Config", {}).get("Healthcheck") or {}).get("Test") or []
    ports = []
    for target, bindings in sorted((item.get("NetworkSettings", {}).get("Ports") or {}).items()):
        for binding in bindings or []:
            ports.append(
                (binding.get("HostIp", ""), int(binding["HostPort"]), int(target.split("/")[0]))
            )
    return ContainerState(
        id=item["Id"],
        service=labels.get(SERVICE_LABEL, ""),
        state=state.get("Status", "unknown"),
        health=health.get("Status", "none") if health else "none",
        exit_code=int(state.get("ExitCode", 0)),
        health_test=tuple(test),
        health_output=(log_entries[-1].get("Output", "") if log_entries else "").strip(),
        ports=tuple(ports),
        paxx_service=labels.get(PAXX_LABEL, ""),
        image=str(item.get("Config", {}).get("Image", "")),
        labels={str(k): str(v) for k, v in labels.items()},
    )


def inspect_containers(ids: list[str]) -> list[ContainerState]:
    """The state of the given containers in one engine call (gone ones are skipped)."""
    if not ids:
        return []
    raw = run_docker(["inspect", "--type", "container", *ids], check=False)
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        return []
    return [parse_inspect(item) for item in items]


def project_containers(project_name: str, paxx_only: bool = True) -> list[ContainerState]:
    """The project's containers (those paxx created, unless `paxx_only` is False)."""
    args = [
        "ps",
        "--all",
        "--quiet",
        "--no-trunc",
        "--filter",
        f"label={PROJECT_LABEL}={project_name}",
    ]
    if paxx_only:
        args += ["--filter", f"label={PAXX_LABEL}"]
    return inspect_containers(run_docker(args).split())


# ----------------------------------------------------------------------------- one-call listing

_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
_PORT = re.compile(
    r"^(?P<host>[\d.:\[\]a-f]*):(?P<port>\d+)(?:-(?P<port_end>\d+))?"
    r"->(?P<target>\d+)(?:-(?P<target_end>\d+))?/(?P<proto>\w+)$"
)


@dataclass(frozen=True)
class ContainerRow:
    """One container as `docker ps` lists it: enough for a status report, in one call."""

    service: str
    short_id: str
    state: str
    #: healthy, unhealthy, starting, or none (no health check)
    health: str
    image: str
    labels: dict[str, str] = field(default_factory=dict)
    #: (host port, container port) pairs that are published
    published: frozenset[tuple[int, int]] = frozenset()


def list_project(project_name: str) -> dict[str, ContainerRow]:
    """The project's paxx containers by service, from one `docker ps`."""
    out = run_docker(
        [
            "ps",
            "--all",
            "--filter",
            f"label={PROJECT_LABEL}={project_name}",
            "--format",
            "{{json .}}",
        ]
    )
    found = {}
    for line in out.splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        labels = _labels(item.get("Labels", ""))
        service = labels.get(SERVICE_LABEL)
        if service and PAXX_LABEL in labels:
            match = _HEALTH.search(item.get("Status", ""))
            health = match.group(1).removeprefix("health: ") if match else "none"
            found[service] = ContainerRow(
                service=service,
                short_id=str(item.get("ID", "")),
                state=str(item.get("State", "")),
                health=health,
                image=str(item.get("Image", "")),
                labels=labels,
                published=frozenset(_published(item.get("Ports", ""))),
            )
    return found


def rows_of(listed: list[ContainerState]) -> dict[str, ContainerRow]:
    """The rows list_project would give, from containers inspected already (no engine call)."""
    found = {}
    for container in listed:
        if container.service and PAXX_LABEL in container.labels:
            found[container.service] = ContainerRow(
                service=container.service,
                short_id=container.id[:12],
                state=container.state,
                health=container.health,
                image=container.image,
                labels=dict(container.labels),
                published=frozenset((port, target) for _, port, target in container.ports),
            )
    return found


def _labels(text: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in text.split(",") if "=" in pair)


def _published(ports: str) -> set[tuple[int, int]]:
    """Host/container port pairs in `docker ps` text like 127.0.0.1:9000-9001->9000-9001/tcp."""
    pairs: set[tuple[int, int]] = set()
    for spec in ports.split(","):
        match = _PORT.match(spec.strip())
        if not match:
            continue
        first, target = int(match["port"]), int(match["target"])
        last = int(match["port_end"] or first)
        pairs.update((first + i, target + i) for i in range(last - first + 1))
    return pairs


# ----------------------------------------------------------------------------- health checks


def run_health_check(container_id: str, test: tuple[str, ...], timeout: float) -> tuple[bool, str]:
    """Run a container's health-check command once with `docker exec`: (passed, output)."""
    if not test or test[0] == "NONE":
        return True, ""
    if test[0] == "CMD-SHELL":
        command = ["/bin/sh", "-c", test[1]]
    elif test[0] == "CMD":
        command = list(test[1:])
    else:
        command = list(test)
    try:
        completed = run_docker_completed(["exec", container_id, *command], timeout=timeout)
    except EngineTimeout:
        return False, f"the health check did not answer within {timeout:.0f} s"
    return completed.returncode == 0, (completed.stdout + completed.stderr).strip()


# ----------------------------------------------------------------------------- removal


def stop_and_remove(ids: list[str]) -> None:
    """Stop containers (their stop signal, then the grace period) and remove them.

    `rm --volumes` removes anonymous volumes (an image's VOLUME paths paxx did not name),
    never named ones: those hold the data and go only with `remove_volumes`.
    """
    if ids:
        stop(ids)
        run_docker(["rm", "--volumes", *ids])


def stop(ids: list[str]) -> None:
    """Stop containers (their stop signal, then the grace period) and keep them."""
    if ids:
        run_docker(["stop", *ids], timeout=STOP_TIMEOUT)


def force_remove(ids: list[str]) -> None:
    """Remove containers at once (services that are no longer declared)."""
    if ids:
        run_docker(["rm", "--force", "--volumes", *ids])


def remove_network(project_name: str) -> None:
    """Remove the project's default network, unless containers not made by paxx still use it."""
    run_docker(["network", "rm", f"{project_name}_default"], check=False)


# ----------------------------------------------------------------------------- volumes


def project_volumes(project_name: str, names: set[str]) -> list[str]:
    """Volumes of the Compose project whose short name is in `names`; others stay unseen."""
    out = run_docker(
        ["volume", "ls", "--quiet", "--filter", f"label={PROJECT_LABEL}={project_name}"]
    )
    wanted = {f"{project_name}_{name}" for name in names}
    return sorted(volume for volume in out.split() if volume in wanted)


def volumes_created(volumes: list[str]) -> dict[str, str]:
    """Creation time (RFC 3339) of each volume that exists, in one engine call."""
    if not volumes:
        return {}
    out = run_docker(
        ["volume", "inspect", "--format", "{{.Name}} {{.CreatedAt}}", *volumes], check=False
    )
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def remove_volumes(volumes: list[str]) -> None:
    """Delete volumes (and the data in them)."""
    if volumes:
        run_docker(["volume", "rm", *volumes])


def describe_port_holder(port: int) -> str:
    """Who holds a host port: a container's name when Docker publishes it, else the process."""
    from paxx_env.ports import describe_holder

    names = run_docker(
        ["ps", "--filter", f"publish={port}", "--format", "{{.Names}}"], check=False
    ).split()
    if names:
        return f"the container {names[0]}"
    return describe_holder(port)
