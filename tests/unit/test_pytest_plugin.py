"""The pytest plugin without services: inert where paxx is not used, clear where it cannot work.

Each test runs pytest in a subprocess on a small test file, as a user would: the plugin loads
through its `pytest11` entry point. The live tests (tests/live/test_pytest_plugin*.py) cover
the fixtures against the running services.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import Runner, make_project, run_cli, run_pytest, tree_checksum
from paxx_env.catalog import load_catalog
from paxx_env.fsio import exclusive_lock
from paxx_env.paths import project_lock_path
from paxx_env.testing.environment import Lookahead, suggestion
from paxx_env.testing.keyvalue import database_of, with_database
from paxx_env.testing.mailbox import sender_for
from paxx_env.testing.pgadmin import database_url, quoted
from paxx_env.testing.run import Run
from paxx_env.testing.spans import _spans_of, resource_attributes

NOWHERE = "unix:///nonexistent/docker.sock"
PYTEST_INI = '\n[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n'

INERT_SUITE = """
import sys


def test_nothing_of_paxx_is_loaded_but_the_plugin(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("paxx")
    loaded = sorted(m for m in sys.modules if m.startswith("paxx_env"))
    assert loaded == [
        "paxx_env", "paxx_env.errors", "paxx_env.paths", "paxx_env.testing",
        "paxx_env.testing.hookspecs", "paxx_env.testing.plugin",
    ], loaded
    heavy = [m for m in ("pydantic", "jinja2", "yaml", "tomlkit", "python_on_whales", "asyncpg")
             if m in sys.modules]
    assert heavy == []
"""

ONE_OF_EACH = """
def test_db(paxx_db_url): pass
def test_redis(paxx_redis_url): pass
def test_bucket(paxx_s3_bucket): pass
def test_mail(paxx_mailbox): pass
def test_index(paxx_search_index): pass
def test_spans(paxx_spans): pass
def test_plain(): pass
"""


def _declared(project: Path, *features: str) -> Path:
    assert run_cli(project, "feature", "add", *features).code == 0
    with (project / "pyproject.toml").open("a") as out:
        out.write(PYTEST_INI)
    return project


def _errors(output: str) -> dict[str, list[str]]:
    """Test name -> the lines of its setup error, from pytest's report."""
    found: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        if line.startswith("_") and " ERROR at setup of " in line:
            current = line.split(" ERROR at setup of ")[1].strip(" _")
            found[current] = []
        elif line.startswith(("=", "_")):
            current = None
        elif current is not None and line:
            found[current].append(line)
    return found


def test_a_project_without_paxx_loads_nothing_and_writes_nothing(tmp_path: Path) -> None:
    root = make_project(tmp_path / "plain", "plain")
    (root / "test_inert.py").write_text(INERT_SUITE)
    before = tree_checksum(root)
    result = run_pytest(root, "-q")
    assert result.code == 0, result.output
    assert "1 passed" in result.out
    after = {k: v for k, v in tree_checksum(root).items() if "__pycache__" not in k}
    assert after == before


def test_a_project_without_features_says_which_to_add(tmp_path: Path) -> None:
    root = make_project(tmp_path / "plain", "plain")
    (root / "test_each.py").write_text(ONE_OF_EACH)
    result = run_pytest(root, "-q")
    assert result.code == 1, result.output
    assert "1 passed, 6 errors" in result.out
    errors = _errors(result.out)
    fixes = {name: lines[-1] for name, lines in errors.items()}
    assert fixes == {
        "test_db": "  fix: paxx feature add db",
        "test_redis": "  fix: paxx feature add cache",
        "test_bucket": "  fix: paxx feature add storage",
        "test_mail": "  fix: paxx feature add email",
        "test_index": "  fix: paxx feature add search",
        "test_spans": "  fix: paxx feature add tracing",
    }
    assert errors["test_db"] == [
        "paxx: error: paxx_db_url needs a PostgreSQL database, and no feature this project "
        "declares provides one (DATABASE_URL)",
        "  fix: paxx feature add db",
    ]
    assert "Traceback" not in result.output
    assert not (root / ".paxx").exists()


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI (not an engine)")
def test_an_engine_that_does_not_answer_is_two_lines_and_no_traceback(project: Path) -> None:
    root = _declared(project, "cache")
    (root / "test_redis.py").write_text(
        "def test_redis(paxx_redis_url): pass\ndef test_plain(): pass\n"
    )
    before = tree_checksum(root)
    result = run_pytest(root, "-q", env={"DOCKER_HOST": NOWHERE})
    assert result.code == 1, result.output
    assert "1 passed, 1 error" in result.out
    assert _errors(result.out)["test_redis"] == [
        f"paxx: error: the Docker engine is not reachable at {NOWHERE} (Cannot connect to the "
        f"Docker daemon at {NOWHERE}. Is the docker daemon running?)",
        "  fix: start it (e.g. `sudo systemctl start docker`) or point DOCKER_HOST at it",
    ]
    for noise in ("Traceback", "During handling", "raise "):
        assert noise not in result.out, result.out
    assert not re.search(r"\.py:\d+", result.out), result.out  # no frame of a traceback
    after = {k: v for k, v in tree_checksum(root).items() if "__pycache__" not in k}
    assert after == before


def test_a_bad_declaration_is_two_lines(project: Path) -> None:
    root = _declared(project, "cache")
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text.replace('"cache"', '"cahce"'))
    (root / "test_redis.py").write_text("def test_redis(paxx_redis_url): pass\n")
    result = run_pytest(root, "-q")
    assert result.code == 1, result.output
    assert _errors(result.out)["test_redis"] == [
        "paxx: error: pyproject.toml: unknown feature 'cahce'",
        "  fix: did you mean 'cache'?; `paxx feature list` shows all",
    ]


def test_no_project_at_all_names_the_option(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "pytest.ini").write_text("[pytest]\n")
    (suite / "test_x.py").write_text("def test_db(paxx_db_url): pass\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_pytest(suite, "-q", f"--paxx-project={empty}")
    assert _errors(result.out)["test_db"] == [
        f"paxx: error: no pyproject.toml or paxx.toml in {empty} or any folder above it, so "
        "there is no paxx project to test against",
        "  fix: run pytest in the project's folder, or name it with --paxx-project DIR",
    ]


def test_pytest_p_no_paxx_turns_it_off(tmp_path: Path) -> None:
    root = make_project(tmp_path / "plain", "plain")
    (root / "test_x.py").write_text("def test_db(paxx_db_url): pass\n")
    result = run_pytest(root, "-q", "-p", "no:paxx")
    assert "fixture 'paxx_db_url' not found" in result.out


def test_the_help_lists_the_options(tmp_path: Path, paxx: Runner) -> None:
    result = run_pytest(tmp_path, "--help")
    assert "--paxx-project=DIR" in result.out
    assert "--paxx-no-up" in result.out
    assert "--paxx-reuse-db" in result.out
    assert "--paxx-create-db" in result.out
    assert "paxx_reuse_db_inputs" in result.out


# ----------------------------------------------------------------------------- names


def test_namespaces_are_unique_fixed_width_and_valid_everywhere() -> None:
    run = Run("1a2b3c4d", "gw10")
    names = [run.namespace() for _ in range(3)]
    assert names == [
        "paxx-1a2b3c4d-gw10-00001",
        "paxx-1a2b3c4d-gw10-00002",
        "paxx-1a2b3c4d-gw10-00003",
    ]
    other = Run("1a2b3c4d", "gw1").namespace()
    # Mailpit searches by substring: no namespace may be the start of another.
    assert not any(name.startswith(other) or other.startswith(name) for name in names)
    for name in names:  # an S3 bucket name and a Meilisearch uid as they are
        assert len(name) <= 63 and name == name.lower() and name.replace("-", "").isalnum()


def test_the_test_sender_keeps_the_name_and_tags_the_address() -> None:
    assert sender_for("demo <noreply@demo.localhost>", "paxx-x-main-00001") == (
        "demo <noreply+paxx-x-main-00001@demo.localhost>"
    )
    assert sender_for("", "ns") == "noreply+ns@localhost"


def test_urls_get_the_slice_and_keep_the_rest() -> None:
    url = "postgresql://app:p%40ss@127.0.0.1:5450/app?sslmode=disable"
    assert database_url(url, "paxx_1_main_db00001") == (
        "postgresql://app:p%40ss@127.0.0.1:5450/paxx_1_main_db00001?sslmode=disable"
    )
    assert (
        with_database("redis://:s3cr%23t@127.0.0.1:6379/0", 15)
        == "redis://:s3cr%23t@127.0.0.1:6379/15"
    )
    assert (
        database_of("redis://h:1/3"),
        database_of("redis://h:1"),
        database_of("redis://h:1/"),
    ) == (3, 0, 0)
    assert quoted('we"ird') == '"we""ird"'


def test_the_span_attribute_is_added_to_the_users() -> None:
    assert resource_attributes("", "ns") == "paxx.test=ns"
    assert resource_attributes("team=a", "ns") == "team=a,paxx.test=ns"


def test_the_suggested_feature_comes_from_the_catalog() -> None:
    catalog = load_catalog()
    found = {
        variable: suggestion(catalog, variable)
        for variable in (
            "DATABASE_URL",
            "REDIS_URL",
            "AWS_ENDPOINT_URL_S3",
            "MAILPIT_URL",
            "MEILI_URL",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "NOTHING",
        )
    }
    assert found == {
        "DATABASE_URL": "db",  # vector gives it too, but needs db
        "REDIS_URL": "cache",
        "AWS_ENDPOINT_URL_S3": "storage",
        "MAILPIT_URL": "email",
        "MEILI_URL": "search",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "tracing",
        "NOTHING": "",
    }


def test_spans_are_read_from_jaegers_answer() -> None:
    trace = {
        "traceID": "t1",
        "spans": [
            {
                "traceID": "t1",
                "spanID": "b",
                "operationName": "child",
                "startTime": 20,
                "duration": 5,
                "processID": "p1",
                "tags": [{"key": "k", "type": "string", "value": "v"}],
                "references": [{"refType": "CHILD_OF", "traceID": "t1", "spanID": "a"}],
            },
            {
                "traceID": "t1",
                "spanID": "a",
                "operationName": "GET /",
                "startTime": 10,
                "duration": 30,
                "processID": "p1",
                "tags": [],
                "references": [],
            },
        ],
        "processes": {"p1": {"serviceName": "demo", "tags": []}},
    }
    child, root = _spans_of(trace)
    assert (root.name, root.parent_id, root.service, root.duration_us) == (
        "GET /",
        None,
        "demo",
        30,
    )
    assert (child.parent_id, child.attributes) == ("a", {"k": "v"})


def test_the_look_at_session_start_gives_no_answer_rather_than_wait_or_fail(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another paxx command holding the project's lock, or an engine that does not answer:
    no answer (the first fixture then takes the whole path and reports what is wrong)."""
    root = _declared(project, "cache")
    with exclusive_lock(project_lock_path(root)):
        look = Lookahead(root)
        look._thread.join(timeout=10)
        assert not look._thread.is_alive(), "the look waits for the lock"
        assert look.found() is None
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)  # the look reaches the engine: none answers
    assert Lookahead(root).found() is None
