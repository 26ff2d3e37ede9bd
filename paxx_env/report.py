"""The status report: what runs, how healthy it is, where to reach it, how it drifted.

Computed from the summary paxx keeps in .paxx/local/state.json (no catalog needed) and one
engine call (`docker ps` with a project filter). `ui.print_status` prints it; the JSON form is
documented in docs/commands/status.md, and `SCHEMA` changes only when a field is removed or
changes meaning.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from paxx_env.engine.containers import (
    ContainerRow,
    ContainerState,
    list_project,
    project_containers,
    rows_of,
)
from paxx_env.engine.forward import forward_alive
from paxx_env.engine.images import familiar, repo_digests
from paxx_env.engine.target import EngineTarget
from paxx_env.envhash import HASH_LABEL, current_env_hash
from paxx_env.errors import ConfigError
from paxx_env.lastup import LastUp, bind_engine
from paxx_env.lockfile import read_lock
from paxx_env.state import ServiceSummary, State, edited_files, load_state

SCHEMA = 1


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
    #: The image's registry digest: from paxx.lock when it pins the image; with details,
    #: else from the engine. None when unknown.
    digest: str | None = None
    #: With details: the last output of the health check, when the service is unhealthy.
    health_output: str | None = None
    #: feature -> provider of each declared feature this service serves
    features: dict[str, str] = field(default_factory=dict)
    #: what Docker says (`docker ps`); `health` is "healthy" already when paxx saw it answer
    docker_health: str | None = None


@dataclass
class Drift:
    """How the running environment differs from what the declaration says now."""

    declaration_changed: bool = False
    stale_containers: list[str] = field(default_factory=list)
    edited_files: list[str] = field(default_factory=list)
    #: edited keep-edits files: the user's, which paxx leaves as they are (not drift)
    kept_files: list[str] = field(default_factory=list)
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

    def remarks(self) -> list[str]:
        """Lines worth saying that are not differences to act on."""
        if not self.kept_files:
            return []
        return [
            f"yours since you edited them: {', '.join(self.kept_files)} (paxx leaves them as "
            "they are; for paxx's version of one, move it aside and run `paxx up`)"
        ]


@dataclass
class EngineStatus:
    """Where the environment runs, and the SSH forward of its ports from a remote engine."""

    context: str
    endpoint: str
    forwarded_ports: list[int] = field(default_factory=list)
    forward_running: bool | None = None

    def describe(self) -> str:
        """`context remote (ssh://me@box)`, or the endpoint alone."""
        return EngineTarget(self.context, self.endpoint).describe()


@dataclass
class ProjectStatus:
    """The whole report."""

    project: str
    services: list[ServiceStatus]
    env_hash: str = ""
    drift: Drift = field(default_factory=Drift)
    engine: EngineStatus | None = None

    def docker_behind(self) -> list[str]:
        """Services paxx saw answer while Docker has not run its first health check yet."""
        return [s.name for s in self.services if s.health != s.docker_health == "starting"]

    def to_json(self) -> str:
        """The report as JSON (schema in docs/commands/status.md)."""
        payload: dict[str, Any] = {
            "schema": SCHEMA,
            "project": self.project,
            "env_hash": self.env_hash,
            "engine": asdict(self.engine) if self.engine else None,
            "services": [asdict(s) for s in self.services],
            "drift": asdict(self.drift),
        }
        return json.dumps(payload, indent=2)


def project_report(
    root: Path,
    state: State | None = None,
    env_hash: str = "",
    details: bool = False,
    listed: list[ContainerState] | None = None,
) -> ProjectStatus:
    """The report of the project at `root`.

    `state` is state.json when the caller has read it; `env_hash` the current environment
    hash when the caller knows it (it has just rendered), else it is computed from disk.
    With `details`, the engine is also asked for the digests of images paxx.lock does not
    pin and for the health-check output of unhealthy services (see add_details). `listed`:
    every container of the project, when the caller has just inspected them (a `paxx up`
    with nothing to do); the engine is not asked again.
    """
    state = state if state is not None else load_state(root)
    if not state.project:
        return project_status(preview_state(root), LastUp())
    drift = Drift(
        declaration_changed=(env_hash or current_env_hash(root)) != state.env_hash,
        edited_files=edited_files(root, state),
        kept_files=edited_files(root, state, kept=True),
        lock=list(state.lock_problems),
    )
    try:
        read_lock(root)
    except ConfigError as error:
        drift.lock = [error.message]
    last = LastUp.load(root)
    bind_engine(root, last)
    report = project_status(state, last, drift, None if listed is None else rows_of(listed))
    report.engine = _engine_status(last)
    if details:
        add_details(report)
    return report


def add_details(report: ProjectStatus) -> None:
    """Fill in what `paxx status` leaves out to stay at one engine call.

    The digests of images that paxx.lock does not pin (one call), and the last health-check
    output of unhealthy services (one more, only when one is unhealthy).
    """
    unpinned = [s.image for s in report.services if s.digest is None]
    digests = repo_digests(unpinned) if unpinned else {}
    for service in report.services:
        if service.digest is None:
            service.digest = digests.get(familiar(service.image))
    unhealthy = {s.name: s for s in report.services if s.health == "unhealthy"}
    if unhealthy and report.project:
        for container in project_containers(report.project, paxx_only=False):
            if container.service in unhealthy:
                unhealthy[container.service].health_output = container.health_output


def _engine_status(last: LastUp) -> EngineStatus | None:
    target = last.target
    if target is None:
        return None
    engine = EngineStatus(target.context, target.endpoint)
    if last.forward:
        engine.forwarded_ports = list(last.forward["ports"])
        engine.forward_running = forward_alive(last.forward["pid"], engine.forwarded_ports)
    return engine


def project_status(
    state: State,
    last: LastUp,
    drift: Drift | None = None,
    rows: dict[str, ContainerRow] | None = None,
) -> ProjectStatus:
    """Combine the declared services with what the engine reports (`rows`, else one call).

    Docker's "starting" is reported as "healthy" for containers whose health check paxx ran
    successfully during the last `up` (`last`).
    """
    if rows is not None:
        containers = dict(rows)
    else:
        containers = list_project(state.project) if state.project else {}
    drift = drift or Drift()
    for name, row in sorted(containers.items()):
        if state.env_hash and row.labels.get(HASH_LABEL) != state.env_hash:
            drift.stale_containers.append(name)
    services = [
        _declared(name, summary, containers.pop(name, None), last)
        for name, summary in sorted(state.services.items())
    ]
    for name, row in sorted(containers.items()):
        services.append(
            ServiceStatus(
                name=name,
                declared=False,
                state=row.state,
                health=_health(row, last),
                image=row.image,
                env_hash=row.labels.get(HASH_LABEL),
                docker_health=row.health,
            )
        )
    return ProjectStatus(state.project, services, state.env_hash, drift)


def _declared(
    name: str, summary: ServiceSummary, row: ContainerRow | None, last: LastUp
) -> ServiceStatus:
    published = row.published if row else frozenset()
    ports = [
        PortStatus(var, "127.0.0.1", host, target, (host, target) in published)
        for var, (host, target) in sorted(summary.ports.items(), key=lambda kv: kv[1][0])
    ]
    return ServiceStatus(
        name=name,
        declared=True,
        state=row.state if row else "not created",
        health=_health(row, last) if row else None,
        image=summary.image,
        ports=ports,
        urls=dict(summary.urls),
        env_hash=row.labels.get(HASH_LABEL) if row else None,
        digest=summary.image.partition("@")[2] or None,
        features=dict(summary.features),
        docker_health=row.health if row else None,
    )


def _health(row: ContainerRow, last: LastUp) -> str:
    if row.health == "starting" and last.healthy_by_probe(row.short_id):
        return "healthy"
    return row.health


def preview_state(root: Path) -> State:
    """State for a project paxx has not rendered yet: declared services, nothing running."""
    from paxx_env.catalog import load_catalog
    from paxx_env.declaration import open_project
    from paxx_env.render import render_project

    catalog = load_catalog()
    project = open_project(root, catalog)
    declaration = project.declaration
    render = render_project(
        catalog,
        list(declaration.features),
        project.app_name,
        "",
        image_overrides={k: v.image for k, v in declaration.services.items() if v.image},
        providers=declaration.providers,
    )
    return State(
        project="",
        services={
            name: ServiceSummary(image=render.images[name], features=render.serving[name])
            for name in render.services
        },
    )
