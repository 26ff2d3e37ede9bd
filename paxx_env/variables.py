"""The app's variables: what `paxx env` prints, `paxx run` sets and the pytest plugin slices.

They are the values of paxx's block in .env that the app reads (REDIS_URL, DATABASE_URL,
...), without the ones only Compose reads (COMPOSE_*). Secrets, and values built from them
(a URL holding a password), are hidden unless asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from paxx_env.catalog import Catalog
from paxx_env.declaration import Project
from paxx_env.render import EnvSection, template_variables
from paxx_env.sync import SyncResult, sync
from paxx_env.sync.envfile import read_env_file
from paxx_env.sync.plan import plan_render


@dataclass(frozen=True)
class AppVariables:
    """The variables to show, and the names of those held back because they hold secrets."""

    values: dict[str, str]
    hidden: list[str]
    #: Variables the declaration implies that .env does not hold yet (`paxx up` writes them).
    missing: list[str] = field(default_factory=list)
    #: Every variable there is, hidden ones included, in the order `paxx env` prints them.
    names: list[str] = field(default_factory=list)
    #: The generated secrets themselves, for keeping them out of anything shown.
    secrets: list[str] = field(default_factory=list, repr=False)


def app_variables(project: Project, catalog: Catalog, show_secrets: bool) -> AppVariables:
    """The app's variables, after a sync (so .env is complete and current)."""
    return variables_of(sync(project, catalog, command="env"), show_secrets)


def variables_of(result: SyncResult, show_secrets: bool) -> AppVariables:
    """The app's variables of a sync that has just run (`up` returns one too)."""
    return _select(result.render.env, result.values, show_secrets)


def current_variables(project: Project, catalog: Catalog, show_secrets: bool) -> AppVariables:
    """The app's variables as .env holds them now, without writing anything.

    The same names, order and hiding as `app_variables`; what the declaration implies but
    .env does not hold yet is listed as missing.
    """
    plan = plan_render(project, catalog)
    return _select(plan.render.env, read_env_file(project.root).document.block, show_secrets)


def _select(
    sections: tuple[EnvSection, ...], values: Mapping[str, str], show_secrets: bool
) -> AppVariables:
    entries = [e for s in sections for e in s.entries if not e.key.startswith("COMPOSE_")]
    secret_keys = {e.key for e in entries if e.kind == "secret"}
    secret_bearing = {
        e.key for e in entries if e.kind == "secret" or template_variables(e.template) & secret_keys
    }
    present = {e.key: values[e.key] for e in entries if e.key in values}
    hidden = [] if show_secrets else [k for k in present if k in secret_bearing]
    return AppVariables(
        values={k: v for k, v in present.items() if k not in hidden},
        hidden=hidden,
        missing=[e.key for e in entries if e.key not in values],
        names=list(present),
        secrets=[present[k] for k in sorted(secret_keys) if present.get(k)],
    )
