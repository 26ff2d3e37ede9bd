"""The catalog: one file per service in services/, one folder per feature in profiles/.

Both are data. They are found by listing their folders and validated once, against one schema,
naming the file and key that is wrong. No code in paxx names a particular service or feature.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from paxx_env.catalogschema import (
    CATALOG_HINT,
    PORT_SPEC,
    VOLUME_SPEC,
    YAML_LOADER,
    Profile,
    ProfileFile,
    ServiceMeta,
    Wiring,
    check_compose,
    check_templates,
)
from paxx_env.envhash import catalog_version
from paxx_env.errors import ConfigError
from paxx_env.names import NAME
from paxx_env.paths import catalog_root

__all__ = ["Catalog", "Feature", "Profile", "Service", "ServiceMeta", "load_catalog"]


@dataclass(frozen=True)
class Service:
    """One service: its Compose fragment and its paxx metadata."""

    name: str
    compose: dict[str, Any]
    meta: ServiceMeta
    source: str

    @cached_property
    def volumes(self) -> tuple[str, ...]:
        """Named volumes the service mounts, in file order."""
        names = []
        for spec in self.compose.get("volumes", []):
            match = VOLUME_SPEC.match(spec)
            if match:
                names.append(match["name"])
        return tuple(names)

    @cached_property
    def port_targets(self) -> dict[str, int]:
        """Container port of each host-port variable, e.g. {"PAXX_REDIS_PORT": 6379}."""
        targets = {}
        for spec in self.compose.get("ports", []):
            match = PORT_SPEC.match(str(spec))
            if match:
                targets[match["var"]] = int(match["target"])
        return targets

    @property
    def image(self) -> str:
        """The image reference from the service file."""
        return str(self.compose["image"])


@dataclass(frozen=True)
class Feature:
    """One feature folder under profiles/."""

    name: str
    profile: Profile
    folder: Path
    #: The text of each template the profile renders, by its name under templates/.
    templates: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WiringFiles:
    """The catalog's wiring/ folder: files composed from every declared feature at once."""

    files: tuple[ProfileFile, ...] = ()
    templates: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    """All services and features paxx knows, validated."""

    services: dict[str, Service]
    features: dict[str, Feature]
    root: Path = field(compare=False)
    wiring: WiringFiles = field(default_factory=WiringFiles)

    def closure(self, features: list[str]) -> list[str]:
        """The features plus everything they require, sorted."""
        seen: set[str] = set()
        todo = list(features)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo.extend(self.features[name].profile.requires)
        return sorted(seen)

    @cached_property
    def version(self) -> str:
        """Paxx's version and a digest of every catalog file (see envhash.catalog_version)."""
        return catalog_version(self.root)

    def services_for(self, features: list[str]) -> list[str]:
        """The services the features (and what they require) need, sorted."""
        names = {s for f in self.closure(features) for s in self.features[f].profile.services}
        return sorted(names)


def load_catalog(root: Path | None = None) -> Catalog:
    """Load and validate every service file and profile folder under `root`."""
    root = root or catalog_root()
    for needed in ("services", "profiles"):
        if not (root / needed).is_dir():
            raise ConfigError(
                f"the catalog at {root} has no {needed}/ folder",
                "point PAXX_CATALOG at a catalog folder (services/ and profiles/), or unset it",
            )
    services = {}
    for path in sorted((root / "services").glob("*.yaml")):
        service = load_service(path)
        services[service.name] = service
    features = {}
    for folder in sorted(p for p in (root / "profiles").iterdir() if p.is_dir()):
        feature = load_feature(folder)
        features[feature.name] = feature
    catalog = Catalog(
        services=services, features=features, root=root, wiring=load_wiring(root / "wiring")
    )
    _check_references(catalog)
    return catalog


def load_service(path: Path) -> Service:
    """Load one services/NAME.yaml and validate it."""
    name = path.stem
    where = f"services/{path.name}"
    if not NAME.match(name):
        raise ConfigError(f"{where}: {name!r} is not a valid service name", CATALOG_HINT)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ConfigError(f"{where}{line}: not valid YAML ({problem})", CATALOG_HINT) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: must be a mapping of Compose keys", CATALOG_HINT)
    raw_meta = data.pop("x-paxx", None)
    if raw_meta is None:
        raise ConfigError(f"{where}: missing the x-paxx block", CATALOG_HINT)
    try:
        meta = ServiceMeta.model_validate(raw_meta)
    except ValidationError as exc:
        raise ConfigError(f"{where}: x-paxx.{_first_error(exc)}", CATALOG_HINT) from None
    check_compose(where, data, meta)
    check_templates(where, meta)
    return Service(name=name, compose=data, meta=meta, source=where)


def load_feature(folder: Path) -> Feature:
    """Load one profiles/NAME/profile.toml and validate it."""
    where = f"profiles/{folder.name}/profile.toml"
    if not NAME.match(folder.name):
        raise ConfigError(f"profiles/{folder.name}: not a valid feature name", CATALOG_HINT)
    try:
        data = tomllib.loads((folder / "profile.toml").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where}: missing", CATALOG_HINT) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}", CATALOG_HINT) from None
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_first_error(exc)}", CATALOG_HINT) from None
    templates = _read_templates(where, folder, profile.files)
    return Feature(name=folder.name, profile=profile, folder=folder, templates=templates)


def load_wiring(folder: Path) -> WiringFiles:
    """Load wiring/wiring.toml (optional: a catalog without it composes nothing)."""
    where = "wiring/wiring.toml"
    try:
        data = tomllib.loads((folder / "wiring.toml").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return WiringFiles()
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}", CATALOG_HINT) from None
    try:
        wiring = Wiring.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_first_error(exc)}", CATALOG_HINT) from None
    return WiringFiles(wiring.files, _read_templates(where, folder, wiring.files))


def _read_templates(where: str, folder: Path, files: tuple[ProfileFile, ...]) -> dict[str, str]:
    templates = {}
    for item in files:
        try:
            templates[item.template] = (folder / "templates" / item.template).read_text(
                encoding="utf-8"
            )
        except (FileNotFoundError, IsADirectoryError):
            raise ConfigError(
                f"{where}: template {item.template!r} not found", CATALOG_HINT
            ) from None
    return templates


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


def _check_references(catalog: Catalog) -> None:
    for name, feature in catalog.features.items():
        where = f"profiles/{name}/profile.toml"
        for service_name in feature.profile.services:
            if service_name not in catalog.services:
                raise ConfigError(f"{where}: unknown service {service_name!r}", CATALOG_HINT)
        for required in feature.profile.requires:
            if required not in catalog.features:
                raise ConfigError(f"{where}: requires unknown feature {required!r}", CATALOG_HINT)
    owners: dict[str, str] = {}
    for service in catalog.services.values():
        keys = [
            *service.meta.secrets,
            *service.meta.defaults,
            *service.meta.ports,
            *service.meta.exports,
        ]
        for key in keys:
            if key in owners:
                other = owners[key]
                clash = "is set twice" if other == service.name else f"is also set by {other}.yaml"
                raise ConfigError(f"{service.source}: {key} {clash}", CATALOG_HINT)
            owners[key] = service.name
    for name, feature in catalog.features.items():
        for key in feature.profile.env:
            if key in owners:
                raise ConfigError(
                    f"profiles/{name}/profile.toml: env.{key} is also set by {owners[key]}",
                    CATALOG_HINT,
                )
