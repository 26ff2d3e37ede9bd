"""Sync: bring the project folder in line with its declaration, in one atomic write.

A sync takes four steps, each in a module of its own:

1. plan     render the declaration with the lock and the catalog (plan.py)
2. inputs   fill the .env inputs: values kept from .env, else chosen ports and generated
            secrets (inputs.py)
3. changes  plan every file: .env (envfile.py), generated files and .gitignore (files.py),
            pyproject.toml and paxx.lock (declared.py), a generation; collect the files the
            user edited as conflicts
4. apply    refuse on conflicts (unless --force), else write everything at once (fsio)

A refused or failed sync leaves the tree as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import tomlkit

from paxx_env import log
from paxx_env.catalog import Catalog
from paxx_env.declaration import Project
from paxx_env.envblock import render_block
from paxx_env.fresh import inputs_digest
from paxx_env.fsio import SECRET_MODE, Change, apply_changes, read_bytes, sha256
from paxx_env.generations import DECLARATION, plan_record
from paxx_env.lockfile import Lock, check_lock, mismatches
from paxx_env.paths import BACKUP_DIR, ENGINE_OVERLAY, ENV_FILE, LOCK_FILE, STATE_FILE
from paxx_env.projectconf import MYPY_FILES
from paxx_env.render import INPUT_KINDS, Render, expand, resolve_values
from paxx_env.state import ServiceSummary, State, load_state, state_change
from paxx_env.sync import declared, envfile, files, inputs
from paxx_env.sync.model import KEEP, Action, ChangeSet, Keep, Plan
from paxx_env.sync.plan import plan_render
from paxx_env.userstate import ProjectEntry, registry_transaction

__all__ = ["KEEP", "Action", "Keep", "Plan", "SyncResult", "plan_render", "sync"]


@dataclass
class SyncResult:
    """What a sync wrote and the environment it produced."""

    root: Path
    render: Render
    values: dict[str, str]
    state: State
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything on disk changed (a kept file of the user's is not a change)."""
        return any(a.verb not in {"identical", "unchanged", "skip"} for a in self.actions)

    @property
    def project_name(self) -> str:
        """The Compose project name."""
        return self.values["COMPOSE_PROJECT_NAME"]

    @property
    def compose_files(self) -> list[str]:
        """The files Compose reads (COMPOSE_FILE)."""
        return self.state.compose_files

    @property
    def lock_problems(self) -> list[str]:
        """How paxx.lock differs from the declared images ([] when it matches or is absent)."""
        return self.state.lock_problems

    @property
    def env_hash(self) -> str:
        """The environment hash of what was rendered."""
        return self.state.env_hash


def sync(
    project: Project,
    catalog: Catalog,
    *,
    features: list[str] | None = None,
    providers: dict[str, str] | None = None,
    force: bool = False,
    start_interval: bool | None = None,
    command: str = "",
    new_lock: Lock | Keep | None = KEEP,
    strict_lock: bool = False,
    state: State | None = None,
) -> SyncResult:
    """Bring every generated file, .env, .gitignore and the dependencies in line.

    `features` and `providers` replace the declared ones (feature add/remove);
    `start_interval` is the engine's capability when known (None keeps the per-machine
    overlay as it is).
    `new_lock` replaces paxx.lock (None deletes it) in the same atomic write;
    `strict_lock` refuses to go on when the lock does not match the declaration. A change
    to the declaration, lock or generated files is recorded as a generation named `command`.
    `state` is state.json when the caller has read it already.
    """
    root = project.root
    chosen = sorted(features) if features is not None else list(project.declaration.features)
    plan = plan_render(project, catalog, chosen, new_lock, providers)
    log.debug("render", features=list(plan.render.features), services=list(plan.render.services))
    if strict_lock:
        check_lock(plan.lock, plan.render.declared_images)
    state = state if state is not None else load_state(root)
    env = envfile.read_env_file(root)
    owned = [entry for section in plan.render.env for entry in section.entries]
    envfile.check_not_set_outside(env, owned)
    with registry_transaction() as registry:
        filled = inputs.fill_inputs(
            project, plan.render, env.document, registry, _leaving_ports(state, plan.render)
        )
        overlay = files.machine_overlay(root, plan.render, start_interval)
        compose_files = files.compose_files(root, overlay, plan.render)
        values = resolve_values(
            plan.render.env, filled.values, project.app_name, ":".join(compose_files)
        )
        retained = inputs.retained_secrets(catalog, plan.render, env.document)
        changes = _plan_changes(
            project, catalog, plan, chosen, env, values, retained, overlay, state, force, command
        )
        secrets = {e.key: values[e.key] for e in owned if e.kind == "secret"} | retained
        records = inputs.secret_records(state, secrets, filled.generated)
        new_state = _new_state(catalog, plan, overlay, values, compose_files, records)
        _record_inputs(project, new_state, changes)
        log.debug("write", files=sorted(changes.changes), generated=sorted(filled.generated))
        _apply(root, changes, new_state, env, force, state.recorded, _desired(plan, overlay))
        registry.projects[str(root.resolve())] = ProjectEntry(
            name=values["COMPOSE_PROJECT_NAME"],
            ports=sorted(int(values[e.key]) for e in owned if e.kind == "port"),
        )
    notes = filled.notes + changes.notes
    return SyncResult(root, plan.render, values, new_state, changes.actions, notes)


def _record_inputs(project: Project, new_state: State, changes: ChangeSet) -> None:
    """The digest of the folder as this sync leaves it (fresh.py), in `new_state`.

    Besides the fixed inputs it covers what the sync looked at: where the app package may
    be, and mypy's own configuration files.
    """
    new_state.watched = sorted(
        {f"{folder}/__init__.py" for folder in project.package_candidates} | set(MYPY_FILES)
    )
    planned = {path: change.content for path, change in changes.changes.items()}
    new_state.inputs = inputs_digest(project.root, planned, new_state.watched)


def _new_state(
    catalog: Catalog,
    plan: Plan,
    overlay: bytes | None,
    values: dict[str, str],
    compose_files: list[str],
    secrets: dict[str, str],
) -> State:
    """state.json after this sync: hashes of what it wrote, and the status summary."""
    owned = [entry for section in plan.render.env for entry in section.entries]
    return State(
        files={path: sha256(content) for path, content in _desired(plan, overlay).items()},
        env={e.key: sha256(values[e.key].encode()) for e in owned if e.kind not in INPUT_KINDS},
        secrets=secrets,
        project=values["COMPOSE_PROJECT_NAME"],
        features=list(plan.render.features),
        services=_summaries(plan.render, values, catalog),
        compose_files=compose_files,
        env_hash=plan.env_hash,
        lock_problems=(
            mismatches(plan.lock, plan.render.declared_images) if plan.lock is not None else []
        ),
        kept=sorted(plan.render.keep_edits),
        recorded=True,
    )


def _desired(plan: Plan, overlay: bytes | None) -> dict[str, bytes]:
    """Every generated file with its content: the render, and the per-machine overlay."""
    desired = dict(plan.render.files)
    if overlay is not None:
        desired[ENGINE_OVERLAY] = overlay
    return desired


def _plan_changes(
    project: Project,
    catalog: Catalog,
    plan: Plan,
    chosen: list[str],
    env: envfile.EnvFile,
    values: dict[str, str],
    retained: dict[str, str],
    overlay: bytes | None,
    state: State,
    force: bool,
    command: str,
) -> ChangeSet:
    """Every file this sync writes, in the order the user is told about them."""
    root = project.root
    changes = ChangeSet()
    owned = [entry for section in plan.render.env for entry in section.entries]
    block = render_block(plan.render.env, values, retained, project.source_label)
    envfile.plan_env_file(root, env, owned, values, block, state, changes)
    files.plan_files(root, _desired(plan, overlay), state, force, changes, plan.render.keep_edits)
    files.plan_package_init(root, project.package_dir, plan.render.files, changes)
    changes.notes += declared.plan_declaration(
        project, catalog, chosen, plan.providers, plan.render, changes
    )
    if plan.replaces_lock:
        declared.plan_lock(project, plan.lock_bytes, changes)
    generation = {
        DECLARATION: tomlkit.dumps(plan.canonical).encode(),
        **({LOCK_FILE: plan.lock_bytes} if plan.lock_bytes else {}),
        **plan.render.files,
    }
    for path, change in plan_record(root, command or "sync", generation).items():
        changes.write(path, change)
    files.plan_gitignore(root, changes)
    return changes


def _apply(
    root: Path,
    changes: ChangeSet,
    new_state: State,
    env: envfile.EnvFile,
    force: bool,
    recorded: bool,
    desired: dict[str, bytes],
) -> None:
    """Refuse on conflicts (or, forced, back up .env), then write everything at once."""
    if changes.conflicts and not force:
        raise files.conflict_error(changes.conflicts, root, desired, recorded)
    if force and env.content is not None and any(p == ENV_FILE for p, _ in changes.conflicts):
        changes.write(f"{BACKUP_DIR}/{ENV_FILE}.{files.stamp()}", Change(env.content, SECRET_MODE))
    state_file = state_change(new_state)
    if changes.changes or read_bytes(root / STATE_FILE) != state_file.content:
        changes.write(STATE_FILE, state_file)
    if changes.changes:
        apply_changes(root, changes.changes)


def _leaving_ports(state: State, render: Render) -> set[int]:
    """Host ports of this project's services that the render no longer has.

    Their containers are stopped by `feature add/remove` or removed by the next `up` before
    anything starts, so a new service may take the port (valkey takes 6379 from redis).
    """
    return {
        host
        for name, summary in state.services.items()
        if name not in render.services
        for host, _ in summary.ports.values()
    }


def _summaries(
    render: Render, values: dict[str, str], catalog: Catalog
) -> dict[str, ServiceSummary]:
    summaries = {}
    for name in render.services:
        service = catalog.services[name]
        summaries[name] = ServiceSummary(
            image=render.images[name],
            ports={key: [int(values[key]), t] for key, t in service.port_targets.items()},
            urls={label: expand(t, values) for label, t in sorted(render.urls[name].items())},
            volumes=list(render.volumes[name]),
            features=dict(render.serving.get(name, {})),
            secrets=list(service.meta.secrets),
            probe=service.probe.to_dict() if service.probe else {},
        )
    return summaries
