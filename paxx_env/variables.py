"""The app's variables: what `paxx env` prints, `paxx run` sets and the pytest plugin slices.

They are the values of paxx's block in .env that the app reads (REDIS_URL, DATABASE_URL,
...), without the ones only Compose reads (COMPOSE_*). Secrets, and values built from them
(a URL holding a password), are hidden unless asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from paxx_env.catalog import Catalog
from paxx_env.declaration import Project
from paxx_env.render import template_variables
from paxx_env.sync import SyncResult, sync


@dataclass(frozen=True)
class AppVariables:
    """The variables to show, and the names of those held back because they hold secrets."""

    values: dict[str, str]
    hidden: list[str]


def app_variables(project: Project, catalog: Catalog, show_secrets: bool) -> AppVariables:
    """The app's variables, after a sync (so .env is complete and current)."""
    return variables_of(sync(project, catalog, command="env"), show_secrets)


def variables_of(result: SyncResult, show_secrets: bool) -> AppVariables:
    """The app's variables of a sync that has just run (`up` returns one too)."""
    entries = [e for s in result.render.env for e in s.entries if not e.key.startswith("COMPOSE_")]
    secret_keys = {e.key for e in entries if e.kind == "secret"}
    secret_bearing = {
        e.key for e in entries if e.kind == "secret" or template_variables(e.template) & secret_keys
    }
    values = {e.key: result.values[e.key] for e in entries}
    hidden = [] if show_secrets else [k for k in values if k in secret_bearing]
    return AppVariables({k: v for k, v in values.items() if k not in hidden}, hidden)
