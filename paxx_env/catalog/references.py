"""Checks across catalog files.

Names that must exist, variables with one owner, providers that give what their feature
promises and do not conflict on their defaults.
"""

from __future__ import annotations

from paxx_env.catalog.schema import CATALOG_HINT, Catalog, Feature
from paxx_env.catalog.selection import conflicts, select
from paxx_env.errors import ConfigError


def check_references(catalog: Catalog) -> None:
    """Raise a ConfigError naming the file and key of the first broken reference."""
    for feature in catalog.features.values():
        _check_names(catalog, feature)
    owners = _check_service_variables(catalog)
    _check_feature_variables(catalog, owners)
    for feature in catalog.features.values():
        _check_providers_give(catalog, feature, owners)
    _check_no_conflicts(catalog)


def _check_names(catalog: Catalog, feature: Feature) -> None:
    where = feature.source
    for required in feature.profile.requires:
        if required not in catalog.features:
            raise ConfigError(f"{where}: requires unknown feature {required!r}", CATALOG_HINT)
    for name, provider in feature.profile.providers.items():
        for service in provider.services:
            if service not in catalog.services:
                raise ConfigError(
                    f"{where}: providers.{name}.services: unknown service {service!r}",
                    CATALOG_HINT,
                )
        for required in provider.requires:
            if required not in catalog.features:
                raise ConfigError(
                    f"{where}: providers.{name}.requires: unknown feature {required!r}",
                    CATALOG_HINT,
                )


def _check_service_variables(catalog: Catalog) -> dict[str, str]:
    """Variable -> the first service that sets it, each input with one owner.

    An input (secret, default, port) belongs to one service. An export may be shared by
    services that give one feature in turn (REDIS_URL by redis and valkey), never with an input.
    """
    inputs: dict[str, str] = {}
    for service in catalog.services.values():
        for key in (*service.meta.secrets, *service.meta.defaults, *service.meta.ports):
            if key in inputs:
                other = inputs[key]
                clash = "is set twice" if other == service.name else f"is also set by {other}.yaml"
                raise ConfigError(f"{service.source}: {key} {clash}", CATALOG_HINT)
            inputs[key] = service.name
    owners = dict(inputs)
    for service in catalog.services.values():
        for key in service.meta.exports:
            if key in inputs:
                other = inputs[key]
                clash = "is set twice" if other == service.name else f"is also set by {other}.yaml"
                raise ConfigError(f"{service.source}: {key} {clash}", CATALOG_HINT)
            owners.setdefault(key, service.name)
    return owners


def _check_feature_variables(catalog: Catalog, owners: dict[str, str]) -> None:
    """A feature's settings and its providers' values: no service sets them, no other feature.

    The providers of one feature may set the same variable (SEARCH_BACKEND), each its way.
    """
    taken: dict[str, str] = {}
    for name, feature in catalog.features.items():
        profile = feature.profile
        keys = [(f"env.{key}", key, taken) for key in profile.env]
        others = {**taken, **{key: f"env.{key}" for key in profile.env}}
        for provider_name, provider in profile.providers.items():
            keys += [(f"providers.{provider_name}.env.{key}", key, others) for key in provider.env]
        for location, key, clashes in keys:
            other = owners.get(key) or clashes.get(key)
            if other is not None:
                raise ConfigError(
                    f"{feature.source}: {location} is also set by {other}", CATALOG_HINT
                )
        taken.update(dict.fromkeys([key for _, key, _ in keys], name))


def _check_providers_give(catalog: Catalog, feature: Feature, owners: dict[str, str]) -> None:
    """Every provider gives every variable the feature's client module reads."""
    profile = feature.profile
    for name, provider in profile.providers.items():
        given = {*profile.env, *provider.env}
        for service in provider.services:
            meta = catalog.services[service].meta
            given |= {*meta.exports, *meta.secrets, *meta.defaults, *meta.ports}
        for required in (*profile.requires, *provider.requires):
            given |= set(catalog.features[required].profile.variables)
        missing = [v for v in profile.variables if v not in given]
        if missing:
            raise ConfigError(
                f"{feature.source}: providers.{name} does not give {missing[0]} "
                "(listed in variables)",
                CATALOG_HINT,
            )
        found = conflicts(catalog, select(catalog, [feature.name], {feature.name: name}))
        if found:
            raise ConfigError(
                f"{feature.source}: providers.{name}: {found[0].describe()}", CATALOG_HINT
            )


def _check_no_conflicts(catalog: Catalog) -> None:
    """Every feature on its default provider, or on its unrecorded one: no conflict."""
    everything = list(catalog.features)
    for key, pick in (
        ("default", {n: f.profile.default_provider for n, f in catalog.features.items()}),
        ("unrecorded", {n: f.profile.unrecorded_provider for n, f in catalog.features.items()}),
    ):
        found = conflicts(catalog, select(catalog, everything, pick))
        if found:
            first = catalog.features[next(iter(found[0].features))]
            raise ConfigError(
                f"{first.source}: {key}: {found[0].describe()}",
                "features that share a variable need their "
                f"{key} providers to agree (see docs/catalog.md)",
            )
