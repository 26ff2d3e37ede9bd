"""The .env step of a sync: read the file, keep the user's lines, rewrite paxx's block.

Who does what for .env: `dotenv` knows the dialect Compose reads, `envblock` the marked block
paxx owns, `render` which variables there are and how derived ones follow from the inputs;
this module reads the file, refuses hand edits of derived values, and plans the new content.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paxx_env import envblock
from paxx_env.catalog import Catalog
from paxx_env.errors import ConfigError, ConflictError
from paxx_env.fsio import SECRET_MODE, Change, apply_changes, read_bytes, sha256
from paxx_env.paths import ENV_FILE
from paxx_env.render import INPUT_KINDS, EnvEntry
from paxx_env.state import State
from paxx_env.sync.model import ChangeSet


@dataclass(frozen=True)
class EnvFile:
    """The project's .env as it is on disk: its bytes (None when missing) and parsed form."""

    content: bytes | None
    document: envblock.EnvDocument


def read_env_file(root: Path) -> EnvFile:
    """Read and parse .env; a folder, a non-UTF-8 file or a bad line is a ConfigError."""
    path = root / ENV_FILE
    if path.is_dir():
        raise ConfigError(
            ".env is a folder, not a file",
            "move the folder away: paxx writes the project's variables to the file .env",
        )
    content = read_bytes(path)
    return EnvFile(content, envblock.read_env(decode(content, ENV_FILE)))


def check_not_set_outside(env: EnvFile, owned: list[EnvEntry]) -> None:
    """Refuse when a line outside paxx's block sets a variable paxx manages."""
    for entry in owned:
        if entry.key in env.document.outside:
            raise ConflictError(
                f".env line {env.document.outside[entry.key]} sets {entry.key}, which paxx manages",
                "delete that line, or move your value into the paxx block of .env to keep it",
            )


def plan_env_file(
    root: Path,
    env: EnvFile,
    owned: list[EnvEntry],
    values: dict[str, str],
    block: list[str],
    state: State,
    changes: ChangeSet,
) -> None:
    """Plan the new .env: derived values edited by hand are conflicts; 0600 is enforced."""
    for entry in owned:
        old = env.document.block.get(entry.key)
        if (
            entry.kind not in INPUT_KINDS
            and old is not None
            and old != values[entry.key]
            and state.env.get(entry.key) != sha256(old.encode())
        ):
            changes.conflicts.append((ENV_FILE, f"{entry.key} was edited by hand"))
    new = envblock.compose_env(env.document, block)
    if new != env.content:
        verb = "create" if env.content is None else "update"
        changes.write(ENV_FILE, Change(new, SECRET_MODE), verb)
    elif env.content is not None and (root / ENV_FILE).stat().st_mode & 0o077:
        # A .env readable by others is tightened even when its content is unchanged.
        changes.write(ENV_FILE, Change(new, SECRET_MODE), "update", "mode 0600")


def forget_secrets(root: Path, catalog: Catalog, services: list[str]) -> None:
    """Drop the kept secrets of `services` from .env, once their data volumes are deleted.

    Only the "Kept" section changes; nothing is regenerated, so an edited file elsewhere
    cannot stop it.
    """
    keys = {key for name in services for key in catalog.services[name].meta.secrets}
    current = read_bytes(root / ENV_FILE)
    if current is None or not keys:
        return
    text = decode(current, ENV_FILE)
    new = envblock.without_kept(text, keys)
    if new != text:
        apply_changes(root, {ENV_FILE: Change(new.encode(), SECRET_MODE)})


def decode(data: bytes | None, name: str) -> str:
    """The UTF-8 text of a file ("" when missing), or a ConfigError naming it."""
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{name} is not UTF-8 text", f"save {name} as UTF-8") from None
