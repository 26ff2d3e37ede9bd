"""The page's buttons: `up`, `down` and the restart of one service, one at a time.

Each runs in its own thread under the project's lock, as the CLI's commands do, and writes
the same lines the CLI prints (ui.Progress, the file actions, the two-line errors), which
`publish` hands to the page.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from paxx_env import lifecycle
from paxx_env.catalog import Catalog
from paxx_env.declaration import open_project
from paxx_env.errors import PaxxError, report
from paxx_env.fsio import exclusive_lock
from paxx_env.paths import project_lock_path
from paxx_env.sync import SyncResult
from paxx_env.ui import Progress, print_actions, teardown_lines, waiting_for_lock
from paxx_env.userstate import state_home_hint

#: Seconds `up` and a restart wait for health, as `paxx up` does by default.
TIMEOUT = 180
#: The progress part keeps this many lines of the last action.
MAX_LINES = 400


class Lines(io.StringIO):
    """A text stream that hands each complete line it is written to `sink`."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        super().__init__()
        self._sink = sink
        self._partial = ""

    def write(self, text: str) -> int:
        """Pass on every complete line of `text`."""
        *complete, self._partial = (self._partial + text).split("\n")
        for line in complete:
            self._sink(line)
        return len(text)

    def isatty(self) -> bool:
        """Not a terminal: Progress writes one line per event, as it does in CI logs."""
        return False


class Actions:
    """Runs the buttons' commands and publishes their output."""

    def __init__(
        self,
        root: Path,
        catalog: Catalog,
        publish: Callable[[str, list[str], bool], None],
        changed: Callable[[], None],
    ) -> None:
        self.root = root
        self.catalog = catalog
        self._publish = publish
        self._changed = changed
        self._running = threading.Lock()
        self._lines: list[str] = []
        self._title = ""
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        """Whether an action is running."""
        return self._running.locked()

    def up(self) -> bool:
        """Start every declared service (False: another action is running)."""
        return self._start("paxx up", self._up)

    def down(self, volumes: bool) -> bool:
        """Stop the project; with `volumes`, delete its data too (confirmed on the page)."""
        return self._start(
            "paxx down --volumes" if volumes else "paxx down", lambda out: self._down(out, volumes)
        )

    def restart(self, service: str) -> bool:
        """Stop one service and bring it up again."""
        return self._start(f"restart {service}", lambda out: self._restart(out, service))

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the action under way, if any, to end."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _start(self, title: str, work: Callable[[TextIO], None]) -> bool:
        if not self._running.acquire(blocking=False):
            return False
        self._title, self._lines = title, []
        self._render()
        self._thread = threading.Thread(
            target=self._run, args=(title, work), name="dashboard-action", daemon=True
        )
        self._thread.start()
        return True

    def _run(self, title: str, work: Callable[[TextIO], None]) -> None:
        out = Lines(self._line)
        started = time.monotonic()
        self._changed()
        try:
            with exclusive_lock(
                project_lock_path(self.root),
                on_wait=lambda holder: out.write(waiting_for_lock(holder) + "\n"),
                hint=state_home_hint(),
            ):
                work(out)
            out.write(f"done in {time.monotonic() - started:.1f} s\n")
        except PaxxError as error:
            report(error, out)
        finally:
            self._running.release()
            self._render()
            self._changed()

    def _line(self, line: str) -> None:
        self._lines = [*self._lines, line][-MAX_LINES:]
        self._render()

    def _render(self) -> None:
        self._publish(self._title, self._lines, self.busy)

    def _up(self, out: TextIO) -> None:
        project = open_project(self.root, self.catalog)
        with Progress([], out=out) as progress:
            result = lifecycle.up(project, self.catalog, [], TIMEOUT, False, progress)
        _print_result(result, out)

    def _restart(self, out: TextIO, service: str) -> None:
        project = open_project(self.root, self.catalog)
        with Progress([service], out=out) as progress:
            result = lifecycle.restart(project, self.catalog, service, TIMEOUT, progress)
        _print_result(result, out)

    def _down(self, out: TextIO, volumes: bool) -> None:
        def confirmed(names: list[str]) -> bool:
            out.write("These volumes and all the data in them will be deleted:\n")
            out.write("".join(f"  {name}\n" for name in names))
            return True  # typed on the page before the action started

        result = lifecycle.down(self.root, self.catalog if volumes else None, confirmed)
        out.write("".join(f"{line}\n" for line in teardown_lines(result, volumes)))


def _print_result(result: SyncResult, out: TextIO) -> None:
    """The files a sync touched, as `paxx up` prints them."""
    print_actions([a for a in result.actions if a.verb != "identical"], out)
    for note in result.notes:
        out.write(f"     note  {note}\n")
