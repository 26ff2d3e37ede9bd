"""Loading the catalog: every service file and feature folder, validated as it is read.

Each file is checked against its schema (schema.py) as it loads, naming the file and key that
is wrong; what spans files (services a feature names, shared variables) is checked last
(references.py).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from pydantic import ValidationError

from paxx_env.catalog.checks import check_compose, check_templates
from paxx_env.catalog.references import check_references
from paxx_env.catalog.schema import (
    CATALOG_HINT,
    Catalog,
    Feature,
    Profile,
    ProfileFile,
    Service,
    ServiceMeta,
    Wiring,
    WiringFiles,
)
from paxx_env.errors import ConfigError
from paxx_env.hostprobe import spec_problem
from paxx_env.names import NAME
from paxx_env.paths import catalog_root

#: libyaml's loader when PyYAML was built with it (several times faster), else the Python one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    check_references(catalog)
    return catalog


def load_service(path: Path) -> Service:
    """Load one services/NAME.yaml and validate it."""
    name = path.stem
    where = f"services/{path.name}"
    if not NAME.match(name):
        raise ConfigError(f"{where}: {name!r} is not a valid service name", CATALOG_HINT)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
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
    if meta.probe is not None:
        problem = spec_problem(meta.probe, set(meta.ports), {*meta.secrets, *meta.defaults})
        if problem:
            raise ConfigError(f"{where}: x-paxx.probe{problem}", CATALOG_HINT)
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
    if "services" in data and "providers" not in data:
        # The shape before features had providers: services = [...] at the top.
        raise ConfigError(
            f"{where}: services: name them in a provider ([providers.NAME] services = [...])",
            CATALOG_HINT,
        )
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
