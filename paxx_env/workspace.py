"""Applying a render to the project folder.

`sync` renders the declaration, fills the .env inputs (kept values, else chosen ports and
generated secrets), checks that no file the user edited would be overwritten, and then writes
every change at once, atomically. A refused or failed sync leaves the tree as it was.
"""

from __future__ import annotations

import difflib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import tomlkit

from paxx_env import deps, envblock, log, spec
from paxx_env.catalog import Catalog
from paxx_env.envhash import canonical_declaration, catalog_version, environment_hash
from paxx_env.errors import ConfigError, ConflictError
from paxx_env.fsio import SECRET_MODE, Change, apply_changes, read_bytes, sha256
from paxx_env.generations import DECLARATION, plan_record
from paxx_env.lockfile import LOCK_FILE, Lock, check_lock, format_lock, mismatches, read_lock
from paxx_env.mirror import registry_mirror
from paxx_env.names import project_slug
from paxx_env.paths import (
    BACKUP_DIR,
    ENGINE_OVERLAY,
    ENV_FILE,
    GITIGNORE,
    GITIGNORE_LINES,
    STATE_FILE,
    USER_COMPOSE_FILES,
)
from paxx_env.ports import describe_holder, pick_port
from paxx_env.render import (
    INPUT_KINDS,
    EnvEntry,
    Render,
    engine_overlay,
    expand,
    render_project,
    resolve_values,
)
from paxx_env.state import ServiceSummary, State, load_state, state_change
from paxx_env.userstate import ProjectEntry, Registry, registry_transaction

SECRET_BYTES = 24  # 192 random bits, URL-safe text


class Keep:
    """Marker: keep paxx.lock as it is on disk."""


KEEP = Keep()


@dataclass(frozen=True)
class Action:
    """One thing a sync did (or would do) to a file: create, update, identical, delete, ..."""

    verb: str
    path: str
    detail: str = ""


@dataclass
class SyncResult:
    """What a sync wrote and the environment it produced."""

    render: Render
    values: dict[str, str]
    actions: list[Action] = field(default_factory=list)
    compose_files: list[str] = field(default_factory=list)
    lock_problems: list[str] = field(default_factory=list)
    env_hash: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything on disk changed."""
        return any(a.verb not in {"identical", "unchanged"} for a in self.actions)

    @property
    def project_name(self) -> str:
        """The Compose project name."""
        return self.values["COMPOSE_PROJECT_NAME"]


def sync(
    project: spec.Project,
    catalog: Catalog,
    *,
    features: list[str] | None = None,
    force: bool = False,
    start_interval: bool | None = None,
    command: str = "",
    new_lock: Lock | Keep | None = KEEP,
    strict_lock: bool = False,
) -> SyncResult:
    """Bring every generated file, .env, .gitignore and the dependencies in line.

    `features` replaces the declared features (feature add/remove); `start_interval` is the
    engine's capability when known (None keeps the per-machine overlay as it is).
    `new_lock` replaces paxx.lock (None deletes it) in the same atomic write;
    `strict_lock` refuses to go on when the lock does not match the declaration. A change
    to the declaration, lock or generated files is recorded as a generation named `command`.
    """
    root = project.root
    declaration = project.declaration
    chosen = sorted(features) if features is not None else list(declaration.features)
    plan = plan_render(project, catalog, chosen, new_lock)
    render, lock, lock_bytes = plan.render, plan.lock, plan.lock_bytes
    canonical, env_hash = plan.canonical, plan.env_hash
    log.debug("render", features=list(render.features), services=list(render.services))
    lock_problems = mismatches(lock, render.declared_images) if lock is not None else []
    if strict_lock:
        check_lock(lock, render.declared_images)
    state = load_state(root)
    if (root / ENV_FILE).is_dir():
        raise ConfigError(
            ".env is a folder, not a file",
            "move the folder away: paxx writes the project's variables to the file .env",
        )
    env_bytes = read_bytes(root / ENV_FILE)
    env_text = _decode(env_bytes, ENV_FILE)
    env_doc = envblock.read_env(env_text)
    conflicts: list[tuple[str, str]] = []
    owned = [entry for section in render.env for entry in section.entries]
    for entry in owned:
        if entry.key in env_doc.outside:
            raise ConflictError(
                f".env line {env_doc.outside[entry.key]} sets {entry.key}, which paxx manages",
                "delete that line, or move your value into the paxx block of .env to keep it",
            )

    result_actions: list[Action] = []
    changes: dict[str, Change] = {}
    with registry_transaction() as registry:
        inputs, generated, notes = _fill_inputs(project, render, env_doc, registry)
        compose_files = _compose_files(root, render, start_interval)
        values = resolve_values(render.env, inputs, project.app_name, ":".join(compose_files))

        for entry in owned:
            if entry.kind in INPUT_KINDS:
                continue
            old = env_doc.block.get(entry.key)
            if (
                old is not None
                and old != values[entry.key]
                and state.env.get(entry.key) != sha256(old.encode())
            ):
                conflicts.append((ENV_FILE, f"{entry.key} was edited by hand"))

        retained = _retained_secrets(catalog, render, env_doc)
        block = envblock.render_block(render.env, values, retained, project.source_label)
        new_env = envblock.compose_env(env_doc, block)
        if new_env != env_bytes:
            changes[ENV_FILE] = Change(new_env, SECRET_MODE)
            result_actions.append(Action("create" if env_bytes is None else "update", ENV_FILE))
        elif env_bytes is not None and (root / ENV_FILE).stat().st_mode & 0o077:
            # A .env readable by others is tightened even when its content is unchanged.
            changes[ENV_FILE] = Change(new_env, SECRET_MODE)
            result_actions.append(Action("update", ENV_FILE, "mode 0600"))

        desired = dict(render.files)
        overlay = _engine_overlay(root, render, start_interval)
        if overlay is not None:
            desired[ENGINE_OVERLAY] = overlay
        file_actions, file_changes, file_conflicts = _plan_files(root, desired, state, force)
        result_actions += file_actions
        changes.update(file_changes)
        conflicts += file_conflicts
        package_init = _package_init(root, project.package_dir, render.files)
        if package_init is not None:
            changes[package_init] = Change(PACKAGE_INIT)
            result_actions.append(Action("create", package_init))

        declaration_change, dep_actions, dep_notes = _plan_declaration(
            project, catalog, chosen, render
        )
        if declaration_change is not None:
            changes[project.source.name] = declaration_change
            result_actions += dep_actions
            notes += dep_notes
        if not isinstance(new_lock, Keep) and lock_bytes != read_bytes(root / LOCK_FILE):
            changes[LOCK_FILE] = Change(lock_bytes)
            exists = (root / LOCK_FILE).exists()
            verb = "delete" if lock_bytes is None else "update" if exists else "create"
            result_actions.append(Action(verb, LOCK_FILE))
        generation_files = {
            DECLARATION: tomlkit.dumps(canonical).encode(),
            **({LOCK_FILE: lock_bytes} if lock_bytes else {}),
            **render.files,
        }
        changes.update(plan_record(root, command or "sync", generation_files))
        gitignore = _plan_gitignore(root)
        if gitignore is not None:
            changes[GITIGNORE] = gitignore
            result_actions.append(
                Action("update" if (root / GITIGNORE).exists() else "create", GITIGNORE)
            )

        if conflicts and not force:
            raise _conflict_error(conflicts, root, desired, state.recorded)
        if force and env_bytes is not None and any(path == ENV_FILE for path, _ in conflicts):
            backup = f"{BACKUP_DIR}/{ENV_FILE}.{_stamp()}"
            changes[backup] = Change(env_bytes, SECRET_MODE)

        new_state = State(
            files={path: sha256(content) for path, content in desired.items()},
            env={e.key: sha256(values[e.key].encode()) for e in owned if e.kind not in INPUT_KINDS},
            secrets=_secret_records(state, owned, values, retained, generated),
            project=values["COMPOSE_PROJECT_NAME"],
            features=list(render.features),
            services=_summaries(render, values, catalog),
            compose_files=compose_files,
            env_hash=env_hash,
            lock_problems=lock_problems,
        )
        new_state_change = state_change(new_state)
        if changes or read_bytes(root / STATE_FILE) != new_state_change.content:
            changes[STATE_FILE] = new_state_change
        if changes:
            log.debug("write", files=sorted(changes), generated=sorted(generated))
            apply_changes(root, changes)
        registry.projects[str(root.resolve())] = ProjectEntry(
            name=values["COMPOSE_PROJECT_NAME"],
            ports=sorted(int(values[e.key]) for e in owned if e.kind == "port"),
        )
    return SyncResult(
        render=render,
        values=values,
        actions=result_actions,
        compose_files=compose_files,
        lock_problems=lock_problems,
        env_hash=env_hash,
        notes=notes,
    )


@dataclass(frozen=True)
class Plan:
    """A render with the inputs it was made from."""

    render: Render
    lock: Lock | None
    lock_bytes: bytes | None
    canonical: dict[str, object]
    env_hash: str


def plan_render(
    project: spec.Project,
    catalog: Catalog,
    features: list[str] | None = None,
    new_lock: Lock | Keep | None = KEEP,
) -> Plan:
    """Render the project as `sync` would, without writing anything."""
    declaration = project.declaration
    chosen = list(features) if features is not None else list(declaration.features)
    lock = read_lock(project.root) if isinstance(new_lock, Keep) else new_lock
    lock_bytes = format_lock(lock) if lock is not None else None
    canonical = canonical_declaration({**declaration.model_dump(), "features": chosen})
    env_hash = environment_hash(canonical, lock_bytes, catalog_version(catalog.root))
    render = render_project(
        catalog,
        chosen,
        project.app_name,
        project.source_label,
        image_overrides={k: v.image for k, v in declaration.services.items() if v.image},
        port_overrides={
            key: port for o in declaration.services.values() for key, port in o.ports.items()
        },
        package_dir=project.package_dir,
        lock=lock,
        env_hash=env_hash,
    )
    return Plan(render, lock, lock_bytes, canonical, env_hash)


def forget_secrets(root: Path, catalog: Catalog, services: list[str]) -> None:
    """Drop the kept secrets of `services` from .env, once their data volumes are deleted.

    Only the "Kept" section changes; nothing is regenerated, so an edited file elsewhere
    cannot stop it.
    """
    keys = {key for name in services for key in catalog.services[name].meta.secrets}
    current = read_bytes(root / ENV_FILE)
    if current is None or not keys:
        return
    text = _decode(current, ENV_FILE)
    new = envblock.without_kept(text, keys)
    if new != text:
        apply_changes(root, {ENV_FILE: Change(new.encode(), SECRET_MODE)})


def _decode(data: bytes | None, name: str) -> str:
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{name} is not UTF-8 text", f"save {name} as UTF-8") from None


def secret_fingerprint(value: str) -> str:
    """A short hash of a secret, to tell whether the value in .env is the one recorded."""
    return sha256(value.encode())[:12]


def _secret_records(
    state: State,
    owned: list[EnvEntry],
    values: dict[str, str],
    retained: dict[str, str],
    generated: list[str],
) -> dict[str, str]:
    """When each secret in .env was generated, as "TIME FINGERPRINT".

    `paxx up` refuses to hand a data volume created before its secret to the service (the
    data holds other credentials). Only secrets paxx generated itself have a record, and a
    record is dropped once the value in .env no longer matches it (restored or edited).
    """
    current = {e.key: values[e.key] for e in owned if e.kind == "secret"} | retained
    records = {}
    for key, value in current.items():
        if key in generated:
            records[key] = f"{_now()} {secret_fingerprint(value)}"
        elif key in state.secrets and state.secrets[key].endswith(f" {secret_fingerprint(value)}"):
            records[key] = state.secrets[key]
    return records


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


def _fill_inputs(
    project: spec.Project,
    render: Render,
    env_doc: envblock.EnvDocument,
    registry: Registry,
) -> tuple[dict[str, str], list[str], list[str]]:
    """Every input value: kept from .env, forced by the declaration, or newly made.

    Returns the values, the keys made now, and notes for the user (ports chosen elsewhere).
    """
    root = project.root
    inputs: dict[str, str] = {}
    generated: list[str] = []
    notes: list[str] = []
    declared_ports = {
        key: port for o in project.declaration.services.values() for key, port in o.ports.items()
    }
    taken = registry.ports_of_others(root)
    context = {"app_name": project.app_name}
    for section in render.env:
        for entry in section.entries:
            if entry.kind not in INPUT_KINDS:
                continue
            kept = env_doc.block.get(entry.key)
            if entry.kind == "port":
                if entry.key in declared_ports:
                    inputs[entry.key] = str(declared_ports[entry.key])
                elif kept is not None:
                    inputs[entry.key] = _checked_port(entry.key, kept)
                else:
                    in_use = taken | {int(v) for k, v in inputs.items() if k.endswith("_PORT")}
                    chosen = pick_port(entry.port, in_use)
                    inputs[entry.key] = str(chosen)
                    generated.append(entry.key)
                    if chosen != entry.port:
                        notes.append(_port_note(entry.key, entry.port, chosen, in_use))
                taken.add(int(inputs[entry.key]))
            elif kept is not None:
                inputs[entry.key] = kept
            elif entry.kind == "secret":
                inputs[entry.key] = secrets.token_urlsafe(SECRET_BYTES)
                generated.append(entry.key)
            elif entry.kind == "project":
                inputs[entry.key] = _project_name(project, registry.names_of_others(root))
                generated.append(entry.key)
            else:
                inputs[entry.key] = expand(entry.template, {**context, **inputs})
                generated.append(entry.key)
            if entry.kind == "project":
                context["project"] = inputs[entry.key]
    return inputs, generated, notes


def _port_note(key: str, preferred: int, chosen: int, others: set[int]) -> str:
    if preferred in others:
        why = "held by another paxx project"
    else:
        holder = describe_holder(preferred)
        why = f"taken by {holder}" if holder else "taken"
    return f"{key}: port {preferred} is {why}, so paxx chose {chosen} (kept in .env)"


def _checked_port(key: str, value: str) -> str:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ConfigError(
            f".env: {key}={value} is not a port number",
            f"set {key} to a port number (1-65535) in .env, or delete it to let paxx pick",
        )
    return str(int(value))


def _project_name(project: spec.Project, others: set[str]) -> str:
    base = project_slug(project.declaration.name or project.app_name)
    name, counter = base, 2
    while name in others:
        name, counter = f"{base}-{counter}", counter + 1
    return name


def _compose_files(root: Path, render: Render, start_interval: bool | None) -> list[str]:
    files = [name for name in USER_COMPOSE_FILES if (root / name).is_file()][:1]
    files += list(render.overlays)
    if _engine_overlay(root, render, start_interval) is not None:
        files.append(ENGINE_OVERLAY)
    return files


def _engine_overlay(root: Path, render: Render, start_interval: bool | None) -> bytes | None:
    if start_interval is None:
        # Engine unknown (no engine call in this command): keep what the last `up` chose.
        current = read_bytes(root / ENGINE_OVERLAY) or b""
        start_interval = b"start_interval" in current
    return engine_overlay(render.images, start_interval, registry_mirror())


def _retained_secrets(
    catalog: Catalog,
    render: Render,
    env_doc: envblock.EnvDocument,
) -> dict[str, str]:
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


def _plan_files(
    root: Path, desired: dict[str, bytes], state: State, force: bool
) -> tuple[list[Action], dict[str, Change], list[tuple[str, str]]]:
    actions: list[Action] = []
    changes: dict[str, Change] = {}
    conflicts: list[tuple[str, str]] = []
    stamp = _stamp()
    for path in sorted(set(desired) | set(state.files)):
        current = read_bytes(root / path)
        new = desired.get(path)
        if current == new:
            if new is not None:
                actions.append(Action("identical", path))
            continue
        verb = "create" if current is None else "delete" if new is None else "update"
        ours = current is not None and state.files.get(path) == sha256(current)
        if current is None or ours or force:
            detail = ""
            if current is not None and not ours:
                changes[f"{BACKUP_DIR}/{path}.{stamp}"] = Change(current)
                detail = f"edited copy saved in {BACKUP_DIR}/"
            changes[path] = Change(new)
            actions.append(Action(verb, path, detail))
        else:
            why = "edited by hand" + (", and no longer generated" if new is None else "")
            conflicts.append((path, why))
    return actions, changes, conflicts


#: The `__init__.py` paxx writes into an app package it creates. It is the user's from then
#: on: not recorded, so never overwritten or deleted by paxx.
PACKAGE_INIT = b'"""The application package."""\n'


def _package_init(root: Path, package_dir: str, files: dict[str, bytes]) -> str | None:
    """The package's `__init__.py` when paxx writes modules into a package folder without one."""
    init = f"{package_dir}/__init__.py"
    if not package_dir or not any(path.startswith(f"{package_dir}/") for path in files):
        return None
    return None if (root / init).exists() else init


def _plan_declaration(
    project: spec.Project, catalog: Catalog, chosen: list[str], render: Render
) -> tuple[Change | None, list[Action], list[str]]:
    """Features, dependencies and what the code needs, for pyproject.toml (or paxx.toml).

    Also returns notes on what paxx leaves to the user (see projectconf).
    """
    before = project.source.read_text(encoding="utf-8") if project.source.exists() else None
    document = project.document
    if list(project.declaration.features) != chosen or not project.initialized:
        document = spec.set_features(project, chosen)
    actions = []
    notes: list[str] = []
    if project.has_pyproject:
        declared = catalog.closure(list(project.declaration.features))
        dropped = [f for f in declared if f not in render.features]
        changes, notes = deps.update_pyproject(
            document,
            project.root,
            catalog,
            render.features,
            dropped,
            project.package_dir,
            render.files,
        )
        actions += [Action(verb, project.source.name, what) for verb, what in changes]
    after = tomlkit.dumps(document)
    if after == before:
        return None, [], []
    verb = "update" if before is not None else "create"
    return Change(after.encode()), [Action(verb, project.source.name), *actions], notes


def _plan_gitignore(root: Path) -> Change | None:
    current = read_bytes(root / GITIGNORE)
    text = current.decode("utf-8", errors="replace") if current is not None else ""
    present = {line.strip() for line in text.splitlines()}
    missing = [
        line for line in GITIGNORE_LINES if line not in present and f"/{line}" not in present
    ]
    if not missing:
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    addition = "# paxx: secrets and per-machine state\n" + "".join(f"{m}\n" for m in missing)
    return Change((text + ("\n" if text else "") + addition).encode())


def _summaries(
    render: Render, values: dict[str, str], catalog: Catalog
) -> dict[str, ServiceSummary]:
    summaries = {}
    for name in render.services:
        service = catalog.services[name]
        context = {**values}
        summaries[name] = ServiceSummary(
            image=render.images[name],
            ports={key: [int(values[key]), t] for key, t in service.port_targets.items()},
            urls={label: expand(t, context) for label, t in sorted(render.urls[name].items())},
            volumes=list(render.volumes[name]),
        )
    return summaries


def _conflict_error(
    conflicts: list[tuple[str, str]], root: Path, desired: dict[str, bytes], recorded: bool
) -> ConflictError:
    paths = sorted({path for path, _ in conflicts})
    diffs = []
    for path, why in conflicts:
        if path == ENV_FILE:
            diffs.append(f"{path}: {why}")
            continue
        current = (read_bytes(root / path) or b"").decode("utf-8", errors="replace")
        new = desired.get(path, b"").decode("utf-8", errors="replace")
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"{path} (yours)",
            tofile=f"{path} (paxx)",
        )
        diffs.append(f"{path}: {why}\n" + "".join(list(diff)[:40]))
    if not recorded:
        return ConflictError(
            f"paxx has no record of what it wrote ({STATE_FILE} is missing or unreadable), "
            f"so these files may hold your edits: {', '.join(paths)}",
            "compare them with the diffs below; if the changes are not yours, run again with "
            f"--force (paxx keeps a copy of each file in {BACKUP_DIR}/)",
            details="\n".join(diffs),
        )
    return ConflictError(
        f"refusing to overwrite what you edited: {', '.join(paths)}",
        "change the declaration instead and undo the edit, or run again with --force "
        f"(paxx keeps a copy of each edited file in {BACKUP_DIR}/)",
        details="\n".join(diffs),
    )
