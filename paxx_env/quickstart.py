"""`paxx up` from the files as they are: no catalog, no rendering, no typer, no pydantic.

When the folder is what the last sync left (fresh.py), a sync would write nothing, so `up`
goes straight to the engine (start.py) with the summary in state.json and the values in
.env. That is the common case (the declaration did not change since yesterday's `paxx up`),
and it leaves paxx's own start-up out of the way of the services' start (docs/benchmarks.md).
Anything else (an edit, a new feature, an engine the files were not made for) returns None,
and `up` does the full work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from paxx_env.engine.forward import forward_alive
from paxx_env.engine.info import EngineInfo, check_engine
from paxx_env.engine.target import EngineTarget, current_target
from paxx_env.envblock import read_env
from paxx_env.fresh import is_fresh
from paxx_env.fsio import read_bytes
from paxx_env.lastup import COMPOSE, FirstLook, LastUp, bind_engine, choose_target
from paxx_env.names import check_services
from paxx_env.paths import ENGINE_OVERLAY, ENV_FILE
from paxx_env.readiness import Emit
from paxx_env.start import Rendered, Survey, start_surveyed, survey
from paxx_env.state import State, load_state


@dataclass(frozen=True)
class QuickStart:
    """An `up` that needs no sync, ready to run: what it starts, and what the engine said."""

    rendered: Rendered
    targets: list[str]
    last: LastUp
    target: EngineTarget
    info: EngineInfo
    seen: Survey

    @property
    def state(self) -> State:
        """state.json as the last sync wrote it (the status report reads it)."""
        return self.rendered.state

    def run(self, timeout: float, emit: Emit) -> None:
        """Start the services and wait until they are ready (or say they are up already)."""
        start_surveyed(
            self.rendered,
            self.seen,
            self.targets,
            timeout,
            self.last,
            self.target,
            self.info,
            emit,
        )


def prepare(root: Path, services: list[str], looked: FirstLook | None = None) -> QuickStart | None:
    """The quick start of `paxx up` (or `paxx up SERVICE...`), or None when it needs a sync.

    Nothing is started or printed yet. The caller holds the project's lock until it has run;
    `looked` is what lastup.first_look found under that same lock, when it ran.
    """
    state = load_state(root)
    if not state.services or state.lock_problems or not is_fresh(root, state):
        return None
    declared = sorted(state.services)
    targets = check_services(services, declared) if services else declared
    text = (read_bytes(root / ENV_FILE) or b"").decode("utf-8", "replace")
    rendered = Rendered(root, state, read_env(text).block)
    last = LastUp.load(root)
    if choose_target(root, last, None, "up") != COMPOSE:
        return None  # a Swarm stack: `up --target swarm` deploys it (swarm/deploy.py)
    target = bind_engine(root, last) or current_target()
    if last.forward and not forward_alive(last.forward["pid"], last.forward["ports"]):
        return None  # the SSH forwards of a remote engine are down: the full `up` restarts them
    # What the engine holds and what it is, asked at once. The survey runs in a daemon
    # thread: an engine that does not answer is reported when check_engine gives up (5 s),
    # not after the docker CLI's own timeout. Over SSH, where each docker command opens a
    # connection (unless ssh shares one), the engine is asked first, alone.
    listed = looked.containers if looked and looked.project == state.project else None
    if target.ssh is None:
        surveyed = _in_background(lambda: survey(rendered, targets, listed))
        info = check_engine()
        seen = surveyed()
    else:
        info = check_engine()
        seen = survey(rendered, targets, listed)
    # The per-machine overlay adds a start_interval for engines >= 25 only; another engine
    # than the one it was written for needs a sync (unless nothing is to be started).
    overlay = read_bytes(root / ENGINE_OVERLAY) or b""
    if info.start_interval != (b"start_interval" in overlay) and not seen.already_up(last, targets):
        return None
    return QuickStart(rendered, targets, last, target, info, seen)


T = TypeVar("T")


def _in_background(call: Callable[[], T]) -> Callable[[], T]:
    """Start `call` in a daemon thread; what it returns waits for its result (or raises)."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the caller, whatever it is
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def result() -> T:
        thread.join()
        if failure:
            raise failure[0]
        return outcome[0]

    return result
