"""What a sync plans and reports: file actions, the change set under construction, the plan."""

from __future__ import annotations

from dataclasses import dataclass, field

from paxx_env.fsio import Change
from paxx_env.lockfile import Lock
from paxx_env.render import Render


class Keep:
    """Marker: keep paxx.lock as it is on disk."""


KEEP = Keep()


@dataclass(frozen=True)
class Action:
    """One thing a sync did (or would do) to a file: create, update, identical, delete, ..."""

    verb: str
    path: str
    detail: str = ""


@dataclass
class ChangeSet:
    """Everything one sync will write, what it tells the user, and what it must refuse."""

    changes: dict[str, Change] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    #: (path, why) of files the user edited that this sync would overwrite
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    #: what the user should know of (a setting paxx leaves to them)
    notes: list[str] = field(default_factory=list)

    def write(self, path: str, change: Change, verb: str = "", detail: str = "") -> None:
        """Plan a write (or a deletion), and the line reported for it when `verb` is set."""
        self.changes[path] = change
        if verb:
            self.actions.append(Action(verb, path, detail))


@dataclass(frozen=True)
class Plan:
    """A render with the inputs it was made from."""

    render: Render
    lock: Lock | None
    lock_bytes: bytes | None
    canonical: dict[str, object]
    env_hash: str
    #: Whether the lock is a new one to write (lock, update, rollback), not the one on disk.
    replaces_lock: bool = False
    #: The providers the declaration records (feature -> provider), as this render used them.
    providers: dict[str, str] = field(default_factory=dict)
