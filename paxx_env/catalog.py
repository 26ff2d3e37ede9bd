"""The catalog: one file per service in services/, one folder per feature in profiles/.

Both are data. They are found by listing their folders and validated once, against one schema,
naming the file and key that is wrong. No code in paxx names a particular service or feature.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from paxx_env.envhash import catalog_version
from paxx_env.errors import ConfigError
from paxx_env.names import ENV_KEY, NAME, check_image_reference
from paxx_env.paths import catalog_root

#: Compose keys a service file may use. Anything else is rejected so a typo cannot slip through.
COMPOSE_KEYS = frozenset({
    "image", "command", "entrypoint", "environment", "ports", "volumes", "healthcheck", "user",
    "working_dir", "configs", "tmpfs", "ulimits", "stop_signal", "stop_grace_period", "shm_size",
    "security_opt",
})  # fmt: skip
HEALTHCHECK_KEYS = frozenset({"test", "start_period", "timeout", "retries"})
_PORT_SPEC = re.compile(
    r"^127\.0\.0\.1:\$\{(?P<var>[A-Z][A-Z0-9_]*)\}:(?P<target>\d+)(/(tcp|udp))?\Z"
)
_VOLUME_SPEC = re.compile(r"^(?P<name>[a-z0-9][a-z0-9_.-]*):(?P<target>/[^:]*)(:(ro|rw))?\Z")


#: libyaml's loader when PyYAML was built with it (several times faster), else the Python one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceMeta(_Strict):
    """The `x-paxx` block of a service file: what paxx needs beyond Compose."""

    summary: str
    docs: str = ""
    secrets: tuple[str, ...] = ()
    defaults: dict[str, str] = Field(default_factory=dict)
    ports: dict[str, int] = Field(default_factory=dict)
    urls: dict[str, str] = Field(default_factory=dict)
    exports: dict[str, str] = Field(default_factory=dict)
    #: Secrets the image can read from a file: secret -> the variable naming that file
    #: (POSTGRES_PASSWORD -> POSTGRES_PASSWORD_FILE). A Swarm stack mounts them as files.
    secret_files: dict[str, str] = Field(default_factory=dict)

    @field_validator("secrets")
    @classmethod
    def _secret_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not ENV_KEY.match(name):
                raise ValueError(f"{name!r} is not an environment variable name")
        return value

    @field_validator("defaults", "ports", "exports", "secret_files")
    @classmethod
    def _env_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not ENV_KEY.match(name):
                raise ValueError(f"{name!r} is not an environment variable name")
        return value

    @field_validator("ports")
    @classmethod
    def _port_numbers(cls, value: dict[str, int]) -> dict[str, int]:
        for name, port in value.items():
            if not 1024 <= port <= 65535:
                raise ValueError(f"{name}: preferred port {port} is outside 1024-65535")
        return value


class ProfileFile(_Strict):
    """A file a feature renders into the user's app (a client module)."""

    template: str
    target: str


class Profile(_Strict):
    """A feature: the services it needs, what it requires, adds and exports."""

    summary: str
    services: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    files: tuple[ProfileFile, ...] = ()


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
            match = _VOLUME_SPEC.match(spec)
            if match:
                names.append(match["name"])
        return tuple(names)

    @cached_property
    def port_targets(self) -> dict[str, int]:
        """Container port of each host-port variable, e.g. {"PAXX_REDIS_PORT": 6379}."""
        targets = {}
        for spec in self.compose.get("ports", []):
            match = _PORT_SPEC.match(str(spec))
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
class Catalog:
    """All services and features paxx knows, validated."""

    services: dict[str, Service]
    features: dict[str, Feature]
    root: Path = field(compare=False)

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
    catalog = Catalog(services=services, features=features, root=root)
    _check_references(catalog)
    return catalog


def load_service(path: Path) -> Service:
    """Load one services/NAME.yaml and validate it."""
    name = path.stem
    where = f"services/{path.name}"
    if not NAME.match(name):
        raise ConfigError(f"{where}: {name!r} is not a valid service name", _CATALOG_HINT)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ConfigError(f"{where}{line}: not valid YAML ({problem})", _CATALOG_HINT) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: must be a mapping of Compose keys", _CATALOG_HINT)
    raw_meta = data.pop("x-paxx", None)
    if raw_meta is None:
        raise ConfigError(f"{where}: missing the x-paxx block", _CATALOG_HINT)
    try:
        meta = ServiceMeta.model_validate(raw_meta)
    except ValidationError as exc:
        raise ConfigError(f"{where}: x-paxx.{_first_error(exc)}", _CATALOG_HINT) from None
    _check_compose(where, data, meta)
    _check_templates(where, meta)
    return Service(name=name, compose=data, meta=meta, source=where)


def load_feature(folder: Path) -> Feature:
    """Load one profiles/NAME/profile.toml and validate it."""
    where = f"profiles/{folder.name}/profile.toml"
    if not NAME.match(folder.name):
        raise ConfigError(f"profiles/{folder.name}: not a valid feature name", _CATALOG_HINT)
    try:
        data = tomllib.loads((folder / "profile.toml").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where}: missing", _CATALOG_HINT) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}", _CATALOG_HINT) from None
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_first_error(exc)}", _CATALOG_HINT) from None
    templates = {}
    for item in profile.files:
        try:
            templates[item.template] = (folder / "templates" / item.template).read_text(
                encoding="utf-8"
            )
        except (FileNotFoundError, IsADirectoryError):
            raise ConfigError(
                f"{where}: template {item.template!r} not found", _CATALOG_HINT
            ) from None
    return Feature(name=folder.name, profile=profile, folder=folder, templates=templates)


_CATALOG_HINT = "fix the catalog file (see docs/catalog.md for its format)"


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


def _check_compose(where: str, data: dict[str, Any], meta: ServiceMeta) -> None:
    unknown = sorted(set(data) - COMPOSE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unsupported Compose key {unknown[0]!r}", _CATALOG_HINT)
    if "image" not in data:
        raise ConfigError(f"{where}: missing image", _CATALOG_HINT)
    for key in ("ports", "volumes", "tmpfs"):
        if key in data and not _list_of_strings(data[key]):
            raise ConfigError(f"{where}: {key} must be a list of strings", _CATALOG_HINT)
    environment = data.get("environment", {})
    if not isinstance(environment, dict) and not _list_of_strings(environment):
        raise ConfigError(
            f"{where}: environment must be a mapping or a list of NAME=value strings",
            _CATALOG_HINT,
        )
    problem = check_image_reference(str(data["image"]))
    if problem:
        raise ConfigError(f"{where}: image: {problem}", _CATALOG_HINT)
    health = data.get("healthcheck")
    if not isinstance(health, dict) or "test" not in health:
        raise ConfigError(f"{where}: a healthcheck with a test is required", _CATALOG_HINT)
    unknown = sorted(set(health) - HEALTHCHECK_KEYS)
    if unknown:
        # interval and start_interval are set by paxx for the engine in use.
        raise ConfigError(f"{where}: healthcheck.{unknown[0]} is set by paxx", _CATALOG_HINT)
    declared_ports = set()
    for spec in data.get("ports", []):
        match = _PORT_SPEC.match(str(spec))
        if not match:
            raise ConfigError(
                f"{where}: port {spec!r} must look like 127.0.0.1:${{PAXX_..._PORT}}:TARGET",
                "ports are published on the loopback interface only",
            )
        declared_ports.add(match["var"])
    if declared_ports != set(meta.ports):
        raise ConfigError(
            f"{where}: ports and x-paxx.ports name different variables",
            _CATALOG_HINT,
        )
    for spec in data.get("volumes", []):
        if not _VOLUME_SPEC.match(str(spec)):
            raise ConfigError(
                f"{where}: volume {spec!r} must be a named volume (NAME:/path)", _CATALOG_HINT
            )
    _check_secret_files(where, data, meta)


def _check_secret_files(where: str, data: dict[str, Any], meta: ServiceMeta) -> None:
    """A secret read from a file is set once, as `KEY: ${KEY}` in environment, nowhere else.

    On Swarm that one entry becomes the file variable, so the secret is in no stack file.
    """
    for key, variable in meta.secret_files.items():
        reference = f"${{{key}}}"
        environment = data.get("environment")
        if key not in meta.secrets or not ENV_KEY.match(variable) or variable == key:
            problem = f"{key} must be a secret, read from the file another variable names"
        elif not isinstance(environment, dict) or environment.get(key) != reference:
            problem = f"needs `{key}: {reference}` in environment"
        elif str(data).count(reference) != 1:
            problem = f"{reference} may appear only in environment.{key}"
        else:
            continue
        raise ConfigError(f"{where}: x-paxx.secret_files.{key}: {problem}", _CATALOG_HINT)


def _list_of_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _check_templates(where: str, meta: ServiceMeta) -> None:
    """Every {{ VARIABLE }} in urls and exports must be one the service defines."""
    import jinja2
    import jinja2.meta

    known = {*meta.secrets, *meta.defaults, *meta.ports, "app_name", "project"}
    environment = jinja2.Environment()
    # The filters render.py registers; only their names matter for parsing.
    environment.filters.update({"urlquote": str, "slug": str})
    for block, templates in (("urls", meta.urls), ("exports", meta.exports)):
        for key, template in templates.items():
            try:
                used = jinja2.meta.find_undeclared_variables(environment.parse(template))
            except jinja2.TemplateSyntaxError as exc:
                raise ConfigError(
                    f"{where}: x-paxx.{block}.{key}: not a valid template ({exc.message})",
                    _CATALOG_HINT,
                ) from None
            unknown = sorted(used - known)
            if unknown:
                raise ConfigError(
                    f"{where}: x-paxx.{block}.{key} refers to {unknown[0]}, which "
                    f"{where.removeprefix('services/').removesuffix('.yaml')} does not define",
                    _CATALOG_HINT,
                )


def _check_references(catalog: Catalog) -> None:
    for name, feature in catalog.features.items():
        where = f"profiles/{name}/profile.toml"
        for service_name in feature.profile.services:
            if service_name not in catalog.services:
                raise ConfigError(f"{where}: unknown service {service_name!r}", _CATALOG_HINT)
        for required in feature.profile.requires:
            if required not in catalog.features:
                raise ConfigError(f"{where}: requires unknown feature {required!r}", _CATALOG_HINT)
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
                raise ConfigError(f"{service.source}: {key} {clash}", _CATALOG_HINT)
            owners[key] = service.name
    for name, feature in catalog.features.items():
        for key in feature.profile.env:
            if key in owners:
                raise ConfigError(
                    f"profiles/{name}/profile.toml: env.{key} is also set by {owners[key]}",
                    _CATALOG_HINT,
                )
