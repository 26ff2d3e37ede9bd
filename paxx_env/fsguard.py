"""What can stand where paxx reads or writes, and the error for each.

A folder where paxx keeps a file, a file where it needs a folder, a symbolic link that leads
nowhere or in a circle: each is a two-line error naming the path (exit 2 inside a project),
raised before anything is written. A link to a file is followed: paxx writes through it and
the link stays.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from paxx_env.errors import InTheWay, PaxxError


def shown(path: Path) -> str:
    """The path as the user typed it: relative to the working directory when under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def read_file(path: Path) -> bytes | None:
    """The content of `path`; None when it (or a folder on its way) does not exist."""
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError:
        raise folder_in_the_way(path) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise link_loop(path) from None
        raise PaxxError(
            f"cannot read {shown(path)} ({exc.strerror})",
            "make it readable for your user and run the command again",
        ) from None


def folder_in_the_way(path: Path) -> InTheWay:
    """The error for a folder where paxx reads or writes a file."""
    return InTheWay(
        f"{shown(path)} is a folder, where paxx keeps a file",
        "move the folder away (or rename it): paxx reads and writes a file there",
    )


def file_in_the_way(path: Path) -> InTheWay:
    """The error for a file where paxx needs a folder."""
    return InTheWay(
        f"{shown(path)} is a file, where paxx needs a folder",
        "move the file away (or rename it); paxx creates a folder there",
    )


def link_loop(path: Path) -> InTheWay:
    """The error for a symbolic link that points back to itself."""
    return InTheWay(
        f"{shown(path)} is a symbolic link that points back to itself",
        "remove the link; paxx writes its own file there",
    )


def dangling_link(path: Path, target: Path) -> InTheWay:
    """The error for a link whose target's folder does not exist."""
    return InTheWay(
        f"{shown(path)} is a symbolic link to {target}, whose folder does not exist",
        "create that folder, or remove the link so paxx writes a file there",
    )


def writable_target(target: Path) -> Path:
    """Where a write of `target` goes: `target`, or the file a link at `target` points to.

    Raises InTheWay when a folder, a file or a broken link stands in the way.
    """
    _check_parents(target)
    if target.is_symlink():
        try:
            real = target.resolve(strict=False)
        except (RuntimeError, OSError):  # a loop: RuntimeError before Python 3.13
            raise link_loop(target) from None
        if real.is_dir():
            raise folder_in_the_way(target)
        if not real.parent.is_dir():
            raise dangling_link(target, real)
        return real
    if target.is_dir():
        raise folder_in_the_way(target)
    return target


def _check_parents(target: Path) -> None:
    """The nearest existing folder on the way to `target` must be a folder."""
    folder = target.parent
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    if folder.is_dir():
        return
    if folder.is_symlink():
        try:
            real = folder.resolve(strict=False)
        except (RuntimeError, OSError):
            raise link_loop(folder) from None
        if not real.exists():
            raise dangling_link(folder, real)
    raise file_in_the_way(folder)
