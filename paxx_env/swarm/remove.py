"""`paxx down --target swarm`: remove the stack, and nothing of it is left behind.

`docker stack rm` only asks the Swarm to remove the services; their containers stop in the
background, and a volume cannot be deleted (nor the network removed) while a container
still uses it. So paxx waits until the stack's containers are gone from this node, then
removes its secrets, any network left, and, when asked, its volumes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from paxx_env.catalog import Catalog
from paxx_env.engine import swarm as engine
from paxx_env.engine.containers import STOP_TIMEOUT, remove_volumes
from paxx_env.engine.info import check_engine
from paxx_env.engine.target import current_target
from paxx_env.engine.tasks import stack_services
from paxx_env.errors import EngineError, PaxxError
from paxx_env.lastup import SWARM, LastUp, bind_engine, forget_up
from paxx_env.state import load_state
from paxx_env.swarm.deploy import require_manager
from paxx_env.sync.envfile import forget_secrets

POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Removed:
    """What `down --target swarm` (or `feature remove`) removed."""

    services: list[str]
    volumes: list[str]


def down(
    root: Path, catalog: Catalog | None, confirm: Callable[[list[str]], bool]
) -> Removed | None:
    """Remove the project's stack; with a `catalog`, delete its data volumes too.

    None when the project was never started. `confirm` sees the volumes before anything is
    removed; when it says no, nothing happens.
    """
    state = load_state(root)
    if not state.project:
        return None
    last = LastUp.load(root)
    target = bind_engine(root, last) or current_target()
    check_engine()
    node = engine.swarm_node()
    if not (node.state == "active" and node.manager) and last.runs_on != SWARM:
        return None  # never deployed on a Swarm, and this engine is in none
    require_manager(target, node)
    stack = state.project
    names = {v for s in catalog.services.values() for v in s.volumes} if catalog else set()
    volumes = engine.stack_volumes(stack, names) if names else []
    if volumes and not confirm(volumes):
        raise PaxxError(
            "cancelled: nothing was stopped or deleted",
            "`paxx down --target swarm` removes the stack and keeps the data",
        )
    services = sorted(stack_services(stack))
    engine.remove_stack(stack)
    _wait_until_gone(stack)
    engine.remove_secrets(engine.stack_secrets(stack))
    engine.remove_networks(engine.stack_networks(stack))
    _check_nothing_left(stack)
    remove_volumes(volumes)
    forget_up(root)
    if volumes and catalog is not None:
        forget_secrets(root, catalog, [n for n in catalog.services if n not in state.services])
    return Removed(services, volumes)


def remove_services(stack: str, services: set[str], volume_names: set[str]) -> Removed:
    """Remove some services of a running stack (`feature remove`), and their volumes."""
    running = sorted(set(stack_services(stack)) & services)
    engine.remove_services(stack, running)
    _wait_until_gone(stack, running)
    volumes = engine.stack_volumes(stack, volume_names) if volume_names else []
    remove_volumes(volumes)
    return Removed(running, volumes)


def _wait_until_gone(stack: str, services: list[str] | None = None) -> None:
    """Wait until the services (default: all of the stack) and their containers are gone.

    Swarm gives each container its stop grace period, as Compose does.
    """
    deadline = time.monotonic() + STOP_TIMEOUT + 30
    while time.monotonic() < deadline:
        left = set(stack_services(stack))
        if services is not None:
            left &= set(services)
        if not left and not engine.stack_containers(stack, services):
            return
        time.sleep(POLL_SECONDS)
    raise EngineError(
        f"the containers of the stack {stack} did not stop within {STOP_TIMEOUT + 30} s",
        "run the command again; `docker stack ps " + stack + "` shows what is still there",
    )


def _check_nothing_left(stack: str) -> None:
    """Every secret and network of the stack is gone, or the user is told which and why."""
    secrets, networks = engine.stack_secrets(stack), engine.stack_networks(stack)
    if secrets or networks:
        left = ", ".join([*networks, *secrets])
        raise EngineError(
            f"could not remove {left}: still in use",
            "a container not started by the stack may still be attached "
            "(`docker network inspect NETWORK` names it); stop it and run `paxx down` again",
        )
