"""What paxx generates installs, imports, type-checks and packages on its own.

Each project here is made by paxx and installed into a fresh virtual environment from its own
pyproject.toml only (tests/userproject.py): what paxx declared is all it gets. Imports run
from another folder with no .env and no variables, as settings are read only when a client is
opened. Needs PyPI (uv caches what it downloads); no Docker.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Runner, make_project
from paxx_env.catalog import load_catalog
from userproject import UserProject

CATALOG = load_catalog()
ALL = sorted(CATALOG.features)

HATCHLING = '\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'


def generated(tmp_path: Path, paxx: Runner, *features: str, extra: str = "") -> UserProject:
    """A project named shop (no package folder yet) with `features` added by paxx."""
    root = make_project(tmp_path / "shop", "shop")
    if extra:
        (root / "pyproject.toml").write_text((root / "pyproject.toml").read_text() + extra)
    result = paxx(root, "feature", "add", *features)
    assert result.code == 0, result.output
    return UserProject(root, "shop")


@pytest.mark.parametrize("feature", ALL)
def test_each_feature_alone_installs_from_its_pyproject_and_imports(
    tmp_path: Path, paxx: Runner, feature: str
) -> None:
    project = generated(tmp_path, paxx, feature)
    project.install(groups=(), tools=())
    assert project.modules(), "every feature generates a client module"
    project.import_all(cwd=tmp_path)


def test_all_features_install_import_and_pass_ruff_and_mypy_strict(
    tmp_path: Path, paxx: Runner
) -> None:
    project = generated(tmp_path, paxx, *ALL)
    project.install()
    project.import_all(cwd=tmp_path)
    project.ruff()
    project.mypy()  # with the [tool.mypy] paxx wrote (the pydantic plugin), nothing else


def test_lowest_declared_versions_install_import_and_type_check(
    tmp_path: Path, paxx: Runner
) -> None:
    """The floors are true: every declared requirement at its lowest version still works."""
    project = generated(tmp_path, paxx, *ALL)
    project.install(resolution="lowest-direct")
    project.import_all(cwd=tmp_path)
    project.mypy()


@pytest.mark.parametrize(
    ("backend", "extra", "package_dir"),
    [
        ("setuptools (no [build-system])", "", "shop"),
        ("setuptools, src layout", '\n[tool.paxx]\npackage = "src/shop"\n', "src/shop"),
        ("hatchling", HATCHLING, "shop"),
    ],
    ids=["setuptools-default", "setuptools-src-layout", "hatchling"],
)
def test_the_wheel_ships_every_generated_file(
    tmp_path: Path, paxx: Runner, backend: str, extra: str, package_dir: str
) -> None:
    project = generated(tmp_path, paxx, *ALL, extra=extra)
    folder = project.root / package_dir
    written = sorted(str(p.relative_to(folder.parent)) for p in folder.rglob("*") if p.is_file())
    assert "shop/__init__.py" in written and "shop/templates/email/welcome.html" in written
    files = project.wheel(tmp_path / "dist")
    missing = sorted(set(written) - set(files))
    assert missing == [], f"{backend}: not in the wheel: {missing}"
