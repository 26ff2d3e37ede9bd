"""Every generated module imports only what its features declare, in every combination.

A user's project gets the client modules of its features and, in pyproject.toml, the
requirements those features declare; nothing else. So every import a rendered module makes at
the top level must be the standard library, another module rendered with it, or a distribution
declared by the features rendered (its feature and what that requires). Imports under
`if TYPE_CHECKING:` may also come from the dev dependency group. Imports inside functions run
only when called and must be guarded (try/except ImportError, with a clear message).

Which distribution a module belongs to is read from the files each installed distribution
lists (the test extra installs every library the generated code uses).
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import importlib.util
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from paxx_env.catalog import load_catalog, select
from paxx_env.render import render_client_modules

CATALOG = load_catalog()
ALL = sorted(CATALOG.features)
PACKAGE = "shop"

#: Distributions the generated code imports without declaring them, each brought by a
#: declared one that requires (and pins) it: declaring them too would only add pins that can
#: fight the parent's.
VIA = {
    "starlette": ("fastapi", "FastAPI is built on Starlette; telemetry.py uses its ASGI types"),
    "aiobotocore": ("aioboto3", "aioboto3 pins the aiobotocore it wraps (AioConfig)"),
    "botocore": ("aioboto3", "through aiobotocore, which pins it (ClientError)"),
    "types-aiobotocore-s3": ("types-aioboto3", "the stubs' [s3] extra"),
}

#: Declared distributions no generated module imports, and why they are needed all the same.
NOT_IMPORTED = {
    "asyncpg": "SQLAlchemy loads it for postgresql+asyncpg:// URLs",
    "uvicorn": "the ASGI server that runs the app",
    "websockets": "the library uvicorn serves WebSockets with",
}


def requirements(features: list[str], key: str = "dependencies") -> list[Requirement]:
    closure = select(CATALOG, features, {}).features
    return [Requirement(r) for f in closure for r in getattr(CATALOG.features[f].profile, key)]


def declared(features: list[str], key: str = "dependencies") -> set[str]:
    """The distributions installed for `features`: declared, and those VIA brings with them."""
    names = {canonicalize_name(r.name) for r in requirements(features, key)}
    return names | {child for child, (parent, _) in VIA.items() if parent in names}


@functools.cache
def owners() -> dict[str, str]:
    """Installed file (resolved path) -> the distribution that ships it."""
    files = {}
    for dist in importlib.metadata.distributions():
        for file in dist.files or ():
            files[os.path.normpath(dist.locate_file(file))] = canonicalize_name(
                dist.metadata["Name"]
            )
    return files


@functools.cache
def distribution_of(module: str) -> str:
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"{module} is not installed in the test environment"
    where = spec.origin if spec.origin not in (None, "namespace") else None
    if where is None:  # a namespace package: any of its files names the distribution
        where = next(iter(spec.submodule_search_locations or ()))
        where = str(next(p for p in Path(where).rglob("*.py")))
    owner = owners().get(os.path.normpath(where))
    assert owner, f"no installed distribution ships {module} ({where})"
    return owner


@functools.cache
def top_level_imports(source: str) -> tuple[tuple[str, bool, int], ...]:
    """(module, for type checking only, line) of every import run when the module loads."""
    return tuple(_walk_imports(ast.parse(source)))


def _walk_imports(tree: ast.Module) -> Iterator[tuple[str, bool, int]]:

    def walk(body: list[ast.stmt], typing_only: bool) -> Iterator[tuple[str, bool, int]]:
        for node in body:
            if isinstance(node, ast.Import):
                yield from ((alias.name, typing_only, node.lineno) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0 and node.module, f"line {node.lineno}: a relative import"
                yield node.module, typing_only, node.lineno
            elif isinstance(node, ast.If):
                checking = ast.unparse(node.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}
                yield from walk(node.body, typing_only or checking)
                yield from walk(node.orelse, typing_only)
            elif isinstance(node, ast.Try):
                for block in (node.body, node.orelse, node.finalbody):
                    yield from walk(block, typing_only)

    yield from walk(tree.body, False)


@functools.cache
def unguarded_nested_imports(source: str) -> tuple[int, ...]:
    """Lines of imports inside functions that no `except ImportError` guards."""
    lines = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        guarded = set()
        for node in ast.walk(function):
            if isinstance(node, ast.Try) and any(
                h.type is not None and "ImportError" in ast.unparse(h.type) for h in node.handlers
            ):
                guarded |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in guarded:
                lines.append(node.lineno)
    return tuple(lines)


def problems(features: list[str]) -> list[str]:
    """What a project with exactly `features` would fail to import."""
    closure = select(CATALOG, features, {}).features
    files = render_client_modules(CATALOG, closure, "shop", PACKAGE).files
    runtime, dev = declared(list(closure)), declared(list(closure), "dev_dependencies")
    found = []
    for path, content in sorted(files.items()):
        if not path.endswith(".py"):
            continue
        for module, typing_only, line in top_level_imports(content.decode()):
            top = module.partition(".")[0]
            where = f"{'+'.join(features)}: {path}:{line} imports {module}"
            if top in sys.stdlib_module_names or top == "__future__":
                continue
            if top == PACKAGE:
                if f"{module.replace('.', '/')}.py" not in files:
                    found.append(f"{where}, which is not generated with it")
                continue
            owner = distribution_of(module)
            if owner not in runtime and not (typing_only and owner in dev):
                found.append(f"{where} from {owner}, which is not declared")
        for line in unguarded_nested_imports(content.decode()):
            found.append(f"{'+'.join(features)}: {path}:{line}: an unguarded import in a function")
    return found


@pytest.mark.parametrize("feature", ALL)
def test_each_feature_alone_imports_only_what_it_declares(feature: str) -> None:
    assert problems([feature]) == []


def test_every_combination_of_features_imports_only_what_it_declares() -> None:
    """All 2^n - 1 sets: a module may render differently next to another feature (search
    grows a PostgreSQL backend, and imports db.py, when db is there too)."""
    found = []
    for size in range(2, len(ALL) + 1):
        for combination in itertools.combinations(ALL, size):
            found += problems(list(combination))
    assert found == []


def test_every_declared_distribution_is_imported_or_has_a_reason() -> None:
    for name in ALL:
        own = [Requirement(r) for r in CATALOG.features[name].profile.dependencies]
        files = render_client_modules(
            CATALOG, select(CATALOG, [name], {}).features, "shop", PACKAGE
        ).files
        imported = {
            distribution_of(module)
            for path, content in files.items()
            if path.endswith(".py")
            for module, _, _ in top_level_imports(content.decode())
            if module.partition(".")[0] not in {*sys.stdlib_module_names, "__future__", PACKAGE}
        }
        for requirement in own:
            dist = canonicalize_name(requirement.name)
            assert dist in imported or dist in NOT_IMPORTED, f"{name}: {dist} is never imported"


def test_a_distribution_is_declared_with_the_same_string_by_every_feature() -> None:
    """paxx adds a requirement once and removes only the exact strings features declare."""
    seen: dict[str, str] = {}
    for name in ALL:
        profile = CATALOG.features[name].profile
        for text in (*profile.dependencies, *profile.dev_dependencies):
            dist = canonicalize_name(Requirement(text).name)
            assert seen.setdefault(dist, text) == text, f"{name}: {text} vs {seen[dist]}"


@pytest.mark.parametrize("child", sorted(VIA))
def test_what_the_code_imports_undeclared_comes_with_its_parent(child: str) -> None:
    parent, _ = VIA[child]
    extras = {
        extra
        for name in ALL
        for r in requirements([name]) + requirements([name], "dev_dependencies")
        if canonicalize_name(r.name) == parent
        for extra in r.extras
    }
    todo, seen = [(parent, frozenset(extras))], set()
    while todo:
        dist, wanted = todo.pop()
        if (dist, wanted) in seen:
            continue
        seen.add((dist, wanted))
        for text in importlib.metadata.requires(dist) or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in wanted):
                todo.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    assert child in {dist for dist, _ in seen}, f"{parent} does not bring {child}"


def test_modules_import_from_any_folder_without_settings(tmp_path: Path) -> None:
    """Settings are read when a client is opened, never on import (no .env, no variables)."""
    root = tmp_path / "project"
    for path, content in render_client_modules(CATALOG, tuple(ALL), "shop", PACKAGE).files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(content)
    (root / PACKAGE / "__init__.py").write_text("")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    modules = sorted(p.stem for p in (root / PACKAGE).glob("*.py") if p.stem != "__init__")
    code = "; ".join(f"import {PACKAGE}.{m}" for m in modules)
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(root), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    # every module the features generate at the package's top (migrations/ is a folder of
    # its own), and wiring.py composed from them all
    files = [i for f in ALL for i in CATALOG.features[f].profile.files if i.place == "package"]
    top = [i.target for i in files if i.target.endswith(".py") and "/" not in i.target]
    assert len(modules) == len(top) + 1
