"""`paxx doctor`: everything paxx depends on, checked one by one, each with a fix."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from paxx_env.catalog import Catalog
from paxx_env.declaration import Project
from paxx_env.engine.containers import describe_port_holder, project_containers
from paxx_env.engine.info import START_INTERVAL_API, EngineInfo, check_engine, docker_root_dir
from paxx_env.engine.target import current_target
from paxx_env.engine.tasks import stack_services
from paxx_env.errors import PaxxError
from paxx_env.fsio import read_bytes, sha256
from paxx_env.lastup import SWARM, LastUp, bind_engine
from paxx_env.paths import ENGINE_OVERLAY
from paxx_env.ports import describe_holder, port_is_free
from paxx_env.render import HEALTH_POLICY, START_INTERVAL
from paxx_env.state import State, load_state
from paxx_env.sync import plan_render

OK, WARN, FAIL = "ok", "warn", "fail"
LOW_DISK = 2 * 1024**3
NO_DISK = 200 * 1024**2


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    status: str
    name: str
    message: str
    fix: str = ""


def run_checks(project: Project | None, catalog: Catalog) -> Iterator[Check]:
    """Every check, in order; later checks that need the engine are skipped without it."""
    info = None
    target = None
    try:
        bound = bind_engine(project.root, LastUp.load(project.root)) if project else None
        target = bound or current_target()
        info = check_engine()
    except PaxxError as error:
        yield Check(FAIL, "engine", error.message, error.hint)
    if info is not None:
        yield Check(
            OK,
            "engine",
            f"Docker Engine {info.engine_version} (API {info.api_version})"
            + (f" at {target.describe()}" if target else ""),
        )
        yield Check(OK, "compose", f"Docker Compose {info.compose_version}")
        yield _readiness_check(info)
    if project is None:
        yield Check(
            WARN, "project", "no pyproject.toml or paxx.toml here", "run doctor in a project"
        )
        return
    state = load_state(project.root)
    on_swarm = LastUp.load(project.root).runs_on == SWARM
    yield from _port_checks(state, info is not None, on_swarm)
    yield from _disk_checks(project.root, info is not None)
    yield from _file_checks(project, catalog, state)


def _readiness_check(info: EngineInfo) -> Check:
    """How Docker's own health checks run on this engine, beside paxx's probes (start.py)."""
    waits = "`paxx up` waits for each service's probe from this machine"
    if info.start_interval:
        return Check(
            OK,
            "readiness",
            f"start_interval overlay: engine API {info.api_version} takes a health-check "
            f"start_interval, so {ENGINE_OVERLAY} sets {START_INTERVAL} and Docker's own "
            f"check agrees that soon; {waits}",
        )
    needed = ".".join(map(str, START_INTERVAL_API))
    return Check(
        WARN,
        "readiness",
        f"engine API {info.api_version} has no health-check start_interval (API {needed}+, "
        f"Docker Engine 25): Docker runs its first check one interval "
        f"({HEALTH_POLICY['interval']}) after a start and says `starting` until then; "
        f"{waits} (with `docker exec` for a service that declares none)",
        "nothing to do for paxx; Docker Engine 25 or newer makes plain `docker compose up "
        "--wait` fast too",
    )


def _port_checks(state: State, engine_ok: bool, on_swarm: bool = False) -> Iterator[Check]:
    if not state.services:
        yield Check(OK, "ports", "no ports chosen yet (they are chosen at `paxx feature add`)")
        return
    running: set[str] = set()
    if engine_ok and state.project and on_swarm:
        # A published port of the stack is held by its own service (swarm.md).
        running = set(stack_services(state.project))
    elif engine_ok and state.project:
        running = {
            c.paxx_service for c in project_containers(state.project) if c.state == "running"
        }
    problems = []
    for service, summary in sorted(state.services.items()):
        if service in running:
            continue
        for key, (port, _target) in sorted(summary.ports.items()):
            if not port_is_free(port):
                holder = describe_port_holder(port) if engine_ok else describe_holder(port)
                problems.append(f"{port} ({key}, {service}) is taken by {holder or 'a process'}")
    if problems:
        yield Check(
            FAIL,
            "ports",
            "; ".join(problems),
            "stop those processes, or delete the keys from .env so `paxx up` picks free ports",
        )
    else:
        yield Check(OK, "ports", "every host port of the project is free or held by its service")


def _disk_checks(root: Path, engine_ok: bool) -> Iterator[Check]:
    places = {"project folder": root}
    if engine_ok:
        docker_root = docker_root_dir()
        if docker_root and Path(docker_root).exists():
            places["Docker data"] = Path(docker_root)
    for label, path in places.items():
        free = shutil.disk_usage(path).free
        text = f"{label} ({path}): {free / 1024**3:.1f} GiB free"
        if free < NO_DISK:
            yield Check(
                FAIL, "disk", text, "free some disk space (`docker system df` shows Docker's)"
            )
        elif free < LOW_DISK:
            yield Check(WARN, "disk", text, "images and volumes need room; free some disk space")
        else:
            yield Check(OK, "disk", text)


def _file_checks(project: Project, catalog: Catalog, state: State) -> Iterator[Check]:
    try:
        render = plan_render(project, catalog).render
    except PaxxError as error:
        yield Check(FAIL, "files", error.message, error.hint)
        return
    missing: list[str] = []
    outdated: list[str] = []
    edited: list[str] = []
    kept: list[str] = []
    for path, content in sorted(render.files.items()):
        try:
            current = read_bytes(project.root / path)
        except PaxxError as error:
            yield Check(FAIL, "files", error.message, error.hint)
            continue
        if current is None:
            missing.append(path)
        elif current != content:
            ours = state.files.get(path) == sha256(current)
            theirs = kept if path in render.keep_edits else edited
            (outdated if ours else theirs).append(path)
    if edited:
        yield Check(
            WARN,
            "files",
            f"edited by hand: {', '.join(edited)}",
            "keep the edit, or `paxx up --force` to regenerate (a copy is kept)",
        )
    if kept:
        # A sync leaves these as they are (sync/files.py, "skip"); --force would overwrite
        # every edited file at once. A missing one is written again, whatever its history.
        yield Check(
            WARN,
            "files",
            f"yours (edited, or there before paxx), so paxx leaves them as they are: "
            f"{', '.join(kept)}",
            "nothing to do to keep them; for paxx's version of one, move it aside and run "
            "`paxx up`, which writes it again",
        )
    if missing or outdated:
        yield Check(
            WARN,
            "files",
            f"not up to date with the declaration: {', '.join(missing + outdated)}",
            "run `paxx up` (or `paxx feature add`) to regenerate them",
        )
    if not (edited or kept or missing or outdated):
        yield Check(OK, "files", "every generated file matches the declaration")
