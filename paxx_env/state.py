"""The project's local state in .paxx/local/state.json (git-ignored, per machine).

It records what paxx last wrote (hashes of generated files and of derived .env values) so a
hand edit is told apart from paxx's own output, when each secret was generated, and a
summary of the environment that `paxx status` reads without loading the catalog.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from paxx_env.fsio import Change, read_bytes, sha256
from paxx_env.paths import STATE_FILE

STATE_VERSION = 1


@dataclass
class ServiceSummary:
    """What `paxx status` shows of a declared service."""

    image: str
    #: host-port variable -> [host port, container port]
    ports: dict[str, list[int]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    volumes: list[str] = field(default_factory=list)
    #: feature -> provider of each declared feature this service serves
    features: dict[str, str] = field(default_factory=dict)
    #: the secrets in .env its data volumes were initialized with (checked by `up`)
    secrets: list[str] = field(default_factory=list)
    #: how `up` probes it from this machine (hostprobe.ProbeSpec.to_dict), {} for none
    probe: dict[str, Any] = field(default_factory=dict)


@dataclass
class State:
    """Everything in state.json."""

    files: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    project: str = ""
    features: list[str] = field(default_factory=list)
    services: dict[str, ServiceSummary] = field(default_factory=dict)
    compose_files: list[str] = field(default_factory=list)
    env_hash: str = ""
    lock_problems: list[str] = field(default_factory=list)
    #: The digest of the inputs this state was written from (fresh.py).
    inputs: str = ""
    #: Files besides the fixed inputs whose content (or absence) that digest covers.
    watched: list[str] = field(default_factory=list)
    #: Generated files that are the user's once edited (the catalog's keep-edits): a sync
    #: leaves an edited one as it is, so its edit is no drift and needs no sync.
    kept: list[str] = field(default_factory=list)
    #: False when state.json is missing or unreadable: paxx cannot tell its files from edits.
    recorded: bool = field(default=False, compare=False)


def load_state(root: Path) -> State:
    """Read state.json; a missing or unreadable file (or an older version) gives empty state."""
    try:
        raw = json.loads((root / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return State()
    if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
        return State()
    try:
        services = {
            name: ServiceSummary(**summary) for name, summary in raw.get("services", {}).items()
        }
        return State(
            files=dict(raw.get("files", {})),
            env=dict(raw.get("env", {})),
            secrets=dict(raw.get("secrets", {})),
            project=str(raw.get("project", "")),
            features=list(raw.get("features", [])),
            services=services,
            compose_files=list(raw.get("compose_files", [])),
            env_hash=str(raw.get("env_hash", "")),
            lock_problems=list(raw.get("lock_problems", [])),
            inputs=str(raw.get("inputs", "")),
            watched=[str(path) for path in raw.get("watched", [])],
            kept=[str(path) for path in raw.get("kept", [])],
            recorded=True,
        )
    except (TypeError, AttributeError):
        return State()


def state_change(state: State) -> Change:
    """The new content of state.json."""
    payload: dict[str, Any] = {"version": STATE_VERSION, **asdict(state)}
    payload.pop("recorded")
    return Change((json.dumps(payload, indent=2, sort_keys=True) + "\n").encode())


def secret_fingerprint(value: str) -> str:
    """A short hash of a secret, to tell whether the value in .env is the one recorded."""
    return sha256(value.encode())[:12]


def edited_files(root: Path, state: State, *, kept: bool = False) -> list[str]:
    """Generated files whose content differs from what paxx last wrote.

    `kept`: the keep-edits ones (state.kept) instead of the others.
    """
    edited = []
    for path, digest in sorted(state.files.items()):
        if (path in state.kept) != kept:
            continue
        content = read_bytes(root / path)
        if content is not None and sha256(content) != digest:
            edited.append(path)
    return edited
