"""Rolling back: restore the declaration, lock and generated files of an earlier generation.

The rollback is itself recorded as a new generation, so it can be undone too. Running
services are not touched.
"""

from __future__ import annotations

import tomllib

import tomlkit

from paxx_env.catalog import Catalog
from paxx_env.declaration import Project, validate
from paxx_env.errors import UsageError
from paxx_env.generations import DECLARATION, list_generations, load_files
from paxx_env.lockfile import parse_lock
from paxx_env.paths import LOCK_FILE
from paxx_env.sync import SyncResult, sync


def rollback(
    project: Project, catalog: Catalog, generation: int | None, force: bool
) -> tuple[int, SyncResult]:
    """Restore `generation` (default: the previous one); return its number and the sync."""
    numbers = [g.number for g in list_generations(project.root)]
    if generation is None:
        if len(numbers) < 2:
            raise UsageError(
                "there is no earlier generation to roll back to", "`paxx generations` lists them"
            )
        generation = numbers[-2]
    files = load_files(project.root, generation)
    try:
        table = tomllib.loads(files[DECLARATION].decode())
    except (KeyError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        raise UsageError(
            f"generation {generation} is damaged: its {DECLARATION} is missing or not TOML",
            "roll back to another generation (`paxx generations` lists them)",
        ) from None
    declaration = validate(table, project.source, catalog)
    restored = Project(project.root, project.source, _document(project, table), declaration, True)
    lock_text = files.get(LOCK_FILE)
    result = sync(
        restored,
        catalog,
        features=list(declaration.features),
        new_lock=parse_lock(lock_text.decode()) if lock_text else None,
        force=force,
        command=f"rollback {generation}",
    )
    return generation, result


def _document(project: Project, table: dict[str, object]) -> tomlkit.TOMLDocument:
    """The declaration file with the restored table: [tool.paxx] replaced, the rest kept."""
    if project.has_pyproject:
        document = project.document
        tool = document.setdefault("tool", tomlkit.table(is_super_table=True))
        tool["paxx"] = tomlkit.item(table)
        return document
    document = tomlkit.document()
    for key, value in table.items():
        document[key] = value
    return document
