"""`paxx status`: what runs, how healthy it is, where to reach it — in one engine call.

It reads the summary paxx keeps in .paxx/local/state.json, so it does not load the catalog,
and asks the engine once (`docker ps` with a project filter) for every container's state.
The JSON form is documented in docs/commands/status.md; `schema` changes only when a field
is removed or changes meaning.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from paxx_env.engine import PROJECT_LABEL, SERVICE_LABEL, run_docker
from paxx_env.envhash import HASH_LABEL, catalog_version, environment_hash
from paxx_env.errors import ConfigError
from paxx_env.fsio import read_bytes, sha256
from paxx_env.lockfile import LOCK_FILE, read_lock
from paxx_env.names import PAXX_LABEL
from paxx_env.paths import PROBED_FILE, catalog_root
from paxx_env.state import ServiceSummary, State, load_state

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
    env_hash: str | None = None


@dataclass
class Drift:
    """How the running environment differs from what the declaration says now."""

    declaration_changed: bool = False
    stale_containers: list[str] = field(default_factory=list)
    edited_files: list[str] = field(default_factory=list)
    lock: list[str] = field(default_factory=list)

    def messages(self) -> list[str]:
        """One line per difference, each saying what to do."""
        lines = []
        if self.declaration_changed:
            lines.append(
                "the declaration, paxx.lock or the catalog changed since the files were "
                "generated: run `paxx up`"
            )
        if self.stale_containers:
            lines.append(
                f"{', '.join(self.stale_containers)}: created from an older generation: "
                "run `paxx up` to recreate"
            )
        if self.edited_files:
            lines.append(
                f"edited by hand: {', '.join(self.edited_files)} (paxx keeps your edit; "
                "`paxx up --force` regenerates)"
            )
        if self.lock:
            lines.append(f"paxx.lock: {'; '.join(self.lock)}: run `paxx lock`")
        return lines


@dataclass
class ProjectStatus:
    """The whole report."""

    project: str
    services: list[ServiceStatus]
    env_hash: str = ""
    drift: Drift = field(default_factory=Drift)

    def to_json(self) -> str:
        """The report as JSON (schema in docs/commands/status.md)."""
        payload: dict[str, Any] = {
            "schema": SCHEMA,
            "project": self.project,
            "env_hash": self.env_hash,
            "services": [asdict(s) for s in self.services],
            "drift": asdict(self.drift),
        }
        return json.dumps(payload, indent=2)


def project_status(
    state: State, probed: set[str] | None = None, root: Path | None = None
) -> ProjectStatus:
    """Combine the declared services with what the engine reports, and the drift.

    `probed` holds ids of containers whose health check paxx ran successfully during `up`
    before Docker ran it; Docker's "starting" is reported as "healthy" for those.
    """
    containers = _containers(state.project) if state.project else {}
    probed = probed or set()
    drift = Drift(lock=list(state.lock_problems))
    if root is not None and state.project:
        drift.declaration_changed = current_env_hash(root) != state.env_hash
        drift.edited_files = edited_files(root, state)
        try:
            read_lock(root)
        except ConfigError as error:
            drift.lock = [error.message]
    for name, item in sorted(containers.items()):
        label = _labels(item).get(HASH_LABEL)
        if state.env_hash and label != state.env_hash:
            drift.stale_containers.append(name)
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
                env_hash=_labels(found).get(HASH_LABEL) if found else None,
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
                env_hash=_labels(found).get(HASH_LABEL),
            )
        )
    return ProjectStatus(state.project, services, state.env_hash, drift)


def print_status(root: Path, json_output: bool) -> None:
    """`paxx status`: the report as a table (or JSON) on stdout."""
    state = load_state(root)
    if not state.project:
        state = preview_state(root)
    report = project_status(state, load_probed(root), root)
    if json_output:
        sys.stdout.write(report.to_json() + "\n")
        return
    if not report.services:
        sys.stdout.write("No services declared. Add one with `paxx feature add NAME`.\n")
        return
    from paxx_env.ui import table

    rows = []
    for service in report.services:
        ports = ", ".join(f"{p.host}:{p.port}->{p.target}" for p in service.ports) or "-"
        urls = "  ".join(f"{label}: {url}" for label, url in service.urls.items()) or "-"
        name = service.name if service.declared else f"{service.name} (not declared)"
        rows.append([name, service.state, service.health or "-", ports, urls])
    lines = [f"project {report.project}  environment {report.env_hash or '-'}"]
    lines.append(table(rows, ["SERVICE", "STATE", "HEALTH", "PORTS", "URLS"]))
    lines += [f"drift: {line}" for line in report.drift.messages()]
    sys.stdout.write("\n".join(lines) + "\n")


def preview_state(root: Path) -> State:
    """State for a project paxx has not rendered yet: declared services, nothing running."""
    from paxx_env.catalog import load_catalog
    from paxx_env.render import render_project
    from paxx_env.spec import open_project

    catalog = load_catalog()
    project = open_project(root, catalog)
    render = render_project(catalog, list(project.declaration.features), project.app_name, "")
    return State(
        project="",
        services={name: ServiceSummary(image=render.images[name]) for name in render.services},
    )


def current_env_hash(root: Path) -> str:
    """The environment hash of the declaration and lock as they are on disk now."""
    table: dict[str, Any] = {}
    for name in ("pyproject.toml", "paxx.toml"):
        try:
            data = tomllib.loads((root / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return "unreadable"
        found = data.get("tool", {}).get("paxx") if name == "pyproject.toml" else data
        if found is not None:
            table = found
            break
    lock = read_bytes(root / LOCK_FILE)
    return environment_hash(table, lock, catalog_version(catalog_root()))


def edited_files(root: Path, state: State) -> list[str]:
    """Generated files whose content differs from what paxx last wrote."""
    edited = []
    for path, digest in sorted(state.files.items()):
        content = read_bytes(root / path)
        if content is not None and sha256(content) != digest:
            edited.append(path)
    return edited


def _labels(item: dict[str, Any]) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in item.get("Labels", "").split(",") if "=" in pair)


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
        labels = _labels(item)
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
    """Container ids the last `paxx up` saw healthy (see lifecycle.record_up)."""
    try:
        data = json.loads((root / PROBED_FILE).read_text(encoding="utf-8"))
        return {str(i) for i in data.get("healthy", [])}
    except (OSError, ValueError, AttributeError):
        return set()
