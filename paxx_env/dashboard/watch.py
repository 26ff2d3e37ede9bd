"""Noticing change without polling the engine: its events for the project, and the files.

The engine reports every start, stop, death and health change of the project's containers
as an event (`docker events`, filtered by the project's label); each one asks for a new
status. The project's own files (declaration, lock, .env, paxx's state, generations and the
generated files) are looked at twice a second with `stat` only, for drift and variables.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

from paxx_env.engine.docker import DockerStream
from paxx_env.engine.events import project_events
from paxx_env.errors import PaxxError
from paxx_env.lastup import LastUp, bind_engine
from paxx_env.paths import (
    ENV_FILE,
    GENERATIONS_DIR,
    LAST_UP_FILE,
    LOCK_FILE,
    PAXX_TOML,
    PYPROJECT,
    STATE_FILE,
)

#: How often the files are looked at, and how long to wait before asking a silent or
#: unreachable engine for its events again.
FILES_EVERY = 0.5
RECONNECT_AFTER = 1.0

Stamp = tuple[tuple[str, int, int, int] | None, ...]


def files_stamp(root: Path) -> Stamp:
    """When and how each file that feeds the page last changed (None: not there)."""
    names = [PYPROJECT, PAXX_TOML, LOCK_FILE, ENV_FILE, STATE_FILE, LAST_UP_FILE, GENERATIONS_DIR]
    names += sorted(_generated(root))
    stamp: list[tuple[str, int, int, int] | None] = []
    for name in names:
        try:
            info = os.stat(root / name)
            stamp.append((name, info.st_mtime_ns, info.st_size, info.st_ino))
        except OSError:
            stamp.append(None)
    return tuple(stamp)


def _generated(root: Path) -> list[str]:
    """The files paxx generated (from state.json), so that an edit to one shows as drift."""
    try:
        files = json.loads((root / STATE_FILE).read_text(encoding="utf-8")).get("files", {})
        return [str(name) for name in files]
    except (OSError, ValueError, AttributeError):
        return []


def project_name(root: Path) -> str:
    """The Compose project name paxx recorded ("" before the first render)."""
    try:
        return str(json.loads((root / STATE_FILE).read_text(encoding="utf-8")).get("project", ""))
    except (OSError, ValueError, AttributeError):
        return ""


class Watcher:
    """Two threads: the engine's events for the project, and the project's files."""

    def __init__(
        self, root: Path, on_engine: Callable[[], None], on_files: Callable[[], None]
    ) -> None:
        self.root = root
        self._on_engine = on_engine
        self._on_files = on_files
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._stream: DockerStream | None = None
        self._watching = ""
        self._threads = [
            threading.Thread(target=self._events, name="dashboard-events", daemon=True),
            threading.Thread(target=self._files, name="dashboard-files", daemon=True),
        ]

    def start(self) -> None:
        """Start watching."""
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop both threads and the `docker events` they read."""
        self._stopping.set()
        self._close_stream()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)

    def _events(self) -> None:
        while not self._stopping.is_set():
            name = project_name(self.root)
            stream = self._open(name) if name else None
            if stream is not None:
                self._on_engine()  # what changed while nobody was listening
                for _line in stream:
                    self._on_engine()
                stream.close()
            self._stopping.wait(RECONNECT_AFTER)

    def _open(self, name: str) -> DockerStream | None:
        try:
            bind_engine(self.root, LastUp.load(self.root))
            stream = project_events(name)
        except PaxxError:
            return None  # the status shows why; try again in a moment
        with self._lock:
            if self._stopping.is_set():
                stream.close()
                return None
            self._stream, self._watching = stream, name
        return stream

    def _close_stream(self) -> None:
        with self._lock:
            if self._stream is not None:
                self._stream.close()

    def _files(self) -> None:
        stamp = files_stamp(self.root)
        while not self._stopping.wait(FILES_EVERY):
            now = files_stamp(self.root)
            if now == stamp:
                continue
            stamp = now
            if project_name(self.root) != self._watching:
                self._close_stream()  # the events thread opens one for the new name
            self._on_files()
