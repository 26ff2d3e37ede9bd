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
) -> None:
    """Features, providers and dependencies written into pyproject.toml (or paxx.toml)."""
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
    dependency_actions = []
    if project.has_pyproject:
        dropped_features = set(project.declaration.features) - set(render.features)
        dropped = [d for f in dropped_features for d in catalog.features[f].profile.dependencies]
        managed = [d for f in catalog.features.values() for d in f.profile.dependencies]
        added, removed = deps.update_dependencies(document, render.dependencies, dropped, managed)
        name = project.source.name
        dependency_actions += [Action("add", name, f"dependency {d}") for d in added]
        dependency_actions += [Action("remove", name, f"dependency {d}") for d in removed]
    after = tomlkit.dumps(document)
    if after == before:
        return
    verb = "update" if before is not None else "create"
    changes.write(project.source.name, Change(after.encode()), verb)
    changes.actions += dependency_actions


def plan_lock(project: Project, lock_bytes: bytes | None, changes: ChangeSet) -> None:
    """Write (or delete) paxx.lock when its content changes."""
    path = project.root / LOCK_FILE
    if lock_bytes == read_bytes(path):
        return
    verb = "delete" if lock_bytes is None else "update" if path.exists() else "create"
    changes.write(LOCK_FILE, Change(lock_bytes), verb)
