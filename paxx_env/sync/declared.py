"""The declaration step of a sync: features and dependencies in pyproject.toml, and paxx.lock."""

from __future__ import annotations

import tomlkit

from paxx_env import deps
from paxx_env.catalog import Catalog
from paxx_env.declaration import Project, set_features
from paxx_env.fsio import Change, read_bytes
from paxx_env.paths import LOCK_FILE
from paxx_env.render import Render
from paxx_env.sync.model import Action, ChangeSet


def plan_declaration(
    project: Project,
    catalog: Catalog,
    chosen: list[str],
    plan_providers: dict[str, str],
    render: Render,
    changes: ChangeSet,
) -> list[str]:
    """Features, providers, dependencies and what the code needs, for the declaration file.

    Returns notes on what paxx leaves to the user (see projectconf).
    """
    content = read_bytes(project.source)
    before = content.decode("utf-8") if content is not None else None
    document = project.document
    providers = plan_providers
    if (
        list(project.declaration.features) != chosen
        or providers != project.declaration.providers
        or not project.initialized
    ):
        document = set_features(project, chosen, providers)
    dependency_actions: list[Action] = []
    notes: list[str] = []
    if project.has_pyproject:
        declared = project.declaration.selection(catalog).features
        dropped = [f for f in declared if f not in render.features]
        edits, notes = deps.update_pyproject(
            document,
            project.root,
            catalog,
            render.features,
            dropped,
            project.package_dir,
            render.files,
        )
        dependency_actions = [Action(verb, project.source.name, what) for verb, what in edits]
    after = tomlkit.dumps(document)
    if after == before:
        return []
    verb = "update" if before is not None else "create"
    changes.write(project.source.name, Change(after.encode()), verb)
    changes.actions += dependency_actions
    return notes


def plan_lock(project: Project, lock_bytes: bytes | None, changes: ChangeSet) -> None:
    """Write (or delete) paxx.lock when its content changes."""
    path = project.root / LOCK_FILE
    if lock_bytes == read_bytes(path):
        return
    verb = "delete" if lock_bytes is None else "update" if path.exists() else "create"
    changes.write(LOCK_FILE, Change(lock_bytes), verb)
