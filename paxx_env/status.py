"""`paxx status`: what runs, how healthy it is, where to reach it — in one engine call.

It reads the summary paxx keeps in .paxx/local/state.json, so it does not load the catalog,
and asks the engine once (`docker ps` with a project filter) for every container's state.
The JSON form is documented in docs/commands/status.md; `schema` changes only when a field
is removed or changes meaning.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from paxx_env.engine import PROJECT_LABEL, SERVICE_LABEL, run_docker
from paxx_env.names import PAXX_LABEL
from paxx_env.paths import PROBED_FILE
from paxx_env.state import State

SCHEMA = 1
_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
_PORT = re.compile(
    r"^(?P<host>[\d.:\[\]a-f]*):(?P<port>\d+)(?:-(?P<port_end>\d+))?"
    r"->(?P<target>\d+)(?:-(?P<target_end>\d+))?/(?P<proto>\w+)$"
)


@dataclass
class PortStatus:
    """One published port."""

    variable: str
    host: str
    port: int
    target: int
    published: bool


@dataclass
class ServiceStatus:
    """One row of `paxx status`."""

    name: str
    declared: bool
    state: str
    health: str | None
    image: str
    ports: list[PortStatus] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)


@dataclass
class ProjectStatus:
    """The whole report."""

    project: str
    services: list[ServiceStatus]

    def to_json(self) -> str:
        """The report as JSON (schema in docs/commands/status.md)."""
        payload: dict[str, Any] = {
            "schema": SCHEMA,
            "project": self.project,
            "services": [asdict(s) for s in self.services],
        }
        return json.dumps(payload, indent=2)


def project_status(state: State, probed: set[str] | None = None) -> ProjectStatus:
    """Combine the declared services with what the engine reports.

    `probed` holds ids of containers whose health check paxx ran successfully during `up`
    before Docker ran it; Docker's "starting" is reported as "healthy" for those.
    """
    containers = _containers(state.project) if state.project else {}
    probed = probed or set()
    services = []
    for name, summary in sorted(state.services.items()):
        found = containers.pop(name, None)
        published = _published(found.get("Ports", "")) if found else set()
        ports = [
            PortStatus(var, "127.0.0.1", host, target, (host, target) in published)
            for var, (host, target) in sorted(summary.ports.items(), key=lambda kv: kv[1][0])
        ]
        services.append(
            ServiceStatus(
                name=name,
                declared=True,
                state=found["State"] if found else "not created",
                health=_health(found, probed) if found else None,
                image=summary.image,
                ports=ports,
                urls=dict(summary.urls),
            )
        )
    for name, found in sorted(containers.items()):
        services.append(
            ServiceStatus(
                name=name,
                declared=False,
                state=found["State"],
                health=_health(found, probed),
                image=found.get("Image", ""),
            )
        )
    return ProjectStatus(state.project, services)


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


def _containers(project: str) -> dict[str, dict[str, Any]]:
    out = run_docker(
        ["ps", "--all", "--filter", f"label={PROJECT_LABEL}={project}", "--format", "{{json .}}"]
    )
    found = {}
    for line in out.splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        labels = dict(
            pair.split("=", 1) for pair in item.get("Labels", "").split(",") if "=" in pair
        )
        service = labels.get(SERVICE_LABEL)
        if service and PAXX_LABEL in labels:
            found[service] = item
    return found


def _health(item: dict[str, Any], probed: set[str]) -> str:
    match = _HEALTH.search(item.get("Status", ""))
    if not match:
        return "none"
    if match.group(1) != "health: starting":
        return match.group(1)
    short = str(item.get("ID", ""))
    return "healthy" if short and any(full.startswith(short) for full in probed) else "starting"


def load_probed(root: Path) -> set[str]:
    """Container ids recorded by the last `paxx up` (see lifecycle.record_probed)."""
    try:
        data = json.loads((root / PROBED_FILE).read_text(encoding="utf-8"))
        return {str(i) for i in data.get("healthy", [])}
    except (OSError, ValueError, AttributeError):
        return set()
