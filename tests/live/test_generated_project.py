"""A project with every feature, as its user has it: its own venv, its own tests, live services.

paxx writes the project; `paxx up` starts its services; the project is installed into a fresh
virtual environment from its own pyproject.toml only (tests/userproject.py); its modules import
from another folder, pass ruff and mypy --strict; then a test file of the user's, run with the
project's own pytest, talks to every service through the generated modules. Another file can
be run the same way: drop it in tests/live/in_project/ and pass it to `project.pytest`.
Redis and PostgreSQL are real; MinIO, Mailpit, Meilisearch and Jaeger are stand-ins.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import Runner
from live.conftest import ALL_FEATURES
from userproject import UserProject

IN_PROJECT = Path(__file__).parent / "in_project"


def test_generated_project_real_and_standin_services_from_its_own_venv(
    live: Callable[..., Path], paxx: Runner, tmp_path: Path
) -> None:
    root = live("standalone")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.paxx]\npackage = "shop"\n')
    added = paxx(root, "feature", "add", *ALL_FEATURES)
    assert added.code == 0, added.output
    started = paxx(root, "up", "--timeout", "120")
    assert started.code == 0, started.output

    project = UserProject(root, "shop")
    project.install()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    project.import_all(cwd=elsewhere)
    project.ruff()
    project.mypy()
    project.pytest(IN_PROJECT / "services_check.py", args=["-q"])
