"""up / wait / down / logs: the life of the stack, reported as events for the UI."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from paxx_env import engine, workspace
from paxx_env.catalog import Catalog
from paxx_env.errors import ConflictError, Interrupted, PaxxError, ServiceFailed, UsageError
from paxx_env.mirror import registry_mirror, through_mirror
from paxx_env.paths import ENV_FILE
from paxx_env.ports import port_is_free
from paxx_env.spec import Project
from paxx_env.state import load_state
from paxx_env.uprecord import already_up, fingerprint_of, load_up_record, record_up

POLL_SECONDS = 0.1
INSPECT_SECONDS = 0.5
MAX_PROBE_PAUSE = 0.5
_INTERRUPTED_WAITING = Interrupted(
    "interrupted while waiting; the services go on starting in the background",
    "run `paxx status` to see them, or `paxx up` to wait again",
)
PROBE_TIMEOUT = 5.0
LOG_LINES = 50


@dataclass(frozen=True)
class Event:
    """A step in the life of one service: pulling, starting, healthy, running, failed."""

    service: str
    phase: str
    elapsed: float = 0.0
    detail: str = ""


Emit = Callable[[Event], None]


def open_stack(result: workspace.SyncResult, root_project: Project) -> engine.Project:
    """The engine-side view of a synced project."""
    engine.set_managed_keys(result.values)
    return engine.Project(root_project.root, result.project_name, result.compose_files, ENV_FILE)


def up(
    project: Project,
    catalog: Catalog,
    services: list[str],
    timeout: float,
    force: bool,
    emit: Emit,
) -> workspace.SyncResult:
    """Render, start the declared services (or `services`) and wait until they are healthy."""
    declared = catalog.services_for(list(project.declaration.features))
    if not declared:
        raise UsageError(
            "no services are declared, so there is nothing to start",
            "add a feature first, e.g. `paxx feature add cache` (`paxx feature list` shows all)",
        )
    targets = check_services(services, declared) if services else declared
    # python-on-whales takes ~300 ms to import and is needed only to start containers: when
    # the last `up` left things as they are on disk now (probably nothing to start), it is
    # not loaded at all; otherwise it loads in the background while paxx renders.
    state = load_state(project.root)
    likely_noop = load_up_record(project.root).get("runtime") == fingerprint_of(
        project.root, state.project, state.compose_files
    )
    if not likely_noop:
        threading.Thread(target=engine.warm_up, daemon=True).start()
    info = engine.check_engine()
    result = workspace.sync(
        project,
        catalog,
        force=force,
        start_interval=info.start_interval,
        command="up",
        strict_lock=True,
    )
    stack = open_stack(result, project)
    mirror = registry_mirror()
    images = {s: through_mirror(result.render.images[s], mirror) for s in targets}
    volumes = [f"{stack.name}_{v}" for s in targets for v in catalog.services[s].volumes]
    # Three independent questions to the engine, asked at once.
    with ThreadPoolExecutor(max_workers=3) as pool:
        existing_answer = pool.submit(stack.containers)
        volumes_answer = pool.submit(stack.volumes_created, volumes)
        missing_answer = pool.submit(stack.missing_images, images.values())
        existing = existing_answer.result()
        created = volumes_answer.result()
        missing = set(missing_answer.result())
    stale = [c.id for c in existing if c.paxx_service and c.paxx_service not in declared]
    stack.remove_containers(stale)
    fingerprint = fingerprint_of(project.root, result.project_name, result.compose_files)
    if not stale and already_up(project.root, existing, targets, fingerprint):
        for service in targets:
            emit(Event(service, "healthy", 0.0, "already up"))
        return result
    _check_secrets_match_volumes(project, stack, result, catalog, targets, created)
    running = {c.service for c in existing if c.state == "running"}
    _check_ports(result, catalog, [s for s in targets if s not in running])

    to_pull = [s for s in targets if images[s] in missing]
    if to_pull:
        started = time.monotonic()
        for service in to_pull:
            emit(Event(service, "pulling"))
        try:
            stack.pull(to_pull)
        except (KeyboardInterrupt, Interrupted):
            raise Interrupted(
                "interrupted while pulling images", "run `paxx up` again to go on"
            ) from None
        for service in to_pull:
            emit(Event(service, "pulled", time.monotonic() - started))
    started = time.monotonic()
    try:
        for service in targets:
            emit(Event(service, "starting"))
        stack.start(targets)
        probed = wait_until_healthy(
            stack, targets, started, timeout, probe=not info.start_interval, emit=emit
        )
    except (KeyboardInterrupt, Interrupted):
        raise _INTERRUPTED_WAITING from None
    containers = {c.service: c.id for c in stack.containers() if c.service in targets}
    record_up(project.root, probed, fingerprint, containers)
    return result


def check_services(requested: list[str], declared: list[str]) -> list[str]:
    """Validate service names given on the command line."""
    import difflib

    for name in requested:
        if name not in declared:
            close = difflib.get_close_matches(name, declared, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UsageError(
                f"{name!r} is not a service of this project",
                hint + f"declared services: {', '.join(declared) or 'none'}",
            )
    return list(dict.fromkeys(requested))


def _check_ports(result: workspace.SyncResult, catalog: Catalog, services: list[str]) -> None:
    for service in services:
        for key in catalog.services[service].meta.ports:
            port = int(result.values[key])
            if not port_is_free(port):
                holder = engine.describe_port_holder(port)
                by = f" by {holder}" if holder else ""
                raise PaxxError(
                    f"port {port} ({key}, for {service}) is taken{by}",
                    f"stop that process, or delete {key} from .env and run `paxx up` again "
                    "to pick a free port",
                )


def _check_secrets_match_volumes(
    project: Project,
    stack: engine.Project,
    result: workspace.SyncResult,
    catalog: Catalog,
    services: list[str],
    created: dict[str, str],
) -> None:
    """Refuse to start a service whose data volume predates the secrets in .env.

    Its data was initialized with other credentials (say .env was deleted and paxx generated
    new ones); starting it would lock the app out, and the old secret can only come back
    from a copy of the old .env.
    """
    records = load_state(project.root).secrets
    generated = {
        key: record.split(" ")[0]
        for key, record in records.items()
        if record.endswith(f" {workspace.secret_fingerprint(result.values.get(key, ''))}")
    }
    for service in services:
        keys = catalog.services[service].meta.secrets
        if not keys:
            continue
        for volume in catalog.services[service].volumes:
            when = created.get(f"{stack.name}_{volume}")
            volume_time = _parse_time(when) if when else None
            if volume_time is None:
                continue
            newer = [k for k in keys if _after(generated.get(k, ""), volume_time)]
            if newer:
                raise ConflictError(
                    f"the data volume {stack.name}_{volume} is older than {', '.join(newer)} "
                    f"in .env, so {service} would not accept the new credentials",
                    "restore the old values in .env, or delete the data with "
                    "`paxx down --volumes` to start afresh",
                )


def _after(text: str, moment: datetime) -> bool:
    parsed = _parse_time(text)
    return parsed is not None and parsed > moment


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def wait_until_healthy(
    stack: engine.Project,
    services: list[str],
    started: float,
    timeout: float,
    probe: bool,
    emit: Emit,
) -> list[str]:
    """Wait until every service is healthy (or running, without a health check).

    Docker runs a service's health check every `interval`. Where the engine has no
    start_interval (before 25), paxx also runs the same check with `docker exec` in a
    tight loop while it waits, so readiness is seen as soon as it happens. Returns the ids
    of the containers found healthy that way.
    """
    pending = set(services)
    probed: list[str] = []
    stop = threading.Event()
    probes: dict[str, Future[tuple[bool, str]]] = {}
    last_output: dict[str, str] = {}
    probe_output: dict[str, str] = {}
    ids = {c.service: c.id for c in stack.containers() if c.service in pending}
    pool = ThreadPoolExecutor(max_workers=max(1, len(services)), thread_name_prefix="probe")
    # With paxx's own probes deciding readiness, Docker's view is needed only to notice a
    # container that exits or turns unhealthy: asking for it less often leaves the CPU to
    # the services that are starting (each `docker inspect` is a CLI process).
    inspect_every = INSPECT_SECONDS if probe else POLL_SECONDS
    states: dict[str, engine.ContainerState] = {}
    inspected = 0.0
    try:
        while pending:
            now = time.monotonic()
            if now - inspected >= inspect_every:
                found = stack.inspect([ids[s] for s in pending if s in ids])
                states = {c.service: c for c in found}
                inspected = now
            for service in sorted(pending):
                state = states.get(service)
                if state is None:
                    continue
                if state.state in {"exited", "dead"}:
                    _fail(
                        stack,
                        service,
                        f"exited with code {state.exit_code}",
                        "",
                        now - started,
                        emit,
                    )
                if state.health == "unhealthy":
                    _fail(stack, service, "unhealthy", state.health_output, now - started, emit)
                ready = state.health == "healthy" or (
                    state.health == "none" and state.state == "running" and not state.health_test
                )
                if not ready and probe and state.state == "running" and state.health_test:
                    future = probes.get(service)
                    if future is None:
                        probes[service] = pool.submit(
                            _probe_until_ready,
                            stack,
                            state.id,
                            state.health_test,
                            stop,
                            functools.partial(probe_output.__setitem__, service),
                        )
                    elif future.done():
                        ready, last_output[service] = future.result()
                        if ready:
                            probed.append(state.id)
                if ready:
                    pending.discard(service)
                    emit(Event(service, "healthy", time.monotonic() - started))
                else:
                    last_output[service] = (
                        state.health_output
                        or probe_output.get(service)
                        or last_output.get(service, "")
                    )
            if pending and now - started > timeout:
                service = sorted(pending)[0]
                _fail(
                    stack,
                    service,
                    f"not healthy after {timeout:.0f} s",
                    last_output.get(service, ""),
                    now - started,
                    emit,
                )
            if pending:
                time.sleep(POLL_SECONDS)
        return probed
    except (KeyboardInterrupt, Interrupted):
        raise _INTERRUPTED_WAITING from None
    finally:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)


def _probe_until_ready(
    stack: engine.Project,
    container_id: str,
    test: tuple[str, ...],
    stop: threading.Event,
    report: Callable[[str], None],
) -> tuple[bool, str]:
    output = ""
    pause = POLL_SECONDS
    while not stop.is_set():
        began = time.monotonic()
        ok, output = stack.probe(container_id, test, PROBE_TIMEOUT)
        report(output)
        if ok:
            return True, output
        # Each `docker exec` costs CPU the starting services need (a database's first
        # initialisation especially), so the pause grows from 0.1 s to at most 0.5 s:
        # quick services are seen at once, slow ones at most 0.5 s late.
        stop.wait(max(0.0, pause - (time.monotonic() - began)))
        pause = min(pause * 1.5, MAX_PROBE_PAUSE)
    return False, output


def _fail(
    stack: engine.Project, service: str, why: str, health_output: str, elapsed: float, emit: Emit
) -> None:
    emit(Event(service, "failed", elapsed, why))
    details = []
    if health_output:
        details.append(f"last health check output of {service}:\n{health_output}")
    logs = stack.logs(service, LOG_LINES)
    if logs:
        details.append(f"last {LOG_LINES} log lines of {service}:\n{logs}")
    raise ServiceFailed(
        f"{service} did not become healthy: {why}",
        f"see `paxx logs {service}`; the other services keep running (`paxx status`)",
        details="\n\n".join(details),
    )


@dataclass(frozen=True)
class Teardown:
    """What `down` (or `feature remove`) removed."""

    containers: list[str]
    volumes: list[str]


def teardown(
    project_name: str,
    services: set[str] | None,
    volume_names: set[str],
    confirm: Callable[[list[str]], bool],
) -> Teardown:
    """Stop and remove paxx's containers (of `services`, or all) and, if asked, volumes.

    Containers get their stop signal and Compose's default grace period, so databases shut
    down cleanly. Only volumes of this Compose project whose name is in `volume_names` are
    considered, and `confirm` sees the list before anything is stopped or deleted: when it
    says no, nothing happens at all.
    """
    volumes = engine.project_volumes(project_name, volume_names) if volume_names else []
    if volumes and not confirm(volumes):
        raise PaxxError(
            "cancelled: nothing was stopped or deleted",
            "`paxx down` stops the services and keeps their data",
        )
    containers = [
        c
        for c in engine.paxx_containers(project_name)
        if services is None or c.paxx_service in services
    ]
    ids = [c.id for c in containers]
    if ids:
        engine.run_docker(["stop", *ids], timeout=120)
        # -v removes anonymous volumes (an image's VOLUME paths paxx did not name), never
        # named ones: those hold the data and go only with --volumes.
        engine.run_docker(["rm", "--volumes", *ids])
    if services is None:
        # The network goes too, unless containers not made by paxx still use it.
        engine.run_docker(["network", "rm", f"{project_name}_default"], check=False)
    if volumes:
        engine.run_docker(["volume", "rm", *volumes])
    return Teardown(sorted({c.paxx_service for c in containers}), volumes)
