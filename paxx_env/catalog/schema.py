"""The shape of the catalog: a service file, a feature folder, and the catalog they make.

One schema for every entry. A feature names what the app needs; its providers are the
services that can give it, each with the feature's variables mapped onto them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from packaging.requirements import InvalidRequirement, Requirement
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from paxx_env.envhash import catalog_version
from paxx_env.hostprobe import ProbeSpec
from paxx_env.names import ENV_KEY, NAME

PORT_SPEC = re.compile(
    r"^127\.0\.0\.1:\$\{(?P<var>[A-Z][A-Z0-9_]*)\}:(?P<target>\d+)(/(tcp|udp))?\Z"
)
VOLUME_SPEC = re.compile(r"^(?P<name>[a-z0-9][a-z0-9_.-]*):(?P<target>/[^:]*)(:(ro|rw))?\Z")
CATALOG_HINT = "fix the catalog file (see docs/catalog.md for its format)"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Names = TypeVar("Names", bound=Iterable[str])
V = TypeVar("V")


def _env_names(value: Names) -> Names:
    """The rule for a list of variables, or the keys of a mapping: environment names."""
    for name in value:
        if not ENV_KEY.match(name):
            raise ValueError(f"{name!r} is not an environment variable name")
    return value


def _names_of(what: str) -> Callable[[Names], Names]:
    """The rule for a list of services, features or providers (or a mapping's keys)."""

    def check(value: Names) -> Names:
        for name in value:
            if not NAME.match(name):
                raise ValueError(f"{name!r} is not a {what} name")
        return value

    return check


#: Field types that carry their naming rule: each rule is written once, here.
EnvNames = Annotated[tuple[str, ...], AfterValidator(_env_names)]
EnvMapping = Annotated[dict[str, V], AfterValidator(_env_names)]
ServiceNames = Annotated[tuple[str, ...], AfterValidator(_names_of("service"))]
FeatureNames = Annotated[tuple[str, ...], AfterValidator(_names_of("feature"))]


class ServiceMeta(_Strict):
    """The `x-paxx` block of a service file: what paxx needs beyond Compose."""

    summary: str
    docs: str = ""
    secrets: EnvNames = ()
    defaults: EnvMapping[str] = Field(default_factory=dict)
    ports: EnvMapping[int] = Field(default_factory=dict)
    urls: dict[str, str] = Field(default_factory=dict)
    exports: EnvMapping[str] = Field(default_factory=dict)
    #: Secrets the image can read from a file: secret -> the variable naming that file
    #: (POSTGRES_PASSWORD -> POSTGRES_PASSWORD_FILE). A Swarm stack mounts them as files.
    secret_files: EnvMapping[str] = Field(default_factory=dict)
    #: how paxx sees from this machine that the service answers (hostprobe.py)
    probe: dict[str, str | int] | None = None

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
    #: Where `target` is: in the app's package (client modules) or at the project's root.
    place: Literal["package", "project"] = "package"
    #: Regenerated while untouched; once edited (or there before paxx) it is the user's and a
    #: sync leaves it as it is (reported as "skip") instead of refusing to go on.
    keep_edits: bool = Field(default=False, alias="keep-edits")


class Wiring(_Strict):
    """wiring/wiring.toml: files composed from all the declared features at once."""

    files: tuple[ProfileFile, ...] = ()


class Provider(_Strict):
    """One way to give a feature: the services that run it and the values it sets for the app."""

    #: The feature on this provider, in a few words (the title of its section in .env).
    summary: str = ""
    services: ServiceNames = ()
    #: Features this provider needs (search on postgres needs db).
    requires: FeatureNames = ()
    #: Settings for the app that follow the provider: rewritten whenever it changes.
    env: EnvMapping[str] = Field(default_factory=dict)


class Profile(_Strict):
    """A feature: what the app needs, the providers that can give it, what it adds."""

    summary: str
    requires: tuple[str, ...] = ()
    #: Everything the generated code imports: [project].dependencies of the user's project.
    dependencies: tuple[str, ...] = ()
    #: Only for type checking (stub packages): the PEP 735 group [dependency-groups].dev.
    dev_dependencies: tuple[str, ...] = Field(default=(), alias="dev-dependencies")
    #: The oldest Python the generated code runs on, as ">=3.X".
    requires_python: str = Field(default="", alias="requires-python")
    #: mypy plugins the generated code needs (e.g. pydantic's, for settings classes).
    mypy_plugins: tuple[str, ...] = Field(default=(), alias="mypy-plugins")
    #: The variables the feature's client module reads; every provider must give each one.
    variables: EnvNames = ()
    #: Settings for the app, written once into .env (then the user's to edit).
    env: EnvMapping[str] = Field(default_factory=dict)
    providers: dict[str, Provider]
    #: The provider `paxx feature add` records when none is asked for.
    default: str = ""
    #: What a declaration that records no provider means: the provider the feature ran on
    #: before it had a choice, so an existing project keeps its service. Default: `default`.
    unrecorded: str = ""
    files: tuple[ProfileFile, ...] = ()

    @field_validator("dependencies", "dev_dependencies")
    @classmethod
    def _requirements(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            try:
                Requirement(text)
            except InvalidRequirement:
                raise ValueError(f"{text!r} is not a requirement (PEP 508)") from None
        return value

    @field_validator("requires_python")
    @classmethod
    def _python_floor(cls, value: str) -> str:
        if value and not re.fullmatch(r">=3\.\d+", value):
            raise ValueError(f"{value!r} must be a floor like '>=3.11'")
        return value

    @field_validator("providers")
    @classmethod
    def _provider_names(cls, value: dict[str, Provider]) -> dict[str, Provider]:
        if not value:
            raise ValueError("a feature needs at least one provider")
        return _names_of("provider")(value)

    @model_validator(mode="after")
    def _default_and_unrecorded(self) -> Profile:
        for key in ("default", "unrecorded"):
            name = getattr(self, key)
            if name and name not in self.providers:
                raise ValueError(f"{key}: {name!r} is not one of the providers")
        if len(self.providers) > 1 and not self.default:
            raise ValueError("default: required when a feature has more than one provider")
        return self

    @property
    def default_provider(self) -> str:
        """The provider `feature add` picks when none is asked for."""
        return self.default or next(iter(self.providers))

    @property
    def unrecorded_provider(self) -> str:
        """The provider of a declaration that records none."""
        return self.unrecorded or self.default_provider

    @property
    def has_choice(self) -> bool:
        """Whether the feature runs on more than one provider."""
        return len(self.providers) > 1


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

    @cached_property
    def probe(self) -> ProbeSpec | None:
        """How paxx probes the service from this machine, when the file declares it."""
        return ProbeSpec.from_dict(self.meta.probe) if self.meta.probe else None


@dataclass(frozen=True)
class Feature:
    """One feature folder under profiles/."""

    name: str
    profile: Profile
    folder: Path
    #: The text of each template the profile renders, by its name under templates/.
    templates: dict[str, str] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """How errors name the feature's file."""
        return f"profiles/{self.name}/profile.toml"


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

    @cached_property
    def version(self) -> str:
        """Paxx's version and a digest of every catalog file (see envhash.catalog_version)."""
        return catalog_version(self.root)

    def provider(self, feature: str, name: str) -> Provider:
        """The provider `name` of `feature`."""
        return self.features[feature].profile.providers[name]
