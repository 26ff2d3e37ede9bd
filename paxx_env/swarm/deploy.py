"""`paxx up --target swarm`: the declared services as a stack on the engine's Swarm.

The same sync as for Compose writes the same files; the render's overlays are then
translated into a stack file (stackfile.py), the secrets an image reads from a file become
Swarm secrets, and `docker stack deploy` gets the file on stdin and the values of its
variables in its environment. Nothing holding a secret is written to disk.
"""

from __future__ import annotations

import hashlib
import socket
from dataclasses import dataclass
from pathlib import Path

from paxx_env import prestart
from paxx_env.catalog import Catalog
from paxx_env.declaration import Project
from paxx_env.engine import swarm as engine
from paxx_env.engine.containers import volumes_created
from paxx_env.engine.info import check_engine
from paxx_env.engine.target import EngineTarget, current_target
from paxx_env.engine.tasks import stack_services
from paxx_env.errors import ConfigError, ConflictError, EngineError, UsageError
from paxx_env.lastup import SWARM, LastUp, bind_engine
from paxx_env.mirror import registry_mirror
from paxx_env.names import check_services
from paxx_env.paths import ENV_FILE
from paxx_env.readiness import Emit
from paxx_env.state import load_state
from paxx_env.swarm.converge import wait_converged
from paxx_env.swarm.stackfile import (
    ORIGIN_LABEL,
    StackFile,
    TranslationError,
    secret_name,
    spec_digests,
    translate,
    with_spec_labels,
)
from paxx_env.sync import SyncResult, sync


@dataclass(frozen=True)
class Deployed:
    """What `paxx up --target swarm` did."""

    result: SyncResult
    stack: str
    #: what Swarm does differently from Compose (one line per kind)
    notes: tuple[str, ...]
    #: service -> its published ports (on every interface of its node)
    published: dict[str, list[int]]


def up(
    project: Project,
    catalog: Catalog,
    timeout: float,
    force: bool,
    publish: list[str],
    emit: Emit,
) -> Deployed:
    """Sync, deploy the declared services as a stack and wait until each is healthy."""
    declared = list(project.declaration.selection(catalog).services)
    if not declared:
        raise UsageError(
            "no services are declared, so there is nothing to deploy",
            "add a feature first, e.g. `paxx feature add cache` (`paxx feature list` shows all)",
        )
    published = set(check_services(publish, declared))
    last = LastUp.load(project.root)
    target = bind_engine(project.root, last) or current_target()
    info = check_engine()
    require_manager(target)
    result = sync(
        project,
        catalog,
        force=force,
        start_interval=info.start_interval,
        command="up",
        strict_lock=True,
        state=load_state(project.root),
    )
    stack = result.project_name
    origin = origin_of(project.root)
    stack_file = _stack_file(result, catalog, published, origin)
    _check_origin(stack, origin)
    volumes = [f"{stack}_{v}" for s in declared for v in catalog.services[s].volumes]
    prestart.check_secrets_match_volumes(
        result.state, result.values, declared, volumes_created(volumes)
    )
    variables = _variables(stack_file, result.values)
    # Recorded before anything is created: a stack that is half deployed, or does not
    # become healthy, is still there, and `paxx down` must find it.
    engine_record = {"context": target.context, "endpoint": target.endpoint}
    LastUp(engine=engine_record, runs_on=SWARM).save(project.root)
    existing = set(engine.stack_secrets(stack))
    for key, name in sorted(stack_file.secret_names.items()):
        if name not in existing:
            engine.create_secret(stack, key, name, result.values[key])
    engine.deploy_stack(stack, stack_file.text(), variables)
    wait_converged(stack, spec_digests(stack_file), timeout, emit)
    kept = set(stack_file.secret_names.values())
    engine.remove_secrets([n for n in engine.stack_secrets(stack) if n not in kept])
    ports = {
        name: [int(result.values[var]) for var in catalog.services[name].port_targets]
        for name in sorted(published)
    }
    return Deployed(result, stack, stack_file.notes, ports)


def require_manager(target: EngineTarget, node: engine.SwarmNode | None = None) -> None:
    """Refuse, with how to make one, when the engine is not a manager of a Swarm."""
    node = node or engine.swarm_node()
    if node.state == "active" and node.manager:
        return
    where = target.describe()
    if node.state == "active":
        raise EngineError(
            f"the engine at {where} is a Swarm worker; stacks are deployed through a manager",
            "choose a manager's engine with --context, or promote this node "
            "(`docker node promote NODE` on a manager)",
        )
    raise EngineError(
        f"the engine at {where} is not in a Swarm (its Swarm state: {node.state})",
        "make it a single-node Swarm with `docker swarm init` (add --advertise-addr ADDRESS "
        "when it has several), or choose a manager's engine with --context",
    )


def _stack_file(
    result: SyncResult, catalog: Catalog, published: set[str], origin: str
) -> StackFile:
    stack = result.project_name
    names = {
        key: secret_name(stack, key, result.values[key])
        for service in result.render.services
        for key in catalog.services[service].meta.secret_files
    }
    try:
        stack_file = translate(result.render, catalog, names, published, registry_mirror())
    except TranslationError as exc:
        raise ConfigError(
            f"cannot deploy on Swarm: {exc}", "see docs/swarm.md for what Swarm supports"
        ) from None
    return with_spec_labels(stack_file, result.values, origin)


def origin_of(root: Path) -> str:
    """Which checkout deploys: a digest of this machine's name and the project folder."""
    where = f"{socket.gethostname()}\0{root.resolve()}"
    return hashlib.sha256(where.encode()).hexdigest()[:12]


def _check_origin(stack: str, origin: str) -> None:
    """Refuse to replace a stack of the same name that another checkout deployed.

    Its services hold that checkout's secrets and data; a deploy from here would change
    them under it (on a shared Swarm, two people's `shop` are one stack name).
    """
    services = stack_services(stack).values()
    others = sorted(s.name for s in services if s.labels.get(ORIGIN_LABEL) != origin)
    if others:
        raise ConflictError(
            f"the stack {stack} on this Swarm was deployed from another checkout "
            f"(another machine or folder; its services: {', '.join(others)})",
            f"give this checkout a name of its own: set COMPOSE_PROJECT_NAME in {ENV_FILE} "
            f"(e.g. {stack}-{socket.gethostname()}); if that stack is yours, "
            "`paxx down --target swarm` where it was deployed removes it",
        )


def _variables(stack_file: StackFile, values: dict[str, str]) -> dict[str, str]:
    """The values `docker stack deploy` interpolates, for its environment."""
    missing = sorted(stack_file.variables - set(values))
    if missing:
        raise ConfigError(
            f"the stack file refers to {', '.join(missing)}, which {ENV_FILE} does not set",
            "run `paxx up --force` to regenerate paxx's block of .env",
        )
    return {key: values[key] for key in sorted(stack_file.variables)}
