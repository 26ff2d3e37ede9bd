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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from paxx_env.errors import PaxxError
from paxx_env.fsguard import read_file, shown, writable_target

#: Files that hold secrets are created with this mode.
SECRET_MODE = 0o600


def sha256(data: bytes) -> str:
    """The hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: Path) -> bytes | None:
    """The content of `path`, or None when it does not exist (see fsguard.read_file)."""
    return read_file(path)


@dataclass(frozen=True)
class Change:
    """New content for one file (None deletes it); `mode` applies to created files."""

    content: bytes | None
    mode: int | None = None


def apply_changes(
    root: Path, changes: Mapping[str, Change], where: str = "the project folder"
) -> None:
    """Write or delete files under `root` so that each is wholly old or wholly new.

    A link at a target is followed (the file it points to is written; the link stays). What
    stands in the way (a folder for a file, a file for a folder, a broken link) is an error
    before anything is written. `where` names `root` in messages about the disk.
    """
    writes = {
        relative: writable_target(root / relative)
        for relative, change in sorted(changes.items())
        if change.content is not None
    }
    deletions = [root / rel for rel, change in sorted(changes.items()) if change.content is None]
    _remove_stale({target.parent for target in writes.values() if target.parent.is_dir()})
    staged: list[tuple[Path, Path]] = []
    try:
        for relative, target in writes.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.append((_stage(target, changes[relative]), target))
    except OSError as exc:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise _write_error(exc, where) from None
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
        raise _write_error(exc, where) from None
    _fsync_dirs({target.parent for _, target in staged} | {t.parent for t in deletions})


def _remove_stale(folders: set[Path]) -> None:
    # A temporary file left by a paxx process that was killed mid-write is stale: paxx
    # commands on a project are serialized, so none is in use now.
    for folder in folders:
        for stale in folder.glob(".*.paxx-tmp"):
            stale.unlink(missing_ok=True)


def _stage(target: Path, change: Change) -> Path:
    import tempfile  # only when writing: `paxx up` with nothing to do, and status, read only

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


def _write_error(exc: OSError, where: str) -> PaxxError:
    path = shown(Path(exc.filename)) if exc.filename else where
    if exc.errno == errno.ENOSPC:
        return PaxxError(
            f"no space left on the device while writing {path}; nothing was changed",
            "free some disk space and run the command again",
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return PaxxError(
            f"cannot write {path} ({exc.strerror}); nothing was changed",
            f"make {where} writable for your user and run the command again",
        )
    return PaxxError(
        f"cannot write {path} ({exc.strerror}); nothing was changed",
        f"check what is at that path in {where}, then run the command again",
    )


@contextlib.contextmanager
def exclusive_lock(path: Path, on_wait: object = None, hint: str = "") -> Iterator[None]:
    """Hold an exclusive lock on the file `path` so two paxx commands do not interleave.

    `on_wait`, when callable, is called once with the holder's pid before blocking. A lock
    file that cannot be created is a PaxxError (exit 1) with `hint` as its fix.
    """
    import fcntl

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        opened = open(path, "a+")  # noqa: SIM115 (closed by the with block below)
    except OSError as exc:
        raise PaxxError(
            f"cannot create the lock file {shown(path)} ({exc.strerror})",
            hint or f"make {shown(path.parent)} a writable folder",
        ) from None
    with opened as handle:
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
