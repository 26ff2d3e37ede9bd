"""The generated-files step of a sync: which files change, and which the user edited.

paxx keeps a hash of every file it wrote (state.json). A file whose content still has that
hash is paxx's to rewrite or delete; any other content is the user's edit and is a conflict,
overwritten only with --force (and then a copy is kept in the backup folder).
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from pathlib import Path

from paxx_env.errors import ConflictError
from paxx_env.fsio import Change, read_bytes, sha256
from paxx_env.mirror import registry_mirror
from paxx_env.paths import (
    BACKUP_DIR,
    ENGINE_OVERLAY,
    ENV_FILE,
    GITIGNORE,
    GITIGNORE_LINES,
    STATE_FILE,
    USER_COMPOSE_FILES,
)
from paxx_env.render import Render, engine_overlay
from paxx_env.state import State
from paxx_env.sync.model import Action, ChangeSet


def stamp() -> str:
    """A UTC time stamp for backup file names."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


def compose_files(root: Path, overlay: bytes | None, render: Render) -> list[str]:
    """What COMPOSE_FILE lists: the user's own compose file, paxx's overlays, the engine's."""
    files = [name for name in USER_COMPOSE_FILES if (root / name).is_file()][:1]
    files += list(render.overlays)
    if overlay is not None:
        files.append(ENGINE_OVERLAY)
    return files


def machine_overlay(root: Path, render: Render, start_interval: bool | None) -> bytes | None:
    """The per-machine overlay's content (engine capabilities, registry mirror), or None.

    With the engine unknown (`start_interval` None: no engine call in this command), the
    choice of the last `up` is kept.
    """
    if start_interval is None:
        current = read_bytes(root / ENGINE_OVERLAY) or b""
        start_interval = b"start_interval" in current
    return engine_overlay(render.images, start_interval, registry_mirror())


def plan_files(
    root: Path,
    desired: dict[str, bytes],
    state: State,
    force: bool,
    changes: ChangeSet,
    keep_edits: frozenset[str] = frozenset(),
) -> None:
    """Create, update or delete generated files; an edited one is a conflict unless forced.

    An edited file in `keep_edits` is the user's: left as it is ("skip"), not a conflict.
    """
    backup_stamp = stamp()
    for path in sorted(set(desired) | set(state.files)):
        current = read_bytes(root / path)
        new = desired.get(path)
        if current == new:
            if new is not None:
                changes.actions.append(Action("identical", path))
            continue
        verb = "create" if current is None else "delete" if new is None else "update"
        ours = current is not None and state.files.get(path) == sha256(current)
        if current is None or ours or force:
            detail = ""
            if current is not None and not ours:
                changes.write(f"{BACKUP_DIR}/{path}.{backup_stamp}", Change(current))
                detail = f"edited copy saved in {BACKUP_DIR}/"
            changes.write(path, Change(new), verb, detail)
        elif path in keep_edits:
            changes.actions.append(Action("skip", path, "yours since you edited it: kept"))
            changes.notes.append(
                f"{path} is yours (edited), so paxx left it as it is: "
                + ("paxx no longer generates it" if new is None else _what_changed(current, new))
            )
        else:
            why = "edited by hand" + (", and no longer generated" if new is None else "")
            changes.conflicts.append((path, why))


def _what_changed(current: bytes, new: bytes) -> str:
    """How paxx's version differs, in a few words: lines it would add and remove."""
    old_lines = current.decode(errors="replace").splitlines()
    diff = list(difflib.ndiff(old_lines, new.decode().splitlines()))
    added = sum(line.startswith("+ ") for line in diff)
    removed = sum(line.startswith("- ") for line in diff)
    return f"paxx's version would add {added} and remove {removed} lines"


def plan_gitignore(root: Path, changes: ChangeSet) -> None:
    """Add .env and the per-machine folder to .gitignore when they are not ignored yet."""
    current = read_bytes(root / GITIGNORE)
    text = current.decode("utf-8", errors="replace") if current is not None else ""
    present = {line.strip() for line in text.splitlines()}
    missing = [
        line for line in GITIGNORE_LINES if line not in present and f"/{line}" not in present
    ]
    if not missing:
        return
    if text and not text.endswith("\n"):
        text += "\n"
    addition = "# paxx: secrets and per-machine state\n" + "".join(f"{m}\n" for m in missing)
    content = (text + ("\n" if text else "") + addition).encode()
    changes.write(GITIGNORE, Change(content), "create" if current is None else "update")


def conflict_error(
    conflicts: list[tuple[str, str]], root: Path, desired: dict[str, bytes], recorded: bool
) -> ConflictError:
    """The refusal to overwrite edited files, with a diff of each."""
    paths = sorted({path for path, _ in conflicts})
    diffs = [_conflict_diff(root, path, why, desired) for path, why in conflicts]
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


def _conflict_diff(root: Path, path: str, why: str, desired: dict[str, bytes]) -> str:
    if path == ENV_FILE:
        return f"{path}: {why}"  # no diff: .env holds secrets
    current = (read_bytes(root / path) or b"").decode("utf-8", errors="replace")
    new = desired.get(path, b"").decode("utf-8", errors="replace")
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"{path} (yours)",
        tofile=f"{path} (paxx)",
    )
    return f"{path}: {why}\n" + "".join(list(diff)[:40])


#: The `__init__.py` paxx writes into an app package it creates. It is the user's from then
#: on: not recorded, so never overwritten or deleted by paxx.
PACKAGE_INIT = b'"""The application package."""\n'


def plan_package_init(
    root: Path, package_dir: str, files: dict[str, bytes], changes: ChangeSet
) -> None:
    """Create the package's `__init__.py` when paxx writes modules into a folder without one."""
    init = f"{package_dir}/__init__.py"
    if not package_dir or not any(path.startswith(f"{package_dir}/") for path in files):
        return
    if read_bytes(root / init) is None:
        changes.write(init, Change(PACKAGE_INIT), "create")
