"""The dependencies features add to [project].dependencies, edited with tomlkit.

paxx adds a requirement only when no requirement of that name is there yet, and removes only
the exact strings it would add itself, so a dependency the user pinned is never touched. The
same rule holds for stub packages in the PEP 735 group [dependency-groups].dev.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from tomlkit.items import Array
from tomlkit.toml_document import TOMLDocument

from paxx_env.catalog import Catalog, select
from paxx_env.errors import ConfigError
from paxx_env.projectconf import code_needs, update_project_config


def requirement_name(text: str) -> str | None:
    """The canonical project name of a requirement string, or None if it does not parse."""
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return None


def _same(a: str, b: str) -> bool:
    return re.sub(r"\s+", "", a) == re.sub(r"\s+", "", b)


def update_dependencies(
    document: TOMLDocument,
    wanted: Iterable[str],
    dropped: Iterable[str],
    managed: Iterable[str] = (),
) -> tuple[list[str], list[str]]:
    """Add `wanted` requirements that are missing and remove `dropped` ones paxx added.

    `managed` are all requirement strings features can add: the run of them at the end of
    the list is kept sorted, so the result does not depend on the order features were added.
    Returns (added, removed). Does nothing when the document has no [project] table.
    """
    project = document.get("project")
    if project is None:
        return [], []
    array = _array(project, "dependencies", "[project].dependencies")
    return _update_array(array, wanted, dropped, managed)


def update_dev_group(
    document: TOMLDocument,
    wanted: Iterable[str],
    dropped: Iterable[str],
    managed: Iterable[str] = (),
) -> tuple[list[str], list[str]]:
    """As `update_dependencies`, for [dependency-groups].dev (PEP 735), made when needed.

    Does nothing when the document has no [project] table.
    """
    wanted, dropped = list(wanted), list(dropped)
    if document.get("project") is None:
        return [], []
    groups = document.get("dependency-groups")
    if groups is None:
        if not wanted:
            return [], []
        document["dependency-groups"] = tomlkit.table()
        groups = document["dependency-groups"]
    if not isinstance(groups, dict):
        raise ConfigError(
            "pyproject.toml: [dependency-groups] must be a table of arrays",
            'write it as a table, e.g. [dependency-groups] dev = ["pytest"]',
        )
    if "dev" not in groups and not wanted:
        return [], []
    array = _array(groups, "dev", "[dependency-groups].dev")
    added, removed = _update_array(array, wanted, dropped, managed)
    if removed and not len(array):  # emptied by paxx: nothing of the user's is lost
        del groups["dev"]
        if not groups:
            del document["dependency-groups"]
    return added, removed


def _array(table: Any, key: str, where: str) -> Array:
    """The array `table[key]`, made (empty, one item per line) when missing."""
    if table.get(key) is None:
        array = tomlkit.array()
        array.multiline(True)
        table[key] = array
    array = table[key]
    if not isinstance(array, Array):
        raise ConfigError(
            f"pyproject.toml: {where} must be an array of requirement strings",
            f'write it as an array, e.g. {key} = ["fastapi>=0.110"]',
        )
    return array


def _update_array(
    array: Array, wanted: Iterable[str], dropped: Iterable[str], managed: Iterable[str]
) -> tuple[list[str], list[str]]:
    wanted = list(wanted)
    present = {requirement_name(str(item)) for item in array}
    added = []
    for requirement in wanted:
        if requirement_name(requirement) not in present:
            _insert_sorted(array, requirement, {*managed, *wanted})
            present.add(requirement_name(requirement))
            added.append(requirement)
    removed = []
    drop = [d for d in dropped if not any(_same(d, w) for w in wanted)]
    for index in reversed(range(len(array))):
        item = str(array[index])
        if any(_same(item, d) for d in drop):
            del array[index]
            removed.append(item)
    return added, sorted(removed)


def _insert_sorted(array: Array, requirement: str, managed: set[str]) -> None:
    """Insert into the run of requirements features add that ends the array, in sorted order.

    Nothing already there moves (a line of the user's that equals one paxx would add keeps
    its place and its comment), and the run reads the same whatever order features were
    added in.
    """
    start = len(array)
    while start and str(array[start - 1]) in managed:
        start -= 1
    if "\n" not in array.as_string():  # one line, so no comments: re-sort the run in place
        run = sorted([*(str(item) for item in array[start:]), requirement])
        del array[start:]
        for item in run:
            array.append(item)
        return
    index = start
    while index < len(array) and str(array[index]) < requirement:
        index += 1
    if index == len(array):
        array.append(requirement)
    else:
        array.insert(index, requirement)


def update_pyproject(
    document: TOMLDocument,
    root: Path,
    catalog: Catalog,
    features: Sequence[str],
    dropped_features: Sequence[str],
    package_dir: str,
    files: Iterable[str],
) -> tuple[list[tuple[str, str]], list[str]]:
    """Write what `features` (a closure) need into pyproject.toml; drop what they no longer do.

    Requirements of `dropped_features` that no feature still wants are removed, except those
    every feature needs (the app's framework: FastAPI, pydantic): the app surely uses them
    itself, and paxx cannot tell the user's own line from the one it added. Returns the
    changes as (verb, what) and notes for the user.
    """
    # New [tool.*] tables first, then [dependency-groups] (appended at the end): tomlkit lays
    # them out the same way whichever order features were added in.
    needs = code_needs(catalog, features, package_dir, files)
    added_config, notes = update_project_config(document, root, needs)
    changes: list[tuple[str, str]] = []
    for key, edit in (
        ("dependencies", update_dependencies),
        ("dev_dependencies", update_dev_group),
    ):

        def requirements(names: Iterable[str], key: str = key) -> set[str]:
            return {d for f in names for d in getattr(catalog.features[f].profile, key)}

        wanted = sorted(requirements(features))
        every = [requirements(select(catalog, [name], {}).features) for name in catalog.features]
        framework = set.intersection(*every) if every else set()
        dropped = sorted(requirements(dropped_features) - framework)
        managed = requirements(catalog.features)
        added, removed = edit(document, wanted, dropped, managed)
        label = "dependency" if key == "dependencies" else "dev dependency"
        changes += [("add", f"{label} {d}") for d in added]
        changes += [("remove", f"{label} {d}") for d in removed]
    changes += [("add", what) for what in added_config]
    return changes, notes
