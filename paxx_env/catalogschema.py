"""The catalog's schema: what a service file and a profile.toml may say, checked per file.

Validated once, against one schema, naming the file and key that is wrong (catalog.py loads
the files and checks what spans them).
"""

from __future__ import annotations

import re
from typing import Any, Literal

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from pydantic import BaseModel, ConfigDict, Field, field_validator

from paxx_env.errors import ConfigError
from paxx_env.names import ENV_KEY, check_image_reference

CATALOG_HINT = "fix the catalog file (see docs/catalog.md for its format)"

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
PORT_SPEC = re.compile(
    r"^127\.0\.0\.1:\$\{(?P<var>[A-Z][A-Z0-9_]*)\}:(?P<target>\d+)(/(tcp|udp))?\Z"
)
VOLUME_SPEC = re.compile(r"^(?P<name>[a-z0-9][a-z0-9_.-]*):(?P<target>/[^:]*)(:(ro|rw))?\Z")


#: libyaml's loader when PyYAML was built with it (several times faster), else the Python one.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    #: Where `target` is: in the app's package (client modules) or at the project's root.
    place: Literal["package", "project"] = "package"
    #: Regenerated while untouched; once edited (or there before paxx) it is the user's and a
    #: sync leaves it as it is (reported as "skip") instead of refusing to go on.
    keep_edits: bool = Field(default=False, alias="keep-edits")


class Wiring(_Strict):
    """wiring/wiring.toml: files composed from all the declared features at once."""

    files: tuple[ProfileFile, ...] = ()


class Profile(_Strict):
    """A feature: the services it needs, what it requires, adds and exports."""

    summary: str
    services: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    #: Everything the generated code imports: [project].dependencies of the user's project.
    dependencies: tuple[str, ...] = ()
    #: Only for type checking (stub packages): the PEP 735 group [dependency-groups].dev.
    dev_dependencies: tuple[str, ...] = Field(default=(), alias="dev-dependencies")
    #: The oldest Python the generated code runs on, as ">=3.X".
    requires_python: str = Field(default="", alias="requires-python")
    #: mypy plugins the generated code needs (e.g. pydantic's, for settings classes).
    mypy_plugins: tuple[str, ...] = Field(default=(), alias="mypy-plugins")
    env: dict[str, str] = Field(default_factory=dict)
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


def check_compose(where: str, data: dict[str, Any], meta: ServiceMeta) -> None:
    unknown = sorted(set(data) - COMPOSE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unsupported Compose key {unknown[0]!r}", CATALOG_HINT)
    if "image" not in data:
        raise ConfigError(f"{where}: missing image", CATALOG_HINT)
    for key in ("ports", "volumes", "tmpfs"):
        if key in data and not _list_of_strings(data[key]):
            raise ConfigError(f"{where}: {key} must be a list of strings", CATALOG_HINT)
    environment = data.get("environment", {})
    if not isinstance(environment, dict) and not _list_of_strings(environment):
        raise ConfigError(
            f"{where}: environment must be a mapping or a list of NAME=value strings",
            CATALOG_HINT,
        )
    problem = check_image_reference(str(data["image"]))
    if problem:
        raise ConfigError(f"{where}: image: {problem}", CATALOG_HINT)
    health = data.get("healthcheck")
    if not isinstance(health, dict) or "test" not in health:
        raise ConfigError(f"{where}: a healthcheck with a test is required", CATALOG_HINT)
    unknown = sorted(set(health) - HEALTHCHECK_KEYS)
    if unknown:
        # interval and start_interval are set by paxx for the engine in use.
        raise ConfigError(f"{where}: healthcheck.{unknown[0]} is set by paxx", CATALOG_HINT)
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
            CATALOG_HINT,
        )
    for spec in data.get("volumes", []):
        if not VOLUME_SPEC.match(str(spec)):
            raise ConfigError(
                f"{where}: volume {spec!r} must be a named volume (NAME:/path)", CATALOG_HINT
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
        raise ConfigError(f"{where}: x-paxx.secret_files.{key}: {problem}", CATALOG_HINT)


def _list_of_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def check_templates(where: str, meta: ServiceMeta) -> None:
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
                    CATALOG_HINT,
                ) from None
            unknown = sorted(used - known)
            if unknown:
                raise ConfigError(
                    f"{where}: x-paxx.{block}.{key} refers to {unknown[0]}, which "
                    f"{where.removeprefix('services/').removesuffix('.yaml')} does not define",
                    CATALOG_HINT,
                )
