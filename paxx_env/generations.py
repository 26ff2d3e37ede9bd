"""Generations: every change to the environment is recorded, can be listed, diffed and undone.

A generation holds what defines the environment — the declaration, the lock and the committed
generated files — never .env (it holds secrets). Generations live in the git-ignored
.paxx/local/generations/NNNN/: meta.json plus a copy of each file under files/.
"""

from __future__ import annotations

import difflib
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paxx_env.errors import UsageError
from paxx_env.fsio import Change
from paxx_env.paths import GENERATIONS_DIR, LOCK_FILE

#: The declaration is stored under this name (the [tool.paxx] table, or the whole paxx.toml).
DECLARATION = "declaration.toml"


@dataclass(frozen=True)
class Generation:
    """One recorded generation."""

    number: int
    time: str
    command: str
    summary: str


def _folder(root: Path, number: int) -> Path:
    return root / GENERATIONS_DIR / f"{number:04d}"


def list_generations(root: Path) -> list[Generation]:
    """Every recorded generation, oldest first."""
    base = root / GENERATIONS_DIR
    if not base.is_dir():
        return []
    found = []
    for folder in sorted(base.iterdir()):
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            found.append(
                Generation(int(meta["number"]), meta["time"], meta["command"], meta["summary"])
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(found, key=lambda g: g.number)


def load_files(root: Path, number: int) -> dict[str, bytes]:
    """The files of generation `number` (declaration, lock, generated files)."""
    files_dir = _folder(root, number) / "files"
    if not files_dir.is_dir():
        known = ", ".join(str(g.number) for g in list_generations(root)) or "none yet"
        raise UsageError(
            f"there is no generation {number}",
            f"`paxx generations` lists them (recorded: {known})",
        )
    return {
        path.relative_to(files_dir).as_posix(): path.read_bytes()
        for path in sorted(files_dir.rglob("*"))
        if path.is_file()
    }


def latest(root: Path) -> Generation | None:
    """The newest generation, if any."""
    generations = list_generations(root)
    return generations[-1] if generations else None


def plan_record(root: Path, command: str, files: Mapping[str, bytes]) -> dict[str, Change]:
    """Changes that record `files` as a new generation, or {} when they equal the latest."""
    newest = latest(root)
    previous = load_files(root, newest.number) if newest else {}
    if newest and previous == dict(files):
        return {}
    number = newest.number + 1 if newest else 1
    folder = f"{GENERATIONS_DIR}/{number:04d}"
    meta = {
        "number": number,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "summary": summarize(previous, files),
    }
    changes = {f"{folder}/meta.json": Change((json.dumps(meta, indent=2) + "\n").encode())}
    for path, content in files.items():
        changes[f"{folder}/files/{path}"] = Change(content)
    return changes


def summarize(before: Mapping[str, bytes], after: Mapping[str, bytes]) -> str:
    """A one-line summary of what changed between two generations' files."""
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    parts = []
    if DECLARATION in changed or DECLARATION in added:
        old = _table(before.get(DECLARATION, b""))
        new = _table(after.get(DECLARATION, b""))
        old_features, new_features = old.get("features", []), new.get("features", [])
        delta = [f"+{f}" for f in sorted(set(new_features) - set(old_features))]
        delta += [f"-{f}" for f in sorted(set(old_features) - set(new_features))]
        old_providers, new_providers = old.get("providers", {}), new.get("providers", {})
        moved = [
            f"{f} {old_providers[f]} -> {p}"
            for f, p in sorted(new_providers.items())
            if old_providers.get(f, p) != p
        ]
        if delta or not moved:
            parts.append("features " + (" ".join(delta) if delta else "unchanged, settings edited"))
        if moved:
            parts.append("providers " + ", ".join(moved))
    if LOCK_FILE in added + changed + removed:
        parts.append("lock " + ("removed" if LOCK_FILE in removed else "updated"))
    others = [p for p in added + removed + changed if p not in {DECLARATION, LOCK_FILE}]
    if others:
        parts.append(f"{len(others)} generated file(s) changed")
    return "; ".join(parts) or "no change"


def _table(declaration: bytes) -> dict[str, Any]:
    """A generation's declaration as a table ({} when it is not TOML)."""
    import tomllib

    try:
        return tomllib.loads(declaration.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def diff(root: Path, older: int, newer: int) -> str:
    """Unified diffs of every file that differs between two generations."""
    before, after = load_files(root, older), load_files(root, newer)
    chunks = []
    for path in sorted(set(before) | set(after)):
        a = before.get(path, b"").decode("utf-8", errors="replace").splitlines(keepends=True)
        b = after.get(path, b"").decode("utf-8", errors="replace").splitlines(keepends=True)
        if a != b:
            lines = difflib.unified_diff(
                a,
                b,
                fromfile=f"{older}/{path}" if path in before else "/dev/null",
                tofile=f"{newer}/{path}" if path in after else "/dev/null",
            )
            chunks.append("".join(lines))
    return "".join(chunks)


def diff_between(root: Path, older: int | None, newer: int | None) -> tuple[int, int, str]:
    """Both generation numbers and the diff between them ("" when identical).

    `newer` defaults to the current generation, `older` to the one before `newer`.
    """
    numbers = [g.number for g in list_generations(root)]
    if newer is None:
        if not numbers:
            raise UsageError(
                "there are no generations yet",
                "they are recorded by `paxx feature add`, `up`, `lock`...",
            )
        newer = numbers[-1]
    if older is None:
        before = [n for n in numbers if n < newer]
        if not before:
            raise UsageError(
                f"generation {newer} is the first one, so there is nothing before it to compare",
                "`paxx generations` lists them",
            )
        older = before[-1]
    return older, newer, diff(root, older, newer)


def prune(root: Path, keep: int) -> list[int]:
    """Delete all but the newest `keep` generations; return the numbers deleted."""
    generations = list_generations(root)
    doomed = generations[: max(0, len(generations) - keep)]
    for generation in doomed:
        shutil.rmtree(_folder(root, generation.number), ignore_errors=True)
    return [g.number for g in doomed]
