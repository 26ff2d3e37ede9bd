"""--paxx-reuse-db against the running PostgreSQL: the template and its spares serve the next run.

A user's suite runs in a subprocess, in a project paxx generated (its alembic.ini and
migrations folder included), with `paxx_reuse_db = true` in its pytest options. Its
preparation hook notes each call in a file; each test writes a row and asserts it sees only
that row, so a database handed on with somebody else's row fails the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import asyncpg

from conftest import Runner, run_pytest
from live.test_pytest_plugin import _summary, _variables, _write_suite

CONFTEST = """
import asyncpg
from pathlib import Path


async def pytest_paxx_prepare_database(database_url):
    with (Path(__file__).parent / "hook-calls.txt").open("a") as calls:
        calls.write("called\\n")
    connection = await asyncpg.connect(database_url)
    await connection.execute("CREATE TABLE notes (id serial PRIMARY KEY, text text)")
    await connection.close()
"""

SUITE = """
import asyncio

import asyncpg
import pytest


async def write_and_count(url):
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("INSERT INTO notes (text) VALUES ('mine')")
        return await connection.fetchval("SELECT count(*) FROM notes")
    finally:
        await connection.close()


@pytest.mark.parametrize("n", range(6))
def test_only_my_row(paxx_db_url, n):
    assert asyncio.run(write_and_count(paxx_db_url)) == 1
"""

INI = """
[tool.pytest.ini_options]
paxx_reuse_db = true
"""


async def _databases(url: str) -> dict[str, int]:
    """Name -> oid of every database on the server."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT datname, oid FROM pg_database")
        return {row["datname"]: row["oid"] for row in rows}
    finally:
        await connection.close()


async def _write_into(url: str, names: list[str]) -> None:
    """Somebody else connects to each of these databases and writes a row."""
    for name in names:
        connection = await asyncpg.connect(url.rsplit("/", 1)[0] + "/" + name)
        try:
            await connection.execute("INSERT INTO notes (text) VALUES ('not yours')")
        finally:
            await connection.close()


def test_the_kept_template_serves_later_runs_until_what_it_is_made_from_changes(
    live: Callable[..., Path], paxx: Runner
) -> None:
    root = live("keepdb", "db")
    assert paxx(root, "up").code == 0
    _write_suite(root, {"tests/conftest.py": CONFTEST, "tests/test_kept.py": SUITE}, INI)
    url = _variables(paxx, root)["DATABASE_URL"]
    calls = root / "tests" / "hook-calls.txt"

    def run(*args: str) -> dict[str, int]:
        result = run_pytest(root, "-q", "-p", "no:randomly", *args, "tests")
        assert result.code == 0, result.output
        assert _summary(result).startswith("6 passed"), result.output
        found = asyncio.run(_databases(url))
        others = {"app", "postgres", "template0", "template1"}
        leftovers = [name for name in found if name not in others and "_keep_" not in name]
        assert leftovers == [], "a run left databases under its own name"
        return {name: oid for name, oid in found.items() if "_keep_" in name}

    def template(kept: dict[str, int]) -> tuple[str, int]:
        (name,) = [name for name in kept if name.endswith("_template")]
        return name, kept[name]

    def spares(kept: dict[str, int]) -> list[str]:
        return sorted(name for name in kept if "_spare_" in name)

    first = run()
    assert calls.read_text().count("called") == 1
    assert spares(first), "the run kept no spare database"

    # The next run uses the same template and takes the spares, without calling the hook.
    second = run()
    assert calls.read_text().count("called") == 1
    assert template(second) == template(first)
    assert set(spares(first)) - set(spares(second)), "no spare was taken"

    # Spares somebody wrote to since they were kept are dropped, not handed to a test.
    asyncio.run(_write_into(url, spares(second)))
    third = run()
    assert calls.read_text().count("called") == 1
    assert not set(spares(second)) & set(third)

    # A change to the hook's code makes a new template; the old one and its spares go.
    hook = root / "tests" / "conftest.py"
    hook.write_text(hook.read_text().replace("text text", "text text NOT NULL"))
    fourth = run()
    assert calls.read_text().count("called") == 2
    assert template(fourth)[0] != template(third)[0]
    assert not set(third) & set(fourth)

    # So does a new Alembic migration (the folder alembic.ini names).
    (versions,) = root.glob("*/migrations/versions")  # the package is named after the project
    (versions / "0001_notes.py").write_text('revision = "0001"\ndown_revision = None\n')
    fifth = run()
    assert calls.read_text().count("called") == 3
    assert template(fifth)[0] != template(fourth)[0]

    # --paxx-create-db makes it again under the same name, once per run, also with xdist.
    sixth = run("--paxx-create-db", "-n", "2")
    assert calls.read_text().count("called") == 4
    assert template(sixth)[0] == template(fifth)[0]
    assert template(sixth)[1] != template(fifth)[1]
    assert not set(spares(fifth)) & set(sixth)

    # Two workers share the kept template and take spares without clashing.
    seventh = run("-n", "2")
    assert calls.read_text().count("called") == 4
    assert template(seventh) == template(sixth)
