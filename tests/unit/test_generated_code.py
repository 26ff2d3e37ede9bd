"""The client modules paxx generates pass ruff and mypy --strict inside a generated project.

Here with the libraries of paxx's own test environment (no network); tests/install/ does the
same in a fresh environment made from the generated pyproject.toml only.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Runner, make_project
from paxx_env.catalog import load_catalog

ALL = sorted(load_catalog().features)

RUFF_CONFIG = """
[tool.ruff]
line-length = 100
target-version = "py311"

[tool.ruff.lint]
select = ["E", "F", "W", "I", "B", "UP", "SIM", "RUF", "ASYNC"]
"""


# Every feature alone (a module may render differently without its neighbours) and all at once.
SETS = [[name] for name in ALL] + [ALL]


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for every generated project: the libraries are analysed once."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.mark.parametrize(
    "features", SETS, ids=["+".join(s) if len(s) == 1 else "all" for s in SETS]
)
def test_generated_modules_pass_ruff_and_mypy_strict(
    tmp_path: Path, paxx: Runner, features: list[str], mypy_cache: Path
) -> None:
    root = make_project(tmp_path / "shop", "shop")  # no package folder: paxx makes one
    (root / "pyproject.toml").write_text((root / "pyproject.toml").read_text() + RUFF_CONFIG)
    result = paxx(root, "feature", "add", *features)
    assert result.code == 0, result.output
    modules = sorted(p.name for p in (root / "shop").glob("*.py") if p.name != "__init__.py")
    assert modules, "every feature generates a client module"
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "shop"], cwd=root, capture_output=True, text=True
    )
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    fmt = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "shop"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    mypy = subprocess.run(
        # with the [tool.mypy] paxx wrote (the pydantic plugin), as the project had none
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(mypy_cache), "shop"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
