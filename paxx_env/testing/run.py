"""One test run as the plugin sees it: its id, this process's worker name, each test's namespace.

A namespace names every slice of one test: its database, Redis channels, bucket, mail sender,
search index and span attribute. It is `paxx-RUN-WORKER-NNNNN`: RUN is shared by all xdist
workers of one pytest run (the controller hands it out) and differs between runs, WORKER is
`gw0`, `gw1`... (or `main` without xdist), NNNNN counts the tests of that worker. The fixed
width keeps one namespace from being the start of another (Mailpit searches by substring).
It is lowercase letters, digits and hyphens: valid as an S3 bucket and a Meilisearch index.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: The key under which the xdist controller passes the run id to its workers.
RUN_KEY = "paxx_run"
RUN_ID = pytest.StashKey[str]()


def run_id(config: pytest.Config) -> str:
    """The run's id: the controller's (under xdist), else one made for this process."""
    given = getattr(config, "workerinput", {}).get(RUN_KEY)
    if isinstance(given, str):
        return given
    if RUN_ID not in config.stash:
        config.stash[RUN_ID] = secrets.token_hex(4)
    return config.stash[RUN_ID]


def worker_name(config: pytest.Config) -> str:
    """`gw0`, `gw1`... under xdist, else `main`."""
    name = getattr(config, "workerinput", {}).get("workerid")
    return name if isinstance(name, str) else "main"


def is_worker(config: pytest.Config) -> bool:
    """Whether this process is an xdist worker (the controller cleans up after the run)."""
    return hasattr(config, "workerinput")


def note_folder(run_id: str) -> Path:
    """Where a worker leaves word for the xdist controller of what to clean up after the run."""
    return Path(tempfile.gettempdir()) / f"paxx-pytest-{os.getuid()}-{run_id}"


def leave_note(run_id: str, note: dict[str, str]) -> None:
    """Tell the controller of this run what to clean up (the template database)."""
    folder = note_folder(run_id)
    folder.mkdir(mode=0o700, exist_ok=True)
    # The note holds DATABASE_URL (a password), as .env does: readable by this user only.
    descriptor = os.open(folder / "note.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(note, handle)


def read_note(run_id: str) -> dict[str, str] | None:
    """What a worker of this run left to clean up, or None."""
    try:
        found = json.loads((note_folder(run_id) / "note.json").read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def forget_note(run_id: str) -> None:
    """Remove the note (the cleanup is done)."""
    shutil.rmtree(note_folder(run_id), ignore_errors=True)


@dataclass
class Run:
    """The run id, this worker, and the count of namespaces handed out."""

    id: str
    worker: str
    _count: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def of(cls, config: pytest.Config) -> Run:
        """The run `config` belongs to."""
        return cls(run_id(config), worker_name(config))

    @property
    def prefix(self) -> str:
        """What every name this worker makes starts with."""
        return f"paxx-{self.id}-{self.worker}"

    def namespace(self) -> str:
        """A new namespace, unique in this run and across runs."""
        return f"{self.prefix}-{next(self._count):05d}"
