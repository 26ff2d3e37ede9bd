"""The inputs of .env: values kept from it, forced by the declaration, or made now.

Inputs are the values the user may edit (ports, secrets, defaults, settings, the Compose
project name); every other value in paxx's block is derived from them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from paxx_env.catalog import Catalog
from paxx_env.declaration import Project
from paxx_env.envblock import EnvDocument
from paxx_env.errors import ConfigError
from paxx_env.names import project_slug
from paxx_env.ports import describe_holders, pick_port, port_is_free
from paxx_env.render import INPUT_KINDS, EnvEntry, Render, expand
from paxx_env.state import State, secret_fingerprint
from paxx_env.userstate import Registry

SECRET_BYTES = 24  # 192 random bits, URL-safe text


@dataclass
class Inputs:
    """Every input value, which of them were made now, and notes for the user."""

    values: dict[str, str] = field(default_factory=dict)
    generated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Ports made now that are not the preferred one: (key, preferred, chosen, in_use).
    moved: list[tuple[str, int, int, bool]] = field(default_factory=list)


def fill_inputs(
    project: Project,
    render: Render,
    env_doc: EnvDocument,
    registry: Registry,
    leaving: set[int],
) -> Inputs:
    """Every input value: kept from .env, forced by the declaration, or newly made.

    `leaving` holds host ports of this project's services that are going away: a new port
    may take one even while its old container still holds it.
    """
    found = Inputs()
    declared_ports = {
        key: port for o in project.declaration.services.values() for key, port in o.ports.items()
    }
    taken = registry.ports_of_others(project.root)
    context = {"app_name": project.app_name}
    for entry in (e for section in render.env for e in section.entries):
        if entry.kind not in INPUT_KINDS:
            continue
        kept = env_doc.block.get(entry.key)
        if entry.kind == "port":
            _fill_port(entry, kept, declared_ports, taken, found, leaving)
        elif kept is not None:
            found.values[entry.key] = kept
        else:
            found.values[entry.key] = _make(entry, project, registry, {**context, **found.values})
            found.generated.append(entry.key)
        if entry.kind == "project":
            context["project"] = found.values[entry.key]
    found.notes += _port_notes(found.moved)
    return found


def _make(entry: EnvEntry, project: Project, registry: Registry, context: dict[str, str]) -> str:
    """A new value for an input that .env does not hold yet."""
    if entry.kind == "secret":
        return secrets.token_urlsafe(SECRET_BYTES)
    if entry.kind == "project":
        return _project_name(project, registry.names_of_others(project.root))
    return expand(entry.template, context)


def _fill_port(
    entry: EnvEntry,
    kept: str | None,
    declared: dict[str, int],
    taken: set[int],
    found: Inputs,
    leaving: set[int],
) -> None:
    """The host port: declared, else kept from .env, else the preferred one or the next free."""
    if entry.key in declared:
        found.values[entry.key] = str(declared[entry.key])
    elif kept is not None:
        found.values[entry.key] = _checked_port(entry.key, kept)
    else:
        in_use = taken | {int(v) for k, v in found.values.items() if k.endswith("_PORT")}
        chosen = pick_port(entry.port, in_use, lambda p: p in leaving or port_is_free(p))
        found.values[entry.key] = str(chosen)
        found.generated.append(entry.key)
        if chosen != entry.port:
            found.moved.append((entry.key, entry.port, chosen, entry.port in in_use))
    taken.add(int(found.values[entry.key]))


def _port_notes(moved: list[tuple[str, int, int, bool]]) -> list[str]:
    """Why each port is not the preferred one: another paxx project's, or whose it is."""
    holders = describe_holders(preferred for _, preferred, _, ours in moved if not ours)
    notes = []
    for key, preferred, chosen, ours in moved:
        if ours:
            why = "held by another paxx project"
        else:
            holder = holders.get(preferred, "")
            why = f"taken by {holder}" if holder else "taken"
        notes.append(f"{key}: port {preferred} is {why}, so paxx chose {chosen} (kept in .env)")
    return notes


def _checked_port(key: str, value: str) -> str:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ConfigError(
            f".env: {key}={value} is not a port number",
            f"set {key} to a port number (1-65535) in .env, or delete it to let paxx pick",
        )
    return str(int(value))


def _project_name(project: Project, others: set[str]) -> str:
    base = project_slug(project.declaration.name or project.app_name)
    name, counter = base, 2
    while name in others:
        name, counter = f"{base}-{counter}", counter + 1
    return name


def retained_secrets(catalog: Catalog, render: Render, env_doc: EnvDocument) -> dict[str, str]:
    """Secrets of services no longer declared: kept while their data volumes may exist."""
    active = {e.key for s in render.env for e in s.entries}
    kept = {}
    for name, service in catalog.services.items():
        if name in render.services or not service.volumes:
            continue
        for key in service.meta.secrets:
            if key in env_doc.block and key not in active:
                kept[key] = env_doc.block[key]
    return kept


def secret_records(state: State, current: dict[str, str], generated: list[str]) -> dict[str, str]:
    """When each secret in .env was generated, as "TIME FINGERPRINT".

    `current` holds every secret in .env. `paxx up` refuses to hand a data volume created
    before its secret to the service (the data holds other credentials). Only secrets paxx
    generated itself have a record, and a record is dropped once the value in .env no longer
    matches it (restored or edited).
    """
    now = datetime.now(UTC).isoformat(timespec="seconds")
    records = {}
    for key, value in current.items():
        if key in generated:
            records[key] = f"{now} {secret_fingerprint(value)}"
        elif key in state.secrets and state.secrets[key].endswith(f" {secret_fingerprint(value)}"):
            records[key] = state.secrets[key]
    return records
