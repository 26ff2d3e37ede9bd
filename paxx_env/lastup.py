"""What the last successful `paxx up` saw, and on which engine.

The next `up` can tell from it that nothing changed, and every command talks to the engine
the environment runs on. Kept in .paxx/local/last-up.json. Light (no catalog, no rendering,
no typer): `paxx up` on a stack that is already up is answered from here, as quickly as
`paxx status`.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from paxx_env.engine.containers import ContainerState, project_containers
from paxx_env.engine.forward import forward_alive
from paxx_env.engine.target import EngineTarget, current_target, use_target
from paxx_env.envhash import current_env_hash
from paxx_env.errors import UsageError
from paxx_env.fsio import Change, apply_changes, read_bytes
from paxx_env.paths import ENV_FILE, LAST_UP_FILE, PAXX_TOML, PYPROJECT
from paxx_env.state import edited_files, load_state


@dataclass
class LastUp:
    """The record of the last successful `up`."""

    #: Containers whose health check paxx ran successfully before Docker did (engines < 25
    #: run the first check one `interval` after the start; until then Docker says "starting").
    healthy: list[str] = field(default_factory=list)
    #: The fingerprint of Compose's inputs (see fingerprint_of).
    runtime: str = ""
    #: service -> container id
    containers: dict[str, str] = field(default_factory=dict)
    #: The engine the environment runs on: {"context": ..., "endpoint": ...}
    engine: dict[str, str] = field(default_factory=dict)
    #: Ports forwarded over SSH from a remote engine: {"pid": ..., "ports": [...]}
    forward: dict[str, Any] = field(default_factory=dict)
    #: The target the services run on: "compose", or "swarm" (a stack); "" in records from
    #: before targets existed, which are all compose.
    runs_on: str = ""

    @classmethod
    def load(cls, root: Path) -> LastUp:
        """The record, or an empty one when there is none (or it is unreadable)."""
        try:
            data = json.loads((root / LAST_UP_FILE).read_text(encoding="utf-8"))
            return cls(
                healthy=[str(i) for i in data.get("healthy", [])],
                runtime=str(data.get("runtime", "")),
                containers={str(k): str(v) for k, v in data.get("containers", {}).items()},
                engine={str(k): str(v) for k, v in data.get("engine", {}).items()},
                forward=dict(data.get("forward", {})),
                runs_on=str(data.get("runs_on", "")),
            )
        except (OSError, ValueError, AttributeError, TypeError):
            return cls()

    @property
    def target(self) -> EngineTarget | None:
        """The engine the environment was started on, when recorded."""
        if not self.engine.get("endpoint"):
            return None
        return EngineTarget(self.engine.get("context", ""), self.engine["endpoint"])

    def save(self, root: Path) -> None:
        """Write the record (atomically)."""
        data = json.dumps(asdict(self), indent=2) + "\n"
        apply_changes(root, {LAST_UP_FILE: Change(data.encode())})

    def healthy_by_probe(self, container_id: str) -> bool:
        """Whether paxx saw this container (full or short id) healthy during the last `up`."""
        return bool(container_id) and any(i.startswith(container_id) for i in self.healthy)


def fingerprint_of(root: Path, project_name: str, compose_files: list[str]) -> str:
    """A hash of everything Compose reads: its files, .env and the project name."""
    digest = hashlib.sha256(project_name.encode() + b"\0")
    for name in [*compose_files, ENV_FILE]:
        digest.update(name.encode() + b"\0" + (read_bytes(root / name) or b"") + b"\0")
    return digest.hexdigest()[:16]


def record_up(
    root: Path, last: LastUp, probed: list[str], fingerprint: str, containers: dict[str, str]
) -> LastUp:
    """Remember what a successful `up` saw, for `status` and for the next `up`.

    Containers paxx saw healthy stay listed as long as they exist.
    """
    current = set(containers.values())
    healthy = sorted({*probed, *(i for i in last.healthy if i in current)})
    record = LastUp(healthy, fingerprint, containers, last.engine, last.forward)
    record.save(root)
    return record


def forget_up(root: Path) -> None:
    """The environment is down: nothing runs anywhere, on no engine."""
    apply_changes(root, {LAST_UP_FILE: Change(None)})


COMPOSE, SWARM = "compose", "swarm"
#: Where the declared services can run (docs/swarm.md).
TARGETS = (COMPOSE, SWARM)


def choose_target(root: Path, last: LastUp, chosen: str | None, command: str) -> str:
    """The target `command` acts on: --target (`chosen`), the declaration's, or compose.

    An environment stays on its target, as it stays on its engine: `status`, `logs` and
    `down` act on the target the last `up` used unless told otherwise; `up` deploys where
    the option or the declaration says. `up` and `down` refuse another target while the
    environment runs on one.
    """
    if chosen is not None and chosen not in TARGETS:
        raise UsageError(f"unknown target {chosen!r}", f"choose one of: {', '.join(TARGETS)}")
    recorded = last.runs_on or (COMPOSE if last.engine else "")
    declared = declared_target(root)
    if command == "up":
        wanted = chosen or declared or recorded or COMPOSE
    else:
        wanted = chosen or recorded or declared or COMPOSE
    if recorded and wanted != recorded and command in ("up", "down"):
        flag = "" if recorded == COMPOSE else f" --target {recorded}"
        then = f", then `paxx up --target {wanted}`" if command == "up" else ""
        raise UsageError(
            f"this project's environment runs on {recorded}, not on {wanted}",
            f"stop it there first (`paxx down{flag}`){then}",
        )
    return wanted


def declared_target(root: Path) -> str:
    """`target` of the declaration as written ("" when unset); `paxx up` validates it."""
    for name in (PYPROJECT, PAXX_TOML):
        try:
            data = tomllib.loads((root / name).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        table = data.get("tool", {}).get("paxx") if name == PYPROJECT else data
        if isinstance(table, dict):
            return str(table.get("target") or "")
    return ""


def bind_engine(root: Path, last: LastUp) -> EngineTarget | None:
    """Talk to the engine this project's environment runs on; None when it runs nowhere.

    An environment started on one engine is not silently looked for on another: without a
    choice in this command (--context, DOCKER_CONTEXT, DOCKER_HOST), paxx goes on talking to
    the engine the last `up` used; with a different choice, it refuses.
    """
    recorded = last.target
    if recorded is None:
        return None
    current = current_target()
    if recorded.endpoint == current.endpoint:
        return current
    if current.explicit:
        if recorded.context not in ("", "default"):
            there = f"`paxx --context {recorded.context} down`"
        else:
            there = f"`DOCKER_HOST={recorded.endpoint} paxx down`"
        raise UsageError(
            f"this project's environment runs on {recorded.describe()}, not on "
            f"{current.describe()}",
            f"stop it there first ({there}), or run without choosing an engine; if that "
            f"engine is gone, delete {LAST_UP_FILE}",
        )
    use_target(recorded)
    return recorded


def already_up(
    last: LastUp, existing: list[ContainerState], targets: list[str], fingerprint: str
) -> bool:
    """Whether Compose has nothing to do: same inputs, same containers, all healthy."""
    if last.runtime != fingerprint:
        return False
    states = {c.service: c for c in existing}
    for service in targets:
        state = states.get(service)
        if state is None or state.state != "running" or last.containers.get(service) != state.id:
            return False
        healthy = state.health == "healthy" or (
            state.health == "starting" and state.id in last.healthy
        )
        if not healthy and not (state.health == "none" and not state.health_test):
            return False
    return True


@dataclass(frozen=True)
class FirstLook:
    """What `paxx up` learns before its quick start (first_look)."""

    #: The declared services when `up` has nothing to do at all, else None.
    services: list[str] | None = None
    #: The Compose project whose containers were listed ("" when the engine was not asked).
    project: str = ""
    #: Every container of that project, paxx's and the user's own, when the engine was asked.
    containers: list[ContainerState] | None = None


def first_look(root: Path) -> FirstLook:
    """Whether `paxx up` has nothing to do at all, and the project's containers if listed.

    Nothing to do means: the declaration, lock and catalog are those of the last render, no
    generated file was edited or removed, Compose's inputs are those of the last successful
    `up`, and every declared service runs, healthy, in the container that `up` saw. Anything
    else (or any doubt) means `services` is None, and `paxx up` does the work. The containers
    are listed as the quick start's survey lists them (start.survey), so that a caller
    holding the project lock can hand them on instead of asking the engine twice.
    """
    state = load_state(root)
    if not state.project or not state.services or state.lock_problems:
        return FirstLook()
    if current_env_hash(root) != state.env_hash or edited_files(root, state):
        return FirstLook()
    if any(not (root / path).exists() for path in state.files):
        return FirstLook()
    last = LastUp.load(root)
    if choose_target(root, last, None, "up") != COMPOSE:
        return FirstLook()
    bind_engine(root, last)
    if last.forward and not forward_alive(last.forward["pid"], last.forward["ports"]):
        return FirstLook()
    fingerprint = fingerprint_of(root, state.project, state.compose_files)
    listed = project_containers(state.project, paxx_only=False)
    seen = FirstLook(None, state.project, listed)
    existing = [c for c in listed if c.paxx_service]
    declared = sorted(state.services)
    if any(c.paxx_service not in declared for c in existing):
        return seen
    if not already_up(last, existing, declared, fingerprint):
        return seen
    return FirstLook(declared, state.project, listed)


def nothing_to_do(root: Path) -> list[str] | None:
    """The declared services when `paxx up` has nothing to do at all, else None (first_look)."""
    return first_look(root).services
