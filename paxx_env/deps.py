"""The dependencies features add to [project].dependencies, edited with tomlkit.

paxx adds a requirement only when no requirement of that name is there yet, and removes only
the exact strings it would add itself, so a dependency the user pinned is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from tomlkit.items import Array
from tomlkit.toml_document import TOMLDocument

from paxx_env.errors import ConfigError


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
    array = project.get("dependencies")
    if array is None:
        array = tomlkit.array()
        array.multiline(True)
        project["dependencies"] = array
        array = project["dependencies"]
    if not isinstance(array, Array):
        raise ConfigError(
            "pyproject.toml: [project].dependencies must be an array of requirement strings",
            'write it as an array, e.g. dependencies = ["fastapi>=0.110"]',
        )
    present = {requirement_name(str(item)) for item in array}
    added = []
    for requirement in wanted:
        if requirement_name(requirement) not in present:
            array.append(requirement)
            present.add(requirement_name(requirement))
            added.append(requirement)
    removed = []
    drop = [d for d in dropped if not any(_same(d, w) for w in wanted)]
    for index in reversed(range(len(array))):
        item = str(array[index])
        if any(_same(item, d) for d in drop):
            del array[index]
            removed.append(item)
    if added:
        _sort_managed_tail(array, set(managed) | set(added))
    return added, sorted(removed)


def _sort_managed_tail(array: Array, managed: set[str]) -> None:
    tail: list[str] = []
    while len(array) and str(array[-1]) in managed:
        tail.append(str(array[-1]))
        del array[-1]
    for requirement in sorted(tail):
        array.append(requirement)
