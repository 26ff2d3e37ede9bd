"""What the generated code needs from pyproject.toml besides its dependencies.

- `requires-python`: set to the features' floor when [project] has none; one the user set is
  never raised, lowered or rewritten: when it admits an older Python, a note says so.
- mypy plugins: paxx owns the mypy configuration only when the project has none (no
  [tool.mypy], mypy.ini, .mypy.ini, or [mypy] in setup.cfg); then it writes [tool.mypy] with
  the plugins. A configuration of the user's is left as it is, with a note naming what is
  missing.
- setuptools package data: files the code reads at run time (the non-Python files generated
  into the package, e.g. email templates) ship in a wheel only when setuptools is told, so for
  a setuptools build (the default when [build-system] names no backend) paxx adds their globs
  to [tool.setuptools.package-data]. Other backends ship every file of the package.

paxx only adds to these; it never removes them (a floor or a plugin left behind is harmless).
"""

from __future__ import annotations

import configparser
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import tomlkit
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from tomlkit.items import Array
from tomlkit.toml_document import TOMLDocument

from paxx_env.catalog import Catalog

#: Files that configure mypy, in mypy's own order of precedence (pyproject.toml between them).
MYPY_FILES = ("mypy.ini", ".mypy.ini", "setup.cfg")


@dataclass(frozen=True)
class CodeNeeds:
    """What the generated code of some features needs from the project."""

    requires_python: str = ""
    mypy_plugins: tuple[str, ...] = ()
    package: str = ""
    package_data: tuple[str, ...] = ()


def code_needs(
    catalog: Catalog, features: Iterable[str], package_dir: str, files: Iterable[str]
) -> CodeNeeds:
    """The needs of `features` (a closure) whose render wrote `files` into `package_dir`."""
    profiles = [catalog.features[name].profile for name in features]
    floors = [p.requires_python for p in profiles if p.requires_python]
    floor = max(floors, key=lambda f: int(f.rsplit(".", 1)[1])) if floors else ""
    plugins = sorted({plugin for p in profiles for plugin in p.mypy_plugins})
    data = set()
    for path in files if package_dir else ():
        if path.startswith(f"{package_dir}/") and not path.endswith(".py"):
            relative = PurePosixPath(path).relative_to(package_dir)
            data.add(str(relative.parent / f"*{relative.suffix}"))
    package = package_dir.removeprefix("src/").replace("/", ".")
    return CodeNeeds(floor, tuple(plugins), package, tuple(sorted(data)))


def update_project_config(
    document: TOMLDocument, root: Path, needs: CodeNeeds
) -> tuple[list[str], list[str]]:
    """Add what `needs` asks for to the pyproject `document`; (what was added, notes)."""
    project = document.get("project")
    if not isinstance(project, dict):
        return [], []
    added: list[str] = []
    notes: list[str] = []
    if needs.requires_python:
        current = project.get("requires-python")
        if current is None:
            project["requires-python"] = needs.requires_python
            added.append(f"requires-python {needs.requires_python}")
        elif _admits_older(str(current), needs.requires_python):
            notes.append(
                f"the generated code needs Python {needs.requires_python}, but "
                f'requires-python = "{current}" admits older ones: raise it in pyproject.toml'
            )
    if needs.mypy_plugins:
        added += _mypy_plugins(document, root, needs.mypy_plugins, notes)
    if needs.package_data and needs.package and _builds_with_setuptools(document):
        added += _package_data(document, needs.package, needs.package_data)
    return added, notes


def _admits_older(current: str, floor: str) -> bool:
    """Whether the specifier `current` admits a Python older than `floor` (">=3.X")."""
    try:
        specifiers = SpecifierSet(current)
    except InvalidSpecifier:
        return False
    minor = int(floor.rsplit(".", 1)[1])
    older = [f"3.{m}{patch}" for m in range(minor) for patch in ("", ".99")]
    return any(specifiers.contains(version, prereleases=True) for version in older)


def _mypy_plugins(
    document: TOMLDocument, root: Path, plugins: tuple[str, ...], notes: list[str]
) -> list[str]:
    tool = document.get("tool")
    table = tool.get("mypy") if isinstance(tool, dict) else None
    if table is None:
        other = _other_mypy_config(root)
        if other is None:
            _add_tool_table(document, ("mypy",), {"plugins": list(plugins)})
            return [f"[tool.mypy] plugins = {json.dumps(list(plugins))}"]
        where, configured = other
    else:
        where, configured = "[tool.mypy] in pyproject.toml", _plugin_list(table.get("plugins"))
    missing = [plugin for plugin in plugins if plugin not in configured]
    if missing:
        notes.append(
            f"mypy: add {', '.join(missing)} to plugins in {where}: the generated "
            "settings classes need it to type-check"
        )
    return []


def _other_mypy_config(root: Path) -> tuple[str, list[str]] | None:
    """The mypy configuration file outside pyproject.toml and its plugins, if there is one."""
    for name in MYPY_FILES:
        path = root / name
        if not path.is_file():
            continue
        parser = configparser.ConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            return name, []
        if parser.has_section("mypy"):
            return f"[mypy] in {name}", _plugin_list(parser.get("mypy", "plugins", fallback=""))
        if name != "setup.cfg":  # mypy reads these files even without a [mypy] section
            return f"[mypy] in {name}", []
    return None


def _plugin_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | Array):
        return [str(item).strip() for item in value]
    return []


def _builds_with_setuptools(document: TOMLDocument) -> bool:
    """Whether setuptools builds the project: it is named, or no backend is (the default)."""
    build = document.get("build-system")
    backend = build.get("build-backend") if isinstance(build, dict) else None
    return backend is None or str(backend).startswith("setuptools")


def _package_data(document: TOMLDocument, package: str, patterns: tuple[str, ...]) -> list[str]:
    tool = document.get("tool")
    setuptools = tool.get("setuptools") if isinstance(tool, dict) else None
    data = setuptools.get("package-data") if isinstance(setuptools, dict) else None
    if data is None:
        _add_tool_table(document, ("setuptools", "package-data"), {package: list(patterns)})
        added = list(patterns)
    else:
        if not isinstance(data, dict):
            return []  # a setuptools configuration paxx does not understand: left as it is
        if data.get(package) is None:
            data[package] = tomlkit.array()
        current = data.get(package)
        if not isinstance(current, Array):
            return []
        present = {str(item) for item in current}
        added = [pattern for pattern in patterns if pattern not in present]
        for pattern in added:
            current.append(pattern)
    return [f"[tool.setuptools.package-data] {package}: {pattern}" for pattern in added]


def _add_tool_table(document: TOMLDocument, path: tuple[str, ...], content: dict[str, Any]) -> None:
    """Add the missing table [tool.PATH] with `content`, among the other [tool.*] tables.

    tomlkit puts a blank line before a table it inserts there but not after it, so one is
    added when other tables follow: the file then reads the same whichever order features
    were added in.
    """
    table: Any = tomlkit.table()
    table.update(content)
    tool = document.get("tool")
    if tool is not None and list(document)[-1] != "tool":
        table.add(tomlkit.nl())
    parent: Any = document
    keys = ("tool", *path)
    depth = 0
    while parent.get(keys[depth]) is not None:
        parent = parent[keys[depth]]
        depth += 1
    for key in reversed(keys[depth + 1 :]):
        outer = tomlkit.table(is_super_table=True)
        outer[key] = table
        table = outer
    parent[keys[depth]] = table
