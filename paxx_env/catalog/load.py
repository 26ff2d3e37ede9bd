"""Loading the catalog: every service file and feature folder, validated as it is read.

Each file is checked against its schema (schema.py) as it loads, naming the file and key that
is wrong; what spans files (services a feature names, shared variables) is checked last
(references.py).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from paxx_env.catalog.references import CATALOG_HINT as _CATALOG_HINT
from paxx_env.catalog.references import check_references
from paxx_env.catalog.schema import (
    PORT_SPEC,
    VOLUME_SPEC,
    Catalog,
    Feature,
    Profile,
    Service,
    ServiceMeta,
)
from paxx_env.errors import ConfigError
from paxx_env.names import NAME, check_image_reference
from paxx_env.paths import catalog_root

#: Compose keys a service file may use. Anything else is rejected so a typo cannot slip through.
COMPOSE_KEYS = frozenset(
    {
        "image",
        "command",
        "entrypoint",
        "environment",
        "ports",
        "volumes",
        "healthcheck",
        "user",
        "working_dir",
        "configs",
        "tmpfs",
        "ulimits",
        "stop_signal",
        "stop_grace_period",
        "shm_size",
        "security_opt",
    }
)
HEALTHCHECK_KEYS = frozenset({"test", "start_period", "timeout", "retries"})


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
    catalog = Catalog(services=services, features=features, root=root)
    check_references(catalog)
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
    if "services" in data and "providers" not in data:
        # The shape before features had providers: services = [...] at the top.
        raise ConfigError(
            f"{where}: services: name them in a provider ([providers.NAME] services = [...])",
            _CATALOG_HINT,
        )
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
        match = PORT_SPEC.match(str(spec))
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
        if not VOLUME_SPEC.match(str(spec)):
            raise ConfigError(
                f"{where}: volume {spec!r} must be a named volume (NAME:/path)", _CATALOG_HINT
            )


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
