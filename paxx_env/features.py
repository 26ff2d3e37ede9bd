"""Adding and removing features: the declaration changes, then everything follows from it.

Removing a feature also stops the containers of services no longer needed and, only when
asked (and confirmed), deletes their data volumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from paxx_env.catalog import Catalog
from paxx_env.declaration import Project, check_feature
from paxx_env.engine.containers import project_volumes
from paxx_env.engine.info import check_engine
from paxx_env.engine.swarm import stack_volumes
from paxx_env.errors import EngineError, PaxxError, UsageError
from paxx_env.lastup import SWARM, LastUp, bind_engine
from paxx_env.lifecycle import teardown
from paxx_env.state import load_state
from paxx_env.swarm.remove import remove_services
from paxx_env.sync import SyncResult, sync
from paxx_env.sync.envfile import forget_secrets


def check_features(names: list[str], catalog: Catalog) -> None:
    """Raise a UsageError naming the closest feature for the first unknown name."""
    for name in names:
        check_feature(name, catalog)


@dataclass
class Added:
    """What `feature add` did."""

    result: SyncResult
    #: features enabled because a requested one requires them
    implied: list[str]
    #: services the requested features run
    services: list[str]


def add_features(project: Project, catalog: Catalog, names: list[str], force: bool) -> Added:
    """Declare `names` (in the order given, after those declared) and sync."""
    declared = list(project.declaration.features)
    new = [n for n in dict.fromkeys(names) if n not in declared]
    wanted = declared + new
    result = sync(
        project,
        catalog,
        # Nothing new: keep the declared list as the user ordered it.
        features=wanted if new or not project.initialized else None,
        force=force,
        command=f"feature add {' '.join(names)}",
    )
    implied = sorted(set(result.render.features) - set(wanted))
    services = sorted({s for n in names for s in catalog.services_for([n])})
    return Added(result, implied, services)


@dataclass
class Removed:
    """What `feature remove` did."""

    result: SyncResult
    #: services no longer used by any declared feature
    gone: list[str]
    stopped: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: named volumes of the services no longer used that were kept
    kept: list[str] = field(default_factory=list)


def remove_features(
    project: Project,
    catalog: Catalog,
    names: list[str],
    delete_volumes: bool,
    confirm: Callable[[list[str]], bool],
    force: bool,
) -> Removed:
    """Undeclare `names`, sync, stop what is no longer used; delete its data only if asked.

    `confirm` sees the volumes before anything changes: a "no" leaves files, services and
    data as they are.
    """
    declared = list(project.declaration.features)
    _check_removable(names, declared, catalog)
    remaining = [f for f in declared if f not in names]
    gone = sorted(set(catalog.services_for(declared)) - set(catalog.services_for(remaining)))
    engine_ok = _engine_reachable(project, required=delete_volumes)
    on_swarm = LastUp.load(project.root).runs_on == SWARM
    volume_names = {v for s in gone for v in catalog.services[s].volumes}
    if delete_volumes and volume_names:
        volumes_of = stack_volumes if on_swarm else project_volumes
        existing = volumes_of(load_state(project.root).project, volume_names)
        if existing and not confirm(existing):
            raise PaxxError(
                "cancelled: nothing was changed",
                f"`paxx feature remove {' '.join(names)}` without --volumes keeps the data",
            )
    result = sync(
        project,
        catalog,
        features=remaining,
        force=force,
        command=f"feature remove {' '.join(names)}",
    )
    removed = Removed(result, gone)
    if engine_ok and gone:
        deleting = volume_names if delete_volumes else set()
        if on_swarm:
            taken = remove_services(result.project_name, set(gone), deleting)
            removed.stopped, removed.deleted = taken.services, taken.volumes
        else:
            down = teardown(result.project_name, set(gone), deleting, lambda _: True)
            removed.stopped, removed.deleted = down.containers, down.volumes
        if removed.deleted:
            forget_secrets(project.root, catalog, gone)
    if not removed.deleted:
        removed.kept = sorted(volume_names)
    return removed


def _check_removable(names: list[str], declared: list[str], catalog: Catalog) -> None:
    closure = catalog.closure(declared)
    for name in names:
        if name in declared:
            continue
        if name in closure:
            needs = [f for f in declared if name in catalog.closure([f])]
            raise UsageError(
                f"{name} is not declared itself; {', '.join(needs)} requires it",
                f"remove {', '.join(needs)} instead",
            )
        raise UsageError(
            f"feature {name!r} was never added to this project",
            f"enabled features: {', '.join(declared) or 'none'}",
        )


def _engine_reachable(project: Project, required: bool) -> bool:
    """Whether the engine the environment runs on answers (an error when `required`)."""
    try:
        bind_engine(project.root, LastUp.load(project.root))
        check_engine()
    except EngineError:
        if required:
            raise
        return False
    return True
