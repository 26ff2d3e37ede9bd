"""Atomic file changes: every file is either its old or its new content, never torn.

A change set is written in two phases: every new content goes to a temporary file in the
target's folder first (and is flushed to disk), then each temporary file is renamed over its
target with os.replace. A failure in the first phase leaves the tree untouched; a failure
while renaming puts back the files already replaced.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from paxx_env.errors import PaxxError

#: Files that hold secrets are created with this mode.
SECRET_MODE = 0o600


def sha256(data: bytes) -> str:
    """The hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: Path) -> bytes | None:
    """The content of `path`, or None when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


@dataclass(frozen=True)
class Change:
    """New content for one file (None deletes it); `mode` applies to created files."""

    content: bytes | None
    mode: int | None = None


def apply_changes(root: Path, changes: Mapping[str, Change]) -> None:
    """Write or delete files under `root` so that each is wholly old or wholly new."""
    staged: list[tuple[Path, Path]] = []
    deletions: list[Path] = []
    _remove_stale(
        {(root / relative).parent for relative in changes if (root / relative).parent.is_dir()}
    )
    try:
        for relative, change in sorted(changes.items()):
            target = root / relative
            if change.content is None:
                deletions.append(target)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.append((_stage(target, change), target))
    except OSError as exc:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise _write_error(exc) from None
    backups: list[tuple[Path, bytes | None]] = []
    try:
        for temporary, target in staged:
            backups.append((target, read_bytes(target)))
            os.replace(temporary, target)
        for target in deletions:
            backups.append((target, read_bytes(target)))
            target.unlink(missing_ok=True)
    except OSError as exc:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        for target, old in reversed(backups):
            with contextlib.suppress(OSError):
                if old is None:
                    target.unlink(missing_ok=True)
                else:
                    target.write_bytes(old)
        raise _write_error(exc) from None
    _fsync_dirs({target.parent for _, target in staged} | {t.parent for t in deletions})


def _remove_stale(folders: set[Path]) -> None:
    # A temporary file left by a paxx process that was killed mid-write is stale: paxx
    # commands on a project are serialized, so none is in use now.
    for folder in folders:
        for stale in folder.glob(".*.paxx-tmp"):
            stale.unlink(missing_ok=True)


def _stage(target: Path, change: Change) -> Path:
    descriptor, name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".paxx-tmp", dir=target.parent
    )
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(change.content or b"")
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            mode = target.stat().st_mode & 0o7777
            if change.mode is not None:
                mode &= change.mode
        else:
            mode = change.mode if change.mode is not None else 0o666 & ~_umask()
        os.chmod(temporary, mode)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _fsync_dirs(folders: set[Path]) -> None:
    for folder in folders:
        with contextlib.suppress(OSError):
            descriptor = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _write_error(exc: OSError) -> PaxxError:
    where = exc.filename or "the project folder"
    if exc.errno == errno.ENOSPC:
        return PaxxError(
            f"no space left on the device while writing {where}; nothing was changed",
            "free some disk space and run the command again",
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return PaxxError(
            f"cannot write {where} ({exc.strerror}); nothing was changed",
            "make the project folder writable for your user and run the command again",
        )
    return PaxxError(f"cannot write {where}: {exc.strerror}; nothing was changed", "")


@contextlib.contextmanager
def exclusive_lock(path: Path, on_wait: object = None) -> Iterator[None]:
    """Hold an exclusive lock on the file `path` so two paxx commands do not interleave.

    `on_wait`, when callable, is called once with the holder's pid before blocking.
    """
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            if callable(on_wait):
                on_wait(holder)
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
