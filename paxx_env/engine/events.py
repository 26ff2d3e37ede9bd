"""What happens to a Compose project's containers, as the engine reports it, live."""

from __future__ import annotations

import threading
import time

from paxx_env.engine.containers import PROJECT_LABEL
from paxx_env.engine.docker import DockerStream

#: The container events that change what `paxx status` shows: created, started, stopped,
#: paused, removed, or a new health status. The engine's health checks also emit exec_*
#: events every interval; those are left out, so a quiet stack sends nothing.
STATUS_EVENTS = (
    "create",
    "start",
    "restart",
    "die",
    "stop",
    "pause",
    "unpause",
    "destroy",
    "health_status",
)


def project_events(project_name: str) -> DockerStream:
    """`docker events` for the project's containers: one JSON line per change, until closed."""
    return _events(project_name, STATUS_EVENTS, "{{json .}}")


def _events(project_name: str, events: tuple[str, ...], line: str, since: str = "") -> DockerStream:
    """`docker events` of `events` on the project's containers, each printed as `line`."""
    args = ["events", *(["--since", since] if since else []), "--format", line]
    args += ["--filter", "type=container", "--filter", f"label={PROJECT_LABEL}={project_name}"]
    for event in events:
        args += ["--filter", f"event={event}"]
    return DockerStream(args)


class Changes:
    """Which of a project's containers died or changed health, as the engine says it, live.

    One `docker events` process for as long as it is open, instead of a `docker inspect`
    every second: while services start, it sends nothing until one exits or Docker's health
    check changes its verdict. `take` returns (and forgets) the ids seen since the last call.
    """

    def __init__(self, project_name: str) -> None:
        # From now on, as the engine's clock says: what happens while the command connects
        # is sent too.
        since = f"{time.time():.3f}"
        self._stream = _events(project_name, ("die", "health_status"), "{{.Actor.ID}}", since)
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def take(self) -> set[str]:
        """The ids of the containers that died or changed health since the last call."""
        with self._lock:
            seen, self._seen = self._seen, set()
        return seen

    def close(self) -> None:
        """End the `docker events` process."""
        self._stream.close()

    def _read(self) -> None:
        for line in self._stream:
            if line.strip():
                with self._lock:
                    self._seen.add(line.strip())
