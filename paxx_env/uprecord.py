"""What the last successful `paxx up` saw, so the next one can tell that nothing changed.

Kept light (no catalog, no rendering, no typer): `paxx up` on a stack that is already up
is answered from here, as quickly as `paxx status`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from paxx_env import engine
from paxx_env.fsio import Change, apply_changes, read_bytes
from paxx_env.paths import ENV_FILE, PROBED_FILE
from paxx_env.state import load_state


def fingerprint_of(root: Path, project_name: str, compose_files: list[str]) -> str:
    """A hash of everything Compose reads: its files, .env and the project name."""
    digest = hashlib.sha256(project_name.encode() + b"\0")
    for name in [*compose_files, ENV_FILE]:
        digest.update(name.encode() + b"\0" + (read_bytes(root / name) or b"") + b"\0")
    return digest.hexdigest()[:16]


def load_up_record(root: Path) -> dict[str, Any]:
    """What the last successful `up` recorded (see record_up), or {}."""
    try:
        data = json.loads((root / PROBED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_up(root: Path, probed: list[str], fingerprint: str, containers: dict[str, str]) -> None:
    """Remember what a successful `up` saw, for `status` and for the next `up`.

    Engines before 25 run the first health check one `interval` after the start; until then
    Docker says "starting" although paxx already ran the same check successfully, so `paxx
    status` reports the containers listed under "healthy" as healthy. The runtime
    fingerprint and the container ids let the next `up` see that nothing changed.
    """
    previous = load_up_record(root).get("healthy", [])
    current = set(containers.values())
    healthy = sorted({*probed, *(i for i in previous if i in current)})
    data = {"healthy": healthy, "runtime": fingerprint, "containers": containers}
    apply_changes(root, {PROBED_FILE: Change((json.dumps(data, indent=2) + "\n").encode())})


def already_up(
    root: Path, existing: list[engine.ContainerState], targets: list[str], fingerprint: str
) -> bool:
    """Whether Compose has nothing to do: same inputs, same containers, all healthy."""
    last = load_up_record(root)
    if last.get("runtime") != fingerprint:
        return False
    healthy_by_probe = set(last.get("healthy", []))
    recorded = last.get("containers", {})
    states = {c.service: c for c in existing}
    for service in targets:
        state = states.get(service)
        if state is None or state.state != "running" or recorded.get(service) != state.id:
            return False
        healthy = state.health == "healthy" or (
            state.health == "starting" and state.id in healthy_by_probe
        )
        if not healthy and not (state.health == "none" and not state.health_test):
            return False
    return True


def nothing_to_do(root: Path) -> list[str] | None:
    """The declared services when `paxx up` has nothing to do at all, else None.

    That is: the declaration, lock and catalog are those of the last render, no generated
    file was edited or removed, Compose's inputs are those of the last successful `up`,
    and every declared service runs, healthy, in the container that `up` saw. Anything
    else (or any doubt) means None, and `paxx up` does the full work.
    """
    from paxx_env.status import current_env_hash, edited_files

    state = load_state(root)
    if not state.project or not state.services or state.lock_problems:
        return None
    if current_env_hash(root) != state.env_hash or edited_files(root, state):
        return None
    if any(not (root / path).exists() for path in state.files):
        return None
    fingerprint = fingerprint_of(root, state.project, state.compose_files)
    existing = engine.paxx_containers(state.project)
    declared = sorted(state.services)
    if any(c.paxx_service not in declared for c in existing):
        return None
    return declared if already_up(root, existing, declared, fingerprint) else None
