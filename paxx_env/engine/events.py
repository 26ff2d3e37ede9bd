"""What happens to a Compose project's containers, as the engine reports it, live."""

from __future__ import annotations

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
    args = ["events", "--format", "{{json .}}", "--filter", "type=container"]
    args += ["--filter", f"label={PROJECT_LABEL}={project_name}"]
    for event in STATUS_EVENTS:
        args += ["--filter", f"event={event}"]
    return DockerStream(args)
