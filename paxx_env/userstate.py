"""paxx's per-user state, outside any project: which projects exist, their ports and names.

It lets `paxx feature add` pick a host port that another paxx project on this machine
already holds (even while that project is stopped), and keeps Compose project names unique.
It lives in $XDG_STATE_HOME/paxx (default ~/.local/state/paxx).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from paxx_env.fsio import Change, apply_changes, exclusive_lock
from paxx_env.paths import ENV_FILE, state_home

REGISTRY_VERSION = 1


@dataclass
class ProjectEntry:
    """What the registry remembers of one project."""

    name: str
    ports: list[int] = field(default_factory=list)


@dataclass
class Registry:
    """All known paxx projects on this machine, keyed by absolute root folder."""

    projects: dict[str, ProjectEntry]

    def ports_of_others(self, root: Path) -> set[int]:
        """Host ports held by every project except the one at `root`."""
        own = str(root.resolve())
        return {p for key, entry in self.projects.items() if key != own for p in entry.ports}

    def names_of_others(self, root: Path) -> set[str]:
        """Compose project names used by every project except the one at `root`."""
        own = str(root.resolve())
        return {entry.name for key, entry in self.projects.items() if key != own}


def state_home_hint() -> str:
    """How to fix a per-user state folder paxx cannot use."""
    return (
        f"paxx keeps per-user state in {state_home()}: make it a writable folder, or set "
        "XDG_STATE_HOME to one"
    )


@contextlib.contextmanager
def registry_transaction() -> Iterator[Registry]:
    """Load the registry under a lock, yield it, and save it when the block succeeds."""
    home = state_home()
    with exclusive_lock(home / "registry.lock", hint=state_home_hint()):
        registry = _load(home / "projects.json")
        yield registry
        payload = {
            "version": REGISTRY_VERSION,
            "projects": {
                key: {"name": entry.name, "ports": sorted(entry.ports)}
                for key, entry in sorted(registry.projects.items())
            },
        }
        data = (json.dumps(payload, indent=2) + "\n").encode()
        apply_changes(home, {"projects.json": Change(data)}, where=str(home))


def registered(root: Path) -> ProjectEntry | None:
    """What the registry holds of the project at `root` (read without its lock)."""
    return _load(state_home() / "projects.json").projects.get(str(root.resolve()))


def _load(path: Path) -> Registry:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        items = raw.get("projects", {}) if raw.get("version") == REGISTRY_VERSION else {}
    except (OSError, ValueError, AttributeError):
        items = {}
    projects = {}
    for key, value in items.items():
        # Forget projects whose folder is gone: their ports and names are free again.
        if isinstance(value, dict) and Path(key, ENV_FILE).exists():
            ports = [p for p in value.get("ports", []) if isinstance(p, int)]
            projects[key] = ProjectEntry(str(value.get("name", "")), ports)
    return Registry(projects)
