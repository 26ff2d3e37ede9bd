"""The wiring paxx composes from the declared features: rendered per feature set, and kept once edited.

wiring.py (the app), the worker's start-up in tasks.py and the Alembic files are compared
byte for byte with golden copies for a few feature sets (tests/unit/golden/wiring/); that
they import only what their features declare is tests/unit/test_generated_imports.py, and
that they pass ruff and mypy --strict is tests/unit/test_generated_code.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import Runner, make_project
from paxx_env.catalog import load_catalog, select
from paxx_env.render import render_client_modules

GOLDEN = Path(__file__).parent / "golden" / "wiring"
CATALOG = load_catalog()

#: Feature sets whose wiring differs in kind: one service, the worker with mail and traces,
#: the database with its migrations, and search on PostgreSQL.
SETS = [["cache"], ["email", "tasks", "tracing"], ["vector"], ["db", "search"]]
WIRED = ("shop/wiring.py", "shop/tasks.py", "alembic.ini", "shop/migrations/")


@pytest.mark.parametrize("features", SETS, ids=["+".join(s) for s in SETS])
def test_wiring_matches_golden_files(features: list[str]) -> None:
    closure = select(CATALOG, features, {}).features
    rendered = render_client_modules(CATALOG, closure, "shop", "shop").files
    files = {path: content for path, content in rendered.items() if path.startswith(WIRED)}
    folder = GOLDEN / "+".join(features)
    if os.environ.get("PAXX_UPDATE_GOLDEN"):
        for path, content in files.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(content)
    golden = {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
    assert files == golden, "set PAXX_UPDATE_GOLDEN=1 to accept an intended change"


def test_the_app_opens_and_probes_exactly_the_declared_features() -> None:
    for features in SETS:
        closure = select(CATALOG, features, {}).features
        text = render_client_modules(CATALOG, closure, "shop", "shop").files["shop/wiring.py"]
        probed = {
            line.split('"')[1]
            for line in text.decode().splitlines()
            if line.startswith('    "') and "(probe_" in line
        }
        assert probed == set(closure) - {"vector"}, features  # vector's service is db's


def test_no_feature_no_wiring() -> None:
    assert render_client_modules(CATALOG, (), "shop", "shop").files == {}


def test_wiring_follows_the_features_until_edited_then_is_kept(
    tmp_path: Path, paxx: Runner
) -> None:
    root = make_project(tmp_path / "shop", "shop")
    assert paxx(root, "feature", "add", "cache").code == 0
    wiring = root / "shop" / "wiring.py"
    assert "probe_cache" in wiring.read_text()
    assert paxx(root, "feature", "add", "storage").code == 0
    assert "probe_storage" in wiring.read_text()  # untouched: regenerated

    edited = wiring.read_text() + "\n# my route\n"
    wiring.write_text(edited)
    added = paxx(root, "feature", "add", "db")
    assert added.code == 0, added.output  # not a conflict
    assert wiring.read_text() == edited
    assert "shop/wiring.py" in added.output and "skip" in added.output
    assert "shop/wiring.py is yours (edited), so paxx left it as it is" in added.output
    assert (root / "shop" / "db.py").is_file()

    again = paxx(root, "feature", "add", "db")  # a kept file is not a change
    assert again.code == 0, again.output
    assert "Nothing to change: db already enabled." in again.output
    assert "Enabled" not in again.output and wiring.read_text() == edited

    removed = paxx(root, "feature", "remove", "cache", "storage", "db")
    assert removed.code == 0, removed.output
    assert wiring.read_text() == edited  # no longer generated, still not deleted
    assert not (root / "alembic.ini").exists()  # untouched paxx files go


def test_an_alembic_set_up_of_the_users_own_is_kept(tmp_path: Path, paxx: Runner) -> None:
    root = make_project(tmp_path / "shop", "shop")
    (root / "alembic.ini").write_text("[alembic]\nscript_location = db/migrations\n")
    added = paxx(root, "feature", "add", "db")
    assert added.code == 0, added.output
    assert (root / "alembic.ini").read_text() == "[alembic]\nscript_location = db/migrations\n"
    assert (root / "shop" / "migrations" / "env.py").is_file()
