"""Which provider gives each feature, and so which services run.

A declaration names features and, for a feature with a choice, its provider. The selection is
the features with everything they require, each on its provider, and the services those
providers run. Two providers conflict when their services would set one variable (cache on
valkey and tasks on redis would both set REDIS_URL): the features that share a server share
its provider.
"""

from __future__ import annotations

import difflib
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass

from paxx_env.catalog.schema import Catalog


@dataclass(frozen=True)
class Selection:
    """Features (with what they require) on their providers, and the services that run."""

    #: feature -> provider, for every feature of the closure, sorted by feature
    providers: dict[str, str]
    #: the services the providers run, sorted
    services: tuple[str, ...]
    #: service -> {feature: provider} of the features it serves (a feature whose provider
    #: runs no service of its own is served by the services of what it requires)
    serving: dict[str, dict[str, str]]

    @property
    def features(self) -> tuple[str, ...]:
        """The features and what they require, sorted."""
        return tuple(self.providers)


@dataclass(frozen=True)
class Conflict:
    """Features whose providers' services would all set one variable."""

    variable: str
    #: feature -> provider of each feature involved
    features: dict[str, str]

    def describe(self) -> str:
        """`cache on valkey and tasks on redis would both set REDIS_URL`."""
        groups: dict[str, list[str]] = {}
        for feature, provider in self.features.items():
            groups.setdefault(provider, []).append(feature)
        parts = [f"{', '.join(names)} on {provider}" for provider, names in groups.items()]
        both = "both" if len(parts) == 2 else "all"
        return f"{' and '.join(parts)} would {both} set {self.variable}"


def select(
    catalog: Catalog,
    features: Iterable[str],
    providers: Mapping[str, str],
    settled: Container[str] | None = None,
) -> Selection:
    """The selection of `features`, each on the provider `providers` names.

    A feature `providers` does not name runs on its unrecorded provider (what a declaration
    without one has always meant) or, when `settled` is given and does not hold it (the
    feature is new to the project), on its default. Names must be known: callers check them.
    """
    chosen: dict[str, str] = {}
    todo = list(features)
    while todo:
        name = todo.pop()
        if name in chosen:
            continue
        profile = catalog.features[name].profile
        new = settled is not None and name not in settled
        fallback = profile.default_provider if new else profile.unrecorded_provider
        chosen[name] = providers.get(name) or fallback
        todo += [*profile.requires, *profile.providers[chosen[name]].requires]
    ordered = dict(sorted(chosen.items()))
    serving: dict[str, dict[str, str]] = {}
    for feature in ordered:
        for service in _services_of(catalog, ordered, feature):
            serving.setdefault(service, {})[feature] = ordered[feature]
    return Selection(ordered, tuple(sorted(serving)), dict(sorted(serving.items())))


def _services_of(catalog: Catalog, chosen: dict[str, str], feature: str) -> list[str]:
    """The services a feature runs on: its provider's, else those of what it requires."""
    seen: set[str] = set()
    todo, services = [feature], []
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        provider = catalog.provider(name, chosen[name])
        if provider.services:
            services += [s for s in provider.services if s not in services]
        else:
            todo += [*catalog.features[name].profile.requires, *provider.requires]
    return services


def conflicts(catalog: Catalog, selection: Selection) -> list[Conflict]:
    """Variables two or more selected services would set, with the features behind them."""
    setters: dict[str, list[str]] = {}
    for service in selection.services:
        for key in catalog.services[service].meta.exports:
            setters.setdefault(key, []).append(service)
    found = []
    for variable, services in sorted(setters.items()):
        if len(services) < 2:
            continue
        involved = {
            feature: provider
            for feature, provider in selection.providers.items()
            if set(catalog.provider(feature, provider).services) & set(services)
        }
        found.append(Conflict(variable, involved))
    return found


def resolve_providers(
    catalog: Catalog, declared: Iterable[str], recorded: Mapping[str, str], added: Iterable[str]
) -> dict[str, str]:
    """The providers to record once `added` joins `declared`: one per feature with a choice.

    `recorded` holds the declaration's providers and those asked for on the command line;
    they are kept. A feature already in the project without one keeps what an unrecorded
    declaration means. A new feature without one gets its default, or else the first of its
    providers that conflicts with nothing selected before it (tasks joins cache on redis).
    """
    features = list(declared)
    settled = set(select(catalog, features, recorded).features)
    providers = dict(recorded)
    for name in added:
        features += [name] if name not in features else []
        while True:
            selection = select(catalog, features, providers, settled)
            pending = [
                f
                for f in (name, *selection.features)
                if f not in settled
                and f not in providers
                and catalog.features[f].profile.has_choice
            ]
            if not pending:
                break
            providers[pending[0]] = fitting_provider(
                catalog, features, providers, pending[0], settled
            )
    final = select(catalog, features, providers)
    return {
        feature: provider
        for feature, provider in final.providers.items()
        if feature in recorded or catalog.features[feature].profile.has_choice
    }


def fitting_provider(
    catalog: Catalog,
    features: list[str],
    providers: Mapping[str, str],
    feature: str,
    settled: Container[str],
) -> str:
    """The feature's default provider, or the first that conflicts with nothing selected."""
    profile = catalog.features[feature].profile
    others = sorted(set(profile.providers) - {profile.default_provider})
    for candidate in [profile.default_provider, *others]:
        trial = select(catalog, features, {**providers, feature: candidate}, settled)
        if not conflicts(catalog, trial):
            return candidate
    return profile.default_provider


def provider_hint(catalog: Catalog, feature: str, name: str) -> str:
    """`did you mean 'valkey'? cache runs on redis or valkey`."""
    known = sorted(catalog.features[feature].profile.providers)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    guess = f"did you mean {close[0]!r}? " if close else ""
    return f"{guess}{feature} runs on {or_list(known)}"


def or_list(names: list[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
