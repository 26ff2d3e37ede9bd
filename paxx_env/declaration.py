"""The project's declaration: `[tool.paxx]` in pyproject.toml, or paxx.toml, validated.

The declaration is the single source of truth; everything paxx writes is generated from it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import tomlkit
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from tomlkit.toml_document import TOMLDocument

from paxx_env.catalog import Catalog, Selection, conflicts, or_list, provider_hint, select
from paxx_env.errors import ConfigError, UsageError
from paxx_env.names import NAME, check_image_reference
from paxx_env.paths import PAXX_TOML, PYPROJECT, find_root
from paxx_env.tomlfile import read_toml


class ServiceOverride(BaseModel):
    """Per-project changes to one catalog service."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image: str | None = None
    ports: dict[str, int] = Field(default_factory=dict)

    @field_validator("ports", mode="before")
    @classmethod
    def _strict_ports(cls, value: Any) -> Any:
        # Before pydantic's coercion: "6379" or true are not port numbers.
        if isinstance(value, dict):
            seen: dict[int, str] = {}
            for name, port in value.items():
                if type(port) is not int or not 1 <= port <= 65535:
                    raise ValueError(f"{name} = {port!r} is not a port number (1-65535)")
                if port in seen:
                    raise ValueError(f"{name} = {port} is also used by {seen[port]}")
                seen[port] = name
        return value

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None:
            problem = check_image_reference(value)
            if problem:
                raise ValueError(problem)
        return value


class Declaration(BaseModel):
    """What the project declares under [tool.paxx]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    features: tuple[str, ...] = ()
    name: str | None = None
    package: str | None = None
    #: Where `paxx up` runs the services: Compose (the default) or a Swarm stack.
    target: Literal["compose", "swarm"] | None = None
    #: feature -> provider, for features with a choice (cache = "valkey")
    providers: dict[str, str] = Field(default_factory=dict)
    services: dict[str, ServiceOverride] = Field(default_factory=dict)

    @field_validator("package")
    @classmethod
    def _package_inside(cls, value: str | None) -> str | None:
        if value is not None:
            parts = Path(value).parts
            if not value.strip() or Path(value).is_absolute() or ".." in parts:
                raise ValueError(f"{value!r} is not a folder inside the project")
        return value

    @field_validator("features")
    @classmethod
    def _feature_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not NAME.match(name):
                raise ValueError(f"{name!r} is not a feature name")
        if len(set(value)) != len(value):
            raise ValueError("a feature is listed twice")
        return value

    def selection(self, catalog: Catalog) -> Selection:
        """The declared features and what they require, on their providers, with services."""
        return select(catalog, self.features, self.providers)


@dataclass
class Project:
    """A project directory and its parsed declaration."""

    root: Path
    source: Path
    document: TOMLDocument
    declaration: Declaration
    initialized: bool

    @property
    def has_pyproject(self) -> bool:
        """Whether the declaration lives in pyproject.toml (which also holds dependencies)."""
        return self.source.name == PYPROJECT

    @property
    def source_label(self) -> str:
        """How messages name the declaration: `[tool.paxx] in pyproject.toml` or `paxx.toml`."""
        return f"[tool.paxx] in {PYPROJECT}" if self.has_pyproject else PAXX_TOML

    @property
    def app_name(self) -> str:
        """The app's name: [tool.paxx].name, else [project].name, else the folder name."""
        if self.declaration.name:
            return self.declaration.name
        project = self.document.get("project")
        if (
            self.has_pyproject
            and isinstance(project, dict)
            and isinstance(project.get("name"), str)
        ):
            return str(project["name"])
        return self.root.name

    @property
    def package_dir(self) -> str:
        """Where client modules go, relative to the root.

        [tool.paxx].package when set; else the import package named after the project
        (src/NAME or NAME, with dashes as underscores) when it exists; else app/ when that
        is a package; else NAME.
        """
        if self.declaration.package:
            return self.declaration.package.strip("/")
        candidates = self.package_candidates
        for candidate in candidates:
            if (self.root / candidate / "__init__.py").is_file():
                return candidate
        return candidates[1]

    @property
    def package_candidates(self) -> list[str]:
        """The folders package_dir looks for an `__init__.py` in, in its order."""
        if self.declaration.package:
            return [self.declaration.package.strip("/")]
        name = re.sub(r"[^a-z0-9]+", "_", self.app_name.lower()).strip("_") or "app"
        return [f"src/{name}", name, "src/app", "app"]


def open_project(start: Path, catalog: Catalog, *, create: bool = False) -> Project:
    """Read and validate the declaration for the project at or above `start`.

    With `create`, a folder without either file gets an (unsaved) paxx.toml document.
    """
    root = find_root(start)
    if root is None:
        if not create:
            raise UsageError(
                f"no {PYPROJECT} or {PAXX_TOML} in {start} or any folder above it",
                "run paxx in your project folder, or `paxx init` to start a declaration here",
            )
        root = start
    pyproject, paxx_toml = root / PYPROJECT, root / PAXX_TOML
    own = read_toml(paxx_toml)
    document = read_toml(pyproject)
    if document is not None:
        tool = document.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{PYPROJECT}: [tool] must be a table", "see docs/declaration.md")
        table = tool.get("paxx")
        if table is not None and own is not None:
            raise ConfigError(
                f"both {PYPROJECT} ([tool.paxx]) and {PAXX_TOML} declare this project",
                f"keep one: move what {PAXX_TOML} says into [tool.paxx] and delete {PAXX_TOML}, "
                "or delete [tool.paxx]",
            )
        if table is not None or own is None:
            return _project(root, pyproject, document, table, catalog)
    if own is not None:
        return _project(root, paxx_toml, own, own, catalog)
    return _project(root, paxx_toml, tomlkit.document(), None, catalog)


def _project(
    root: Path, source: Path, document: TOMLDocument, table: Any, catalog: Catalog
) -> Project:
    initialized = table is not None
    raw = table.unwrap() if hasattr(table, "unwrap") else (table or {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{source.name}: [tool.paxx] must be a table", "see docs/declaration.md")
    declaration = validate(raw, source, catalog)
    return Project(root, source, document, declaration, initialized)


def validate(raw: dict[str, Any], source: Path, catalog: Catalog) -> Declaration:
    """Validate a declaration table against its schema and the catalog."""
    prefix = "tool.paxx." if source.name == PYPROJECT else ""
    try:
        declaration = Declaration.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = prefix + ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
            known = _known_keys(error["loc"])
            close = difflib.get_close_matches(str(error["loc"][-1]), known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            hint += f"Known keys here: {', '.join(known)}"
        else:
            hint = "see docs/declaration.md for the format of [tool.paxx]"
        table = ("tool.paxx." if prefix else "") + ".".join(str(p) for p in error["loc"][:-1])
        line = _line_of(source, table.rstrip("."), str(error["loc"][-1]) if error["loc"] else "")
        where = f"{source.name}{f' line {line}' if line else ''}"
        raise ConfigError(f"{where}: {location}: {message}", hint) from None
    for feature in declaration.features:
        check_feature(feature, catalog, source)
    _check_providers(declaration, source, catalog)
    for service, override in declaration.services.items():
        if service not in catalog.services:
            raise ConfigError(
                f"{source.name}: {prefix}services.{service}: unknown service",
                _suggest(service, list(catalog.services), "service"),
            )
        known_ports = catalog.services[service].meta.ports
        for port_var in override.ports:
            if port_var not in known_ports:
                raise ConfigError(
                    f"{source.name}: {prefix}services.{service}.ports.{port_var}: not a port of "
                    f"{service}",
                    f"{service} has: {', '.join(known_ports) or 'no ports'}",
                )
    return declaration


def _check_providers(declaration: Declaration, source: Path, catalog: Catalog) -> None:
    """Each provider known for its feature, the feature enabled, no two sharing a variable."""
    prefix = "tool.paxx." if source.name == PYPROJECT else ""
    table = f"{prefix}providers"
    for feature, provider in declaration.providers.items():
        line = _line_of(source, table, feature)
        where = f"{source.name}{f' line {line}' if line else ''}: {table}.{feature}"
        if feature not in catalog.features:
            raise ConfigError(
                f"{where}: unknown feature", _suggest(feature, [*catalog.features], "feature")
            )
        known = catalog.features[feature].profile.providers
        if provider not in known and len(known) == 1:
            raise ConfigError(
                f"{where}: {feature} has no choice of provider (it runs on {next(iter(known))})",
                "delete that line",
            )
        if provider not in known:
            raise ConfigError(
                f"{where}: unknown provider {provider!r}", provider_hint(catalog, feature, provider)
            )
    selection = select(catalog, declaration.features, declaration.providers)
    for feature in declaration.providers:
        if feature not in selection.providers:
            line = _line_of(source, table, feature)
            raise ConfigError(
                f"{source.name}{f' line {line}' if line else ''}: {table}.{feature}: "
                f"{feature} is not enabled",
                f"add it to {prefix}features, or delete that line",
            )
    for conflict in conflicts(catalog, selection):
        names = list(conflict.features)
        raise ConfigError(
            f"{source.name}: {table}: {conflict.describe()}",
            f"the features that share {conflict.variable} run on one provider: give "
            f"{or_list(names).replace(' or ', ' and ')} the same one",
        )


def check_feature(name: str, catalog: Catalog, source: Path | None = None) -> None:
    """Raise a UsageError naming the closest feature when `name` is not in the catalog."""
    if name not in catalog.features:
        where = f"{source.name}: " if source else ""
        raise UsageError(
            f"{where}unknown feature {name!r}",
            _suggest(name, list(catalog.features), "feature") + "; `paxx feature list` shows all",
        )


def _suggest(name: str, known: list[str], kind: str) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"known {kind}s: {', '.join(sorted(known))}"


def _known_keys(location: tuple[Any, ...]) -> list[str]:
    if len(location) >= 3 and location[0] == "services":
        return sorted(ServiceOverride.model_fields)
    return sorted(Declaration.model_fields)


def _line_of(source: Path, table: str, key: str) -> int | None:
    """The line where `key` is set inside the TOML table `table` ("" for the top level).

    Best effort: a `key =` line under the table's header, or a header `[table.key]` or
    `[table.key.sub]`; inline tables and dotted keys may not be found (then no line).
    """
    if not key or not source.is_file():
        return None
    current = ""
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    assignment = re.compile(rf'^\s*"?{re.escape(key)}"?\s*=')
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        found = header.match(line)
        if found:
            current = found.group(1).replace('"', "")
            full = f"{table}.{key}" if table else key
            if current == full or current.startswith(f"{full}."):
                return number
            continue
        if current == table and assignment.match(line):
            return number
    return None


def set_features(
    project: Project, features: list[str], providers: dict[str, str] | None = None
) -> TOMLDocument:
    """Return the declaration document with `features` set, creating [tool.paxx] if needed.

    With `providers`, [tool.paxx.providers] (or [providers]) holds exactly those; an empty
    one is removed. What is already as asked is left as written.
    """
    document = project.document
    if project.has_pyproject:
        tool = document.get("tool")
        if tool is None:
            tool = tomlkit.table(is_super_table=True)
            document["tool"] = tool
        table = tool.get("paxx")
        if table is None:
            table = tomlkit.table()
            tool["paxx"] = table
    else:
        table = document
    array = tomlkit.array()
    array.extend(features)
    if "features" not in table:
        table.add("features", array)
    elif list(table["features"]) != features:
        table["features"] = array
    if providers is not None:
        # Tables after [tool.paxx] (projectconf adds [tool.mypy], [dependency-groups]...).
        followed = project.has_pyproject and (
            list(document)[-1] != "tool" or list(document["tool"])[-1] != "paxx"
        )
        _set_providers(table, providers, followed)
    return document


def _set_providers(table: Any, providers: dict[str, str], followed: bool) -> None:
    """Values of the providers table changed in place, so comments on the others stay.

    A new table gets the blank line after it that tomlkit leaves out when other tables
    follow, so the file reads the same whichever order features were added in.
    """
    current = table.get("providers")
    if not providers:
        if current is not None:
            del table["providers"]
        return
    if current is not None and isinstance(current, dict) and set(current) == set(providers):
        for feature, provider in providers.items():
            if current.get(feature) != provider:
                current[feature] = provider
        return
    # A feature joins or leaves: the table is written anew, sorted like `features`.
    fresh = tomlkit.table()
    fresh.update(dict(sorted(providers.items())))
    if followed and current is None:
        fresh.add(tomlkit.nl())
    table["providers"] = fresh
