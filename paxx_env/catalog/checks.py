"""The checks of one service file beyond its schema.

Compose keys, ports, volumes, health check, secrets read from files, and the templates in its
urls and exports.
"""

from __future__ import annotations

from typing import Any

from paxx_env.catalog.schema import CATALOG_HINT, PORT_SPEC, VOLUME_SPEC, ServiceMeta
from paxx_env.errors import ConfigError
from paxx_env.names import ENV_KEY, check_image_reference

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


def check_compose(where: str, data: dict[str, Any], meta: ServiceMeta) -> None:
    """The Compose fragment of a service file: only keys paxx supports, loopback ports."""
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
