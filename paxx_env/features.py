"""Adding and removing features: the declaration changes, then everything follows from it.

Removing a feature also stops the containers of services no longer needed and, only when
asked (and confirmed), deletes their data volumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from paxx_env.catalog import Catalog, Conflict, conflicts, provider_hint, resolve_providers, select
from paxx_env.declaration import Project, check_feature
from paxx_env.errors import EngineError, PaxxError, UsageError
from paxx_env.sync import SyncResult, sync


def check_features(names: list[str], catalog: Catalog, provider: str | None = None) -> None:
    """Raise a UsageError for the first unknown name, or a provider a feature does not have.

    A feature with one provider accepts only that one (and records nothing).
    """
    for name in names:
        check_feature(name, catalog)
    if provider is None:
        return
    for name in names:
        known = catalog.features[name].profile.providers
        if provider in known:
            continue
        if len(known) == 1:
            raise UsageError(
                f"{name} has no choice of provider: it runs on {next(iter(known))}",
                f"add it without --provider: `paxx feature add {name}`",
            )
        raise UsageError(
            f"unknown provider {provider!r} for {name}", provider_hint(catalog, name, provider)
        )


@dataclass
class Added:
    """What `feature add` did."""

    result: SyncResult
    #: features enabled because a requested one requires them
    implied: list[str]
    #: services the requested features run
    services: list[str]
    #: the provider of each requested feature that has a choice
    providers: dict[str, str] = field(default_factory=dict)
    #: feature -> (old provider, new provider) of each feature that changed provider
    switched: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: services no longer run (the old providers'), and those of them stopped now
    gone: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    #: data volumes the old providers left, kept (None: the engine could not be asked)
    kept: list[str] | None = None


def add_features(
    project: Project, catalog: Catalog, names: list[str], force: bool, provider: str | None = None
) -> Added:
    """Declare `names` (in the order given, after those declared), on `provider`, and sync.

    A feature already declared on another provider switches to it: the new provider's
    service starts empty, the old one's data volume is kept (never copied, never deleted).
    """
    declaration = project.declaration
    declared = list(declaration.features)
    new = [n for n in dict.fromkeys(names) if n not in declared]
    wanted = declared + new
    asked = {n: provider for n in names if provider and catalog.features[n].profile.has_choice}
    providers = resolve_providers(catalog, declared, {**declaration.providers, **asked}, new)
    before = select(catalog, declared, declaration.providers)
    after = select(catalog, wanted, providers)
    for conflict in conflicts(catalog, after):
        settled = [before.providers[f] for f in conflict.features if f in before.providers]
        raise _conflict(conflict, catalog, provider or next(iter(settled), ""))
    # The providers are recorded whenever the declaration changes anyway, or one is asked for.
    asking = any(declaration.providers.get(f) != p for f, p in asked.items())
    changed = bool(new) or asking or not project.initialized
    result = sync(
        project,
        catalog,
        # Nothing new: keep the declared list as the user ordered it.
        features=wanted if new or not project.initialized else None,
        providers=providers if changed else None,
        force=force,
        command=f"feature add {' '.join(names)}" + (f" --provider {provider}" if provider else ""),
    )
    requested = set(names)
    added = Added(
        result,
        implied=sorted(set(after.features) - set(wanted)),
        services=sorted({s for s, fs in after.serving.items() if requested & set(fs)}),
        providers={n: after.providers[n] for n in names if catalog.features[n].profile.has_choice},
        switched={
            f: (old, after.providers[f])
            for f, old in before.providers.items()
            if f in after.providers and after.providers[f] != old
        },
        gone=sorted(set(before.services) - set(after.services)),
    )
    if added.gone:
        _stop_gone(added, project, catalog)
    return added


def _conflict(conflict: Conflict, catalog: Catalog, provider: str) -> UsageError:
    """The refusal of two providers that would set one variable, and the command that fixes it."""
    sharing = list(conflict.features)
    if provider and all(provider in catalog.features[f].profile.providers for f in sharing):
        how = f"`paxx feature add {' '.join(sharing)} --provider {provider}`"
    else:
        how = f"give {' and '.join(sharing)} one provider with --provider"
    return UsageError(
        conflict.describe(),
        f"the features that share {conflict.variable} run on one provider: {how}",
    )


def _stop_gone(added: Added, project: Project, catalog: Catalog) -> None:
    """Stop the containers of the services the switch left behind; find their volumes."""
    from paxx_env.engine.containers import project_volumes
    from paxx_env.lifecycle import teardown

    project_name = added.result.project_name
    volume_names = {v for s in added.gone for v in catalog.services[s].volumes}
    if not _engine_reachable(project, required=False):
        return
    down = teardown(project_name, set(added.gone), set(), lambda _: True)
    added.stopped = down.containers
    added.kept = project_volumes(project_name, volume_names)


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
    from paxx_env.engine.containers import project_volumes
    from paxx_env.engine.swarm import stack_volumes
    from paxx_env.lastup import SWARM, LastUp
    from paxx_env.state import load_state

    declaration = project.declaration
    declared = list(declaration.features)
    _check_removable(names, declared, declaration.providers, catalog)
    remaining = [f for f in declared if f not in names]
    providers = resolve_providers(catalog, remaining, declaration.providers, [])
    before = select(catalog, declared, declaration.providers).services
    gone = sorted(set(before) - set(select(catalog, remaining, providers).services))
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
        providers=providers,
        force=force,
        command=f"feature remove {' '.join(names)}",
    )
    removed = Removed(result, gone)
    if engine_ok and gone:
        deleting = volume_names if delete_volumes else set()
        _stop_removed(removed, project, catalog, deleting, on_swarm)
    if not removed.deleted:
        removed.kept = sorted(volume_names)
    return removed


def _stop_removed(
    removed: Removed, project: Project, catalog: Catalog, deleting: set[str], on_swarm: bool
) -> None:
    """Stop the services no longer used, and delete the volumes in `deleting`."""
    from paxx_env.lifecycle import teardown
    from paxx_env.swarm.remove import remove_services
    from paxx_env.sync.envfile import forget_secrets

    name, gone = removed.result.project_name, set(removed.gone)
    if on_swarm:
        taken = remove_services(name, gone, deleting)
        removed.stopped, removed.deleted = taken.services, taken.volumes
    else:
        down = teardown(name, gone, deleting, lambda _: True)
        removed.stopped, removed.deleted = down.containers, down.volumes
    if removed.deleted:
        forget_secrets(project.root, catalog, removed.gone)


def _check_removable(
    names: list[str], declared: list[str], providers: dict[str, str], catalog: Catalog
) -> None:
    closure = select(catalog, declared, providers).features
    for name in names:
        if name in declared:
            continue
        if name in closure:
            needs = [f for f in declared if name in select(catalog, [f], providers).features]
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
    from paxx_env.engine.info import check_engine
    from paxx_env.lastup import LastUp, bind_engine

    try:
        bind_engine(project.root, LastUp.load(project.root))
        check_engine()
    except EngineError:
        if required:
            raise
        return False
    return True
