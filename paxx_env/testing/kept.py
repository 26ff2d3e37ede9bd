"""--paxx-reuse-db: the template database, and spare copies of it, kept from one run to the next.

Making the template (CREATE DATABASE, the preparation hook) and the first copies of it is most
of what the first database test of a run waits for. With reuse on:

- The template is named after what made it, not after the run: `paxx_keep_KEY_template`. KEY
  is a digest of the preparation hooks' source code, whether the `vector` extension is in it,
  the project's Alembic migrations (alembic.ini and the folder its `script_location` names)
  and the files and folders the `paxx_reuse_db_inputs` ini option names. A change to any of
  them makes a new template; a change they cannot see (models a `create_all` reads, SQL files
  elsewhere) needs `--paxx-create-db` once.
- At a session's end, the databases it holds ready (exact copies of the template) are renamed
  to spares, `paxx_keep_KEY_spare_SESSIONS_TOKEN`, rather than dropped; the next run takes one
  by renaming it back (ALTER DATABASE ... RENAME succeeds for one taker only) instead of
  cloning. SESSIONS is the number of sessions PostgreSQL had counted for the spare when it was
  kept: a spare somebody connected to since then is dropped, not used.
- Making a kept template drops the kept databases of every other key: one generation stays.
"""

from __future__ import annotations

import configparser
import contextlib
import hashlib
import inspect
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from paxx_env.testing.pgadmin import Admin, quoted

PREFIX = "paxx_keep_"
#: Spares kept at most (of one key): a session keeps its ready databases up to this many.
MAX_SPARES = 8
#: Bumped when what a kept template holds changes meaning (a paxx upgrade then makes a new one).
FORMAT = "1"
NAMED = "SELECT datname FROM pg_database WHERE left(datname, length($1)) = $1 ORDER BY datname"


@dataclass(frozen=True)
class Keep:
    """Reuse is on: the kept template's key, and the run that must make it anew, if any."""

    key: str
    #: --paxx-create-db: this run's id (the template is made again once in the run).
    create_for_run: str | None = None

    @property
    def template(self) -> str:
        return f"{PREFIX}{self.key}_template"

    @property
    def spare_prefix(self) -> str:
        return f"{PREFIX}{self.key}_spare_"


def template_key(
    hooks: Iterable[Callable[..., object]], vector: bool, root: Path, named: Iterable[str]
) -> str:
    """The digest that names a kept template: what its preparation is made of."""
    digest = hashlib.sha256(f"paxx-keep {FORMAT} vector={vector}\0".encode())
    for hook in hooks:
        digest.update(_source(hook).encode() + b"\0")
    for path in input_files(root, named):
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _source(function: Callable[..., object]) -> str:
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):  # no source at hand: its compiled code stands for it
        code = getattr(function, "__code__", None)
        return repr(code.co_code if code is not None else function)


def input_files(root: Path, named: Iterable[str]) -> list[Path]:
    """alembic.ini, its migrations folder, and each file or folder `named` (from `root`)."""
    found: set[Path] = set()
    places = [root / "alembic.ini", *(root / name for name in named)]
    scripts = alembic_scripts(root / "alembic.ini")
    if scripts is not None:
        places.append(scripts)
    for place in places:
        if place.is_file():
            found.add(place)
        elif place.is_dir():
            found.update(
                path
                for path in place.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts
            )
    return sorted(found)


def alembic_scripts(ini: Path) -> Path | None:
    """The folder alembic.ini's `script_location` names (`%(here)s` is its folder), or None."""
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent)})
    try:
        parser.read(ini, encoding="utf-8")
        location = parser.get("alembic", "script_location", fallback="")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None
    if not location or (":" in location and not Path(location).is_absolute()):
        return None  # none, or a package's resource (`package:folder`)
    return ini.parent / location


async def named(admin: Admin, prefix: str) -> list[str]:
    """On the admin loop: the databases whose name starts with `prefix`."""
    return [row[0] for row in await admin.rows(NAMED, prefix)]


async def claim(admin: Admin, spare: str, name: str) -> int | None:
    """Rename the spare to `name`: its session count when it is ours and untouched, else None.

    None when another process took it first, or somebody connected to it since it was kept
    (then it is dropped).
    """
    kept_with = spare.rsplit("_", 2)[-2]
    if str(await admin.sessions(spare)) != kept_with:
        await _drop_quietly(admin, spare)  # under its own name: `name` stays free
        return None
    try:
        await admin.value(f"ALTER DATABASE {quoted(spare)} RENAME TO {quoted(name)}")
    except admin.asyncpg.PostgresError:
        return None  # taken, or somebody is connected to it
    sessions = await admin.sessions(name)
    if str(sessions) != kept_with:  # somebody came and went between the look and the rename
        await _drop_quietly(admin, name)
        return None
    return int(sessions)


async def _drop_quietly(admin: Admin, name: str) -> None:
    """Drop a database nobody is to use; a refusal leaves it for `paxx down --volumes`."""
    with contextlib.suppress(admin.asyncpg.PostgresError):
        await admin.drop(name)


async def keep_spare(admin: Admin, keep: Keep, name: str) -> None:
    """Rename the ready database `name` to a spare of `keep`'s template."""
    sessions = await admin.sessions(name)
    spare = f"{keep.spare_prefix}{int(sessions or 0)}_{secrets.token_hex(4)}"
    await admin.value(f"ALTER DATABASE {quoted(name)} RENAME TO {quoted(spare)}")


async def forget_other_keys(admin: Admin, keep: Keep) -> None:
    """Drop the kept databases of other keys, and this key's spares (of an older template)."""
    for name in await named(admin, PREFIX):
        if name == keep.template:
            continue
        try:
            if name.endswith("_template"):
                await admin.value(f"ALTER DATABASE {quoted(name)} WITH IS_TEMPLATE false")
            await admin.drop(name)
        except admin.asyncpg.PostgresError:
            continue  # in use by a run of another key: left for a later run
