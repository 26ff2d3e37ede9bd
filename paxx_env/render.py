"""Rendering: declaration + catalog -> generated files. Pure: no I/O, no clock, no randomness.

The catalog arrives loaded (templates included), so rendering reads nothing from disk.

The same inputs give byte-identical output on any machine. Secrets and chosen host ports are
not part of the output: the Compose files refer to them as ${VARIABLES} kept in .env.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import jinja2
import jinja2.meta
import yaml

from paxx_env.catalog import Catalog, ProfileFile, Service, select
from paxx_env.dotenv import format_value
from paxx_env.envhash import HASH_LABEL
from paxx_env.lockfile import Lock
from paxx_env.mirror import through_mirror
from paxx_env.names import PAXX_LABEL, project_slug
from paxx_env.paths import ENV_EXAMPLE, SERVICES_DIR

#: Health-check timing for every service. Docker runs the check every `interval` for as long
#: as the container lives, so it stays modest; `paxx up` probes faster while it waits, and on
#: engines >= 25 the per-machine overlay adds a short start_interval (see engine_overlay).
HEALTH_POLICY = {"interval": "10s", "timeout": "5s", "retries": 3, "start_period": "30s"}
START_INTERVAL = "500ms"

_KEY_ORDER = ("image", "command", "entrypoint", "environment", "ports", "volumes", "healthcheck")

EntryKind = Literal["project", "port", "secret", "default", "setting", "export"]
#: Kinds whose value is an input: written once, then kept (the user may edit it).
INPUT_KINDS = frozenset({"project", "port", "secret", "default", "setting"})


@dataclass(frozen=True)
class EnvEntry:
    """One variable paxx manages in .env."""

    key: str
    kind: EntryKind
    template: str = ""
    port: int = 0


@dataclass(frozen=True)
class EnvSection:
    """A commented group of .env entries (one per service or feature)."""

    title: str
    entries: tuple[EnvEntry, ...]


@dataclass(frozen=True)
class Render:
    """Everything generated from one declaration."""

    features: tuple[str, ...]
    services: tuple[str, ...]
    files: dict[str, bytes]
    env: tuple[EnvSection, ...]
    dependencies: tuple[str, ...]
    volumes: dict[str, tuple[str, ...]]
    urls: dict[str, dict[str, str]]
    images: dict[str, str]
    overlays: tuple[str, ...] = field(default=())
    #: The images the declaration names, before any lock pins them.
    declared_images: dict[str, str] = field(default_factory=dict)
    #: feature -> provider, for every feature rendered
    providers: dict[str, str] = field(default_factory=dict)
    #: service -> {feature: provider} of the features it serves
    serving: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Generated files that become the user's once edited: kept, never a conflict.
    keep_edits: frozenset[str] = frozenset()


def render_project(
    catalog: Catalog,
    features: list[str],
    app_name: str,
    source_label: str,
    image_overrides: dict[str, str] | None = None,
    port_overrides: dict[str, int] | None = None,
    package_dir: str = "",
    lock: Lock | None = None,
    env_hash: str = "",
    providers: Mapping[str, str] | None = None,
) -> Render:
    """Render the Compose overlays, .env plan, .env.example and the features' client modules.

    `package_dir` is the app's package folder relative to the project root ("src/shop");
    client modules go there. With a `lock`, a service whose image matches its entry runs the
    locked digest. `env_hash` is written as a label on every service. `providers` names the
    provider of a feature with a choice (the declaration's; checked before).
    """
    selection = select(catalog, features, providers or {})
    closure = selection.features
    services = selection.services
    declared_images = {
        name: (image_overrides or {}).get(name, catalog.services[name].image) for name in services
    }
    images = _pinned(declared_images, lock)
    files: dict[str, bytes] = {}
    overlays = []
    for name in services:
        path = f"{SERVICES_DIR}/{name}.yaml"
        files[path] = render_overlay(catalog.services[name], images[name], source_label, env_hash)
        overlays.append(path)
    env = _env_plan(catalog, selection.providers, services, port_overrides or {})
    modules = render_client_modules(catalog, closure, app_name, package_dir)
    files.update(modules.files)
    files[ENV_EXAMPLE] = render_env_example(env, app_name, ":".join(overlays))
    dependencies = sorted(
        {dep for f in closure for dep in catalog.features[f].profile.dependencies}
    )
    return Render(
        features=closure,
        services=services,
        files=files,
        env=env,
        dependencies=tuple(dependencies),
        volumes={name: catalog.services[name].volumes for name in services},
        urls={name: dict(catalog.services[name].meta.urls) for name in services},
        images=images,
        overlays=tuple(overlays),
        declared_images=declared_images,
        providers=dict(selection.providers),
        serving=selection.serving,
        keep_edits=modules.keep_edits,
    )


def _pinned(declared: dict[str, str], lock: Lock | None) -> dict[str, str]:
    """The image each service runs: the locked digest when the lock's entry matches."""
    images = {}
    for name, image in declared.items():
        entry = (lock or {}).get(name)
        images[name] = entry.pinned if entry is not None and entry.image == image else image
    return images


@dataclass(frozen=True)
class AppFiles:
    """What the features generate into the app, and which of it is the user's once edited."""

    files: dict[str, bytes]
    keep_edits: frozenset[str]


def render_client_modules(
    catalog: Catalog, features: tuple[str, ...], app_name: str, package_dir: str
) -> AppFiles:
    """The client modules the features generate, and the wiring composed from all of them."""
    package = package_dir.removeprefix("src/").replace("/", ".")
    context = {
        "app_name": app_name,
        "package": package,
        "package_dir": package_dir or ".",
        "features": list(features),
    }
    sources = [
        (item, catalog.features[name].templates[item.template])
        for name in features
        for item in catalog.features[name].profile.files
    ]
    wiring = catalog.wiring
    if features:
        sources += [(item, wiring.templates[item.template]) for item in wiring.files]
    files = {}
    # Every path that is the user's once edited, declared or not: an edited file stays when
    # its feature goes too.
    keep_edits = {
        _target(item, package_dir)
        for item in (
            *(i for f in catalog.features.values() for i in f.profile.files),
            *wiring.files,
        )
        if item.keep_edits
    }
    for item, template in sources:
        text = _module_template(template).render(context)
        files[_target(item, package_dir)] = text.encode()
    return AppFiles(files, frozenset(keep_edits))


def _target(item: ProfileFile, package_dir: str) -> str:
    in_package = item.place == "package" and package_dir
    return f"{package_dir}/{item.target}" if in_package else item.target


def render_overlay(service: Service, image: str, source_label: str, env_hash: str = "") -> bytes:
    """The Compose overlay for one service, in a fixed key order."""
    body: dict[str, Any] = {"image": image}
    compose = service.compose
    for key in _KEY_ORDER[1:]:
        if key in compose:
            body[key] = compose[key]
    for key in sorted(set(compose) - set(_KEY_ORDER)):
        body[key] = compose[key]
    body["healthcheck"] = {**compose["healthcheck"]}
    for key, value in HEALTH_POLICY.items():
        body["healthcheck"].setdefault(key, value)
    body["healthcheck"] = {
        k: body["healthcheck"][k]
        for k in ("test", "interval", "timeout", "retries", "start_period")
    }
    body["labels"] = {PAXX_LABEL: service.name}
    if env_hash:
        body["labels"][HASH_LABEL] = env_hash
    document: dict[str, Any] = {"services": {service.name: body}}
    if service.volumes:
        document["volumes"] = {volume: {} for volume in service.volumes}
    header = (
        f"# Generated by paxx from {service.source} for {source_label}.\n"
        "# Change the declaration, not this file: paxx regenerates it, and refuses to\n"
        "# overwrite a hand edit without --force.\n"
    )
    return (header + _dump_yaml(document)).encode()


def engine_overlay(images: dict[str, str], start_interval: bool, mirror: str = "") -> bytes | None:
    """The per-machine overlay: what depends on this machine, not on the declaration.

    Engines before 25 (API 1.44) reject a health check's start_interval, so the committed
    overlays never carry it; where the engine supports it, this git-ignored file adds it.
    A registry mirror configured on this machine rewrites the images here too.
    """
    services: dict[str, dict[str, Any]] = {}
    for name, image in sorted(images.items()):
        body: dict[str, Any] = {}
        if mirror:
            body["image"] = through_mirror(image, mirror)
        if start_interval:
            body["healthcheck"] = {"start_interval": START_INTERVAL}
        if body:
            services[name] = body
    if not services:
        return None
    header = "# Generated by paxx for this machine (engine, registry mirror). Not committed.\n"
    return (header + _dump_yaml({"services": services})).encode()


def _dump_yaml(document: dict[str, Any]) -> str:
    text: str = yaml.safe_dump(
        document, sort_keys=False, default_flow_style=False, width=1000, allow_unicode=True
    )
    return text


def _env_plan(
    catalog: Catalog,
    providers: dict[str, str],
    services: tuple[str, ...],
    port_overrides: dict[str, int],
) -> tuple[EnvSection, ...]:
    sections = [
        EnvSection(
            "Compose project (plain `docker compose` in this folder sees the same stack)",
            (
                EnvEntry("COMPOSE_PROJECT_NAME", "project"),
                EnvEntry("COMPOSE_FILE", "export"),
                EnvEntry("COMPOSE_PATH_SEPARATOR", "export", ":"),
            ),
        )
    ]
    for name in services:
        meta = catalog.services[name].meta
        entries = [
            EnvEntry(key, "port", port=port_overrides.get(key, port))
            for key, port in meta.ports.items()
        ]
        entries += [EnvEntry(key, "default", value) for key, value in meta.defaults.items()]
        entries += [EnvEntry(key, "secret") for key in meta.secrets]
        entries += [EnvEntry(key, "export", value) for key, value in meta.exports.items()]
        sections.append(EnvSection(f"{name}: {meta.summary}", tuple(entries)))
    for name, provider_name in providers.items():
        profile = catalog.features[name].profile
        provider = profile.providers[provider_name]
        # Settings are the user's once written; the provider's values follow the provider.
        entries = [EnvEntry(key, "setting", value) for key, value in profile.env.items()]
        entries += [EnvEntry(key, "export", value) for key, value in provider.env.items()]
        if entries:
            title = f"feature {name}: {provider.summary or profile.summary}"
            sections.append(EnvSection(title, tuple(entries)))
    return tuple(sections)


_JINJA = jinja2.Environment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
)
_JINJA.filters["urlquote"] = lambda value: quote(str(value), safe="")
_JINJA.filters["slug"] = lambda value: project_slug(str(value))


#: Client-module templates are whole files: keep their trailing newline.
_MODULES = jinja2.Environment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
)


@functools.lru_cache(maxsize=256)
def _module_template(text: str) -> jinja2.Template:
    """Each client-module template compiled once (a render compiles every one it uses)."""
    return _MODULES.from_string(text)


def template_variables(template: str) -> set[str]:
    """The variables a value template refers to."""
    return set(jinja2.meta.find_undeclared_variables(_JINJA.parse(template)))


def expand(template: str, values: dict[str, str]) -> str:
    """Fill a value template (`{{ VAR }}`, `{{ VAR | urlquote }}`) from `values`."""
    if "{" not in template:
        return template
    return _compiled(template).render(values)


@functools.lru_cache(maxsize=4096)
def _compiled(template: str) -> jinja2.Template:
    """Value templates repeat (every render expands the same ones): compile each once."""
    return _JINJA.from_string(template)


def resolve_values(
    sections: tuple[EnvSection, ...], inputs: dict[str, str], app_name: str, compose_file: str
) -> dict[str, str]:
    """All .env values: the inputs as given, then every derived value expanded from them."""
    context = {**inputs, "app_name": app_name, "project": inputs.get("COMPOSE_PROJECT_NAME", "")}
    values: dict[str, str] = {}
    for section in sections:
        for entry in section.entries:
            if entry.kind in INPUT_KINDS:
                values[entry.key] = inputs[entry.key]
            elif entry.key == "COMPOSE_FILE":
                values[entry.key] = compose_file
            else:
                values[entry.key] = expand(entry.template, context)
    return values


def render_env_example(sections: tuple[EnvSection, ...], app_name: str, compose_file: str) -> bytes:
    """.env.example: every key paxx manages, with example values and no secrets."""
    secrets = {e.key for s in sections for e in s.entries if e.kind == "secret"}
    example: dict[str, str] = {"app_name": app_name, "project": project_slug(app_name)}
    lines = [
        "# Variables paxx writes into .env (which is git-ignored and holds the real values).",
        "# Secrets are generated per project and left empty here.",
    ]
    for section in sections:
        lines += ["", f"# {section.title}"]
        for entry in section.entries:
            if entry.kind == "secret" or template_variables(entry.template) & secrets:
                value = ""
            elif entry.kind == "port":
                value = str(entry.port)
            elif entry.kind == "project":
                value = example["project"]
            elif entry.key == "COMPOSE_FILE":
                value = compose_file
            else:
                value = expand(entry.template, example)
            example[entry.key] = value
            lines.append(f"{entry.key}={format_value(value)}")
    return ("\n".join(lines) + "\n").encode()
