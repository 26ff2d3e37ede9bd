"""`paxx up` from the files as they are: no catalog, no rendering, no typer, no pydantic.

When the folder is what the last sync left (fresh.py), a sync would write nothing, so `up`
goes straight to the engine (start.py) with the summary in state.json and the values in
.env. That is the common case (the declaration did not change since yesterday's `paxx up`),
and it leaves paxx's own start-up out of the way of the services' start (docs/benchmarks.md).
Anything else (an edit, a new feature, an engine the files were not made for) returns None,
and `up` does the full work.
"""

from __future__ import annotations

from pathlib import Path

from paxx_env.engine.info import check_engine
from paxx_env.engine.target import current_target
from paxx_env.envblock import read_env
from paxx_env.fresh import is_fresh
from paxx_env.fsio import read_bytes
from paxx_env.lastup import LastUp, bind_engine
from paxx_env.names import check_services
from paxx_env.paths import ENGINE_OVERLAY, ENV_FILE
from paxx_env.readiness import Emit
from paxx_env.start import Rendered, launch, say_already_up, survey
from paxx_env.state import State, load_state


def quick_up(root: Path, services: list[str], timeout: float, emit: Emit) -> State | None:
    """Start the declared services (or `services`) without a sync, as `paxx up` does.

    Returns the state it started from, or None, having done nothing, when a sync is needed.
    The caller holds the project's lock.
    """
    state = load_state(root)
    if not state.services or state.lock_problems or not is_fresh(root, state):
        return None
    declared = sorted(state.services)
    targets = check_services(services, declared) if services else declared
    text = (read_bytes(root / ENV_FILE) or b"").decode("utf-8", "replace")
    rendered = Rendered(root, state, read_env(text).block)
    last = LastUp.load(root)
    target = bind_engine(root, last) or current_target()
    seen = survey(rendered, targets)
    if seen.already_up(last, targets):
        say_already_up(rendered, targets, last, target, emit)
        return state
    info = check_engine()
    # The per-machine overlay adds a start_interval for engines >= 25 only; another engine
    # than the one it was written for needs a sync.
    if info.start_interval != (b"start_interval" in (read_bytes(root / ENGINE_OVERLAY) or b"")):
        return None
    launch(rendered, seen, targets, timeout, last, target, info, emit)
    return state
