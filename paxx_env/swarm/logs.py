"""`paxx logs` of a stack: `docker service logs` of each service, on this terminal."""

from __future__ import annotations

from pathlib import Path

from paxx_env.engine.info import check_engine
from paxx_env.engine.tasks import stream_service_logs
from paxx_env.errors import UsageError
from paxx_env.lastup import LastUp, bind_engine
from paxx_env.names import check_services
from paxx_env.state import load_state


def stream_logs(root: Path, service: str | None, follow: bool, tail: int | None) -> int:
    """Print one service's logs (or, not following, each service's in turn); the exit code.

    `docker service logs` follows one service at a time, so following needs a service.
    """
    state = load_state(root)
    if not state.project:
        raise UsageError(
            "this project has not been started yet, so there are no logs",
            "run `paxx up --target swarm` first",
        )
    declared = sorted(state.services)
    chosen = check_services([service], declared) if service else declared
    if follow and len(chosen) > 1:
        raise UsageError(
            "on Swarm, `paxx logs --follow` follows one service",
            f"name it: `paxx logs SERVICE -f` ({', '.join(declared)})",
        )
    bind_engine(root, LastUp.load(root))
    check_engine()
    code = 0
    for name in chosen:
        code = stream_service_logs(state.project, name, follow, tail) or code
    return code
