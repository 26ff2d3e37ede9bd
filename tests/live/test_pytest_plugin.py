"""The pytest plugin against the running services: each slice is the test's own, and gone after.

A user's test suite runs in a subprocess (`python -m pytest`, the plugin loading through its
entry point) in a project paxx generated, with pytest-xdist. Its tests write the same row,
key, object, mail, document and span, and each asserts that it sees only its own. A fixture
set up before the paxx fixtures (so torn down after them) checks, after every test, that the
test's bucket and index are gone, its Redis database is empty and its mails are deleted (its
database is emptied for a later test or dropped: each test asserts it sees no other test's
row). After the run this test checks that nothing of the run is left on the services.
Redis and PostgreSQL are the real programs; MinIO, Mailpit, Meilisearch and Jaeger are
protocol stand-ins.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from conftest import Result, Runner, run_pytest
from live.conftest import env_of
from paxx_env.testing.environment import Lookahead

FEATURES = ("db", "vector", "cache", "storage", "email", "search", "tracing")

CONFTEST = '''
import asyncio
import json
import os
import time
import urllib.request

import asyncpg
import botocore.session
import pytest
import redis

BASE = json.loads(os.environ["SUITE_VARIABLES"])  # the app's variables, as paxx env gives them
ORIGINAL_DATABASE_URL = os.environ.get("DATABASE_URL")


async def pytest_paxx_prepare_database(database_url):
    connection = await asyncpg.connect(database_url)
    await connection.execute("CREATE TABLE notes (id int PRIMARY KEY, text text NOT NULL)")
    await connection.close()


def s3_client():
    return botocore.session.get_session().create_client(
        "s3", endpoint_url=BASE["AWS_ENDPOINT_URL_S3"], region_name=BASE["AWS_DEFAULT_REGION"],
        aws_access_key_id=BASE["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=BASE["AWS_SECRET_ACCESS_KEY"],
    )


def meili(path):
    request = urllib.request.Request(
        BASE["MEILI_URL"] + path, headers={"Authorization": "Bearer " + BASE["MEILI_MASTER_KEY"]}
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def mailpit_search(namespace):
    url = BASE["MAILPIT_URL"] + "/api/v1/search?query=from:" + namespace
    with urllib.request.urlopen(url) as answer:
        return json.loads(answer.read())["messages"]


@pytest.fixture
def gone_after():
    """Names a test's slices; after the paxx fixtures are torn down, checks each is gone."""
    names = {}
    yield names
    if "bucket" in names:
        buckets = [b["Name"] for b in s3_client().list_buckets()["Buckets"]]
        assert names["bucket"] not in buckets
    if "index" in names:
        assert meili("/indexes/" + names["index"]) is None
    if "redis" in names:
        assert redis.Redis.from_url(names["redis"]).dbsize() == 0
    if "mail" in names:
        assert mailpit_search(names["mail"]) == []
'''

SUITE = """
import asyncio
import json
import os
import smtplib
import time
import urllib.request
from email.message import EmailMessage

import asyncpg
import pytest
import redis

from conftest import BASE, ORIGINAL_DATABASE_URL, meili, s3_client

SAME = range(8)


@pytest.mark.parametrize("n", SAME)
def test_the_same_row(paxx_db_url, n):
    async def write_and_read():
        connection = await asyncpg.connect(paxx_db_url)
        try:
            assert await connection.fetchval("SELECT count(*) FROM notes") == 0
            vector = "SELECT count(*) FROM pg_extension WHERE extname = 'vector'"
            assert await connection.fetchval(vector) == 1
            await connection.execute("INSERT INTO notes VALUES (1, $1)", f"test {n}")
            await asyncio.sleep(0.05)
            assert [tuple(r) for r in await connection.fetch("SELECT * FROM notes")] == [
                (1, f"test {n}")
            ]
        finally:
            await connection.close()

    asyncio.run(write_and_read())


@pytest.mark.parametrize("n", SAME)
def test_the_same_key(gone_after, paxx_redis_url, n):
    gone_after["redis"] = paxx_redis_url
    client = redis.Redis.from_url(paxx_redis_url)
    assert client.dbsize() == 0
    client.set("same", n)
    time.sleep(0.05)
    assert (client.keys("*"), client.get("same")) == ([b"same"], str(n).encode())


@pytest.mark.parametrize("n", SAME)
def test_the_same_object(gone_after, paxx_settings, paxx_s3_bucket, n):
    gone_after["bucket"] = paxx_s3_bucket
    assert paxx_settings["S3_BUCKET"] == paxx_s3_bucket
    s3 = s3_client()
    s3.put_object(Bucket=paxx_s3_bucket, Key="same.txt", Body=str(n).encode())
    time.sleep(0.05)
    listed = s3.list_objects_v2(Bucket=paxx_s3_bucket).get("Contents", [])
    assert [o["Key"] for o in listed] == ["same.txt"]
    assert s3.get_object(Bucket=paxx_s3_bucket, Key="same.txt")["Body"].read() == str(n).encode()


@pytest.mark.parametrize("n", SAME)
def test_the_same_mail(gone_after, paxx_settings, paxx_mailbox, n):
    gone_after["mail"] = paxx_mailbox.namespace
    message = EmailMessage()
    message["From"] = paxx_settings["EMAIL_FROM"]
    message["To"] = "same@example.com"
    message["Subject"] = "the same subject"
    message.set_content(f"test {n}")
    with smtplib.SMTP(paxx_settings["SMTP_HOST"], int(paxx_settings["SMTP_PORT"])) as smtp:
        smtp.send_message(message)
    found = paxx_mailbox.wait_for(subject="the same subject", to="same@example.com")
    assert found["Text"].strip() == f"test {n}"
    time.sleep(0.1)
    assert len(paxx_mailbox.messages()) == 1


@pytest.mark.parametrize("n", range(4))
def test_the_same_document(gone_after, paxx_settings, paxx_search_index, n):
    gone_after["index"] = paxx_search_index
    key = paxx_settings["MEILI_MASTER_KEY"]
    request = urllib.request.Request(
        f"{paxx_settings['MEILI_URL']}/indexes/{paxx_search_index}/documents",
        data=json.dumps([{"id": 1, "n": n}]).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        task = json.loads(answer.read())["taskUid"]
    while meili(f"/tasks/{task}")["status"] not in ("succeeded", "failed"):
        time.sleep(0.02)
    documents = meili(f"/indexes/{paxx_search_index}/documents")["results"]
    assert documents == [{"id": 1, "n": n}]


@pytest.mark.parametrize("n", range(4))
def test_the_same_span(paxx_settings, paxx_spans, n):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Made during the test: the SDK reads OTEL_* from os.environ, where paxx_settings put them.
    provider = TracerProvider(resource=Resource.create({}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    with provider.get_tracer("suite").start_as_current_span("same", attributes={"n": n}):
        pass
    spans = paxx_spans.wait(count=1)  # arrives within the 50 ms export delay, no flush needed
    provider.shutdown()
    time.sleep(0.2)
    assert [(s.name, s.attributes["n"]) for s in paxx_spans.all()] == [("same", n)]
    assert spans[0].service == paxx_settings["OTEL_SERVICE_NAME"]


def test_the_settings_are_the_tests_own_and_in_the_environment(
    paxx_settings, paxx_db_url, paxx_redis_url, paxx_s3_bucket, paxx_mailbox, paxx_namespace
):
    assert os.environ["DATABASE_URL"] == paxx_settings["DATABASE_URL"] == paxx_db_url
    assert os.environ["REDIS_URL"] == paxx_settings["REDIS_URL"] == paxx_redis_url
    assert os.environ["S3_BUCKET"] == paxx_s3_bucket
    assert os.environ["EMAIL_FROM"] == paxx_mailbox.sender
    assert os.environ["WEBSOCKET_CHANNEL_PREFIX"] == paxx_namespace + ":ws:"
    assert f"paxx.test={paxx_namespace}" in os.environ["OTEL_RESOURCE_ATTRIBUTES"]
    unchanged = set(BASE) - {"DATABASE_URL", "REDIS_URL", "S3_BUCKET", "EMAIL_FROM"}
    assert {k: paxx_settings[k] for k in unchanged} == {k: BASE[k] for k in unchanged}


def test_a_test_without_paxx_settings_sees_the_environment_as_it_was():
    assert os.environ.get("DATABASE_URL") == ORIGINAL_DATABASE_URL
"""

PYTEST_INI = """
[tool.pytest.ini_options]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
"""


def _write_suite(root: Path, files: dict[str, str], ini: str = PYTEST_INI) -> None:
    (root / "tests").mkdir(exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    with (root / "pyproject.toml").open("a") as out:
        out.write(ini)


def _summary(result: Result) -> str:
    lines = [line for line in result.out.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _up_one_by_one(paxx: Runner, root: Path) -> None:
    """`paxx up SERVICE` for each service in turn.

    On a busy two-core machine six services starting at once can miss their health checks'
    timeouts; one at a time they do not. (The plugin bringing a project up itself is
    test_workers_starting_together_bring_the_project_up_once.)
    """
    shown = paxx(root, "status", "--json")
    assert shown.code == 0, shown.output
    for service in json.loads(shown.out)["services"]:
        started = paxx(root, "up", service["name"], "--timeout", "180")
        assert started.code == 0, started.output


def _variables(paxx: Runner, root: Path) -> dict[str, str]:
    shown = paxx(root, "env", "--format", "json", "--show-secrets")
    assert shown.code == 0, shown.output
    values: dict[str, str] = json.loads(shown.out)
    return values


def test_every_slice_is_the_tests_own_and_gone_after_it_with_2_and_4_workers(
    live: Callable[..., Path], paxx: Runner
) -> None:
    root = live("slices", *FEATURES)
    _up_one_by_one(paxx, root)
    _write_suite(root, {"tests/conftest.py": CONFTEST, "tests/test_slices.py": SUITE})
    variables = _variables(paxx, root)
    env = {"SUITE_VARIABLES": json.dumps(variables)}
    for workers in ("2", "4"):
        result = run_pytest(root, "-n", workers, "-q", "tests", env=env)
        assert result.code == 0, result.output
        assert _summary(result).startswith("42 passed"), result.output
        _assert_nothing_is_left(variables)


def _assert_nothing_is_left(variables: dict[str, str]) -> None:
    """No database, Redis key, bucket, index or mail of the run is left on the services."""
    _assert_only_the_apps_databases(variables)
    server = redis.Redis.from_url(variables["REDIS_URL"])
    assert {k: v for k, v in server.info("keyspace").items() if k != "db0"} == {}
    buckets = _boto(variables).list_buckets()["Buckets"]
    assert [b["Name"] for b in buckets if b["Name"].startswith("paxx-")] == []
    indexes = _json(f"{variables['MEILI_URL']}/indexes", variables["MEILI_MASTER_KEY"])
    assert [i["uid"] for i in indexes["results"]] == []
    mails = _json(f"{variables['MAILPIT_URL']}/api/v1/messages")
    assert mails["total"] == 0


def _boto(variables: dict[str, str]) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=variables["AWS_ENDPOINT_URL_S3"],
        region_name=variables["AWS_DEFAULT_REGION"],
        aws_access_key_id=variables["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=variables["AWS_SECRET_ACCESS_KEY"],
    )


def _json(url: str, key: str = "") -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as answer:
        return json.loads(answer.read())


# ----------------------------------------------------------------------------- the docs


def example_files(page: Path) -> dict[str, str]:
    """The files of docs/testing.md's example: each `### \\`path\\`` heading and its block."""
    text = page.read_text()
    found = dict(re.findall(r"^### `([^`]+)`\n\n```python\n(.*?)```", text, re.DOTALL | re.M))
    assert set(found) == {"myapp/main.py", "tests/conftest.py", "tests/test_notes.py"}
    return found


def test_the_testing_page_example_passes_with_2_workers_in_strict_mode(
    live: Callable[..., Path], paxx: Runner
) -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
    root = live("notes")
    (root / "myapp").mkdir()
    (root / "myapp" / "__init__.py").write_text("")
    with (root / "pyproject.toml").open("a") as out:
        out.write('\n[tool.paxx]\npackage = "myapp"\n')
    added = paxx(root, "feature", "add", "db", "cache", "storage", "email", "tracing")
    assert added.code == 0, added.output
    strict = '\n[tool.pytest.ini_options]\nasyncio_mode = "strict"\n'
    strict += 'asyncio_default_fixture_loop_scope = "function"\n'
    _write_suite(root, example_files(page), strict)
    _up_one_by_one(paxx, root)
    result = run_pytest(root, "-n", "2", "-q", "tests")
    assert result.code == 0, result.output
    assert _summary(result).startswith("5 passed"), result.output


# ----------------------------------------------------------------------------- the session


def test_workers_starting_together_bring_the_project_up_once(
    live: Callable[..., Path], paxx: Runner
) -> None:
    root = live("once", "cache")
    tests = "\n".join(
        f"def test_redis_{n}(paxx_redis_url):\n    assert paxx_redis_url.startswith('redis://')\n"
        for n in range(8)
    )
    tests += "\ndef test_db(paxx_db_url):\n    pass\n"
    _write_suite(root, {"tests/test_once.py": tests})

    refused = run_pytest(root, "-q", "--paxx-no-up", "-k", "redis_0", "tests")
    assert refused.code == 1, refused.output
    assert (
        "paxx: error: --paxx-no-up: not up and healthy: valkey (not created)\n"
        "  fix: run `paxx up` first, or run pytest without --paxx-no-up to let paxx start them"
    ) in refused.out
    assert _containers(root) == []

    result = run_pytest(root, "-n", "4", "-q", "tests")
    assert result.code == 1, result.output
    assert _summary(result).startswith("8 passed, 1 error"), result.output
    assert (
        "paxx: error: paxx_db_url needs a PostgreSQL database, and no feature this project "
        "declares provides one (DATABASE_URL)\n  fix: paxx feature add db"
    ) in result.out
    assert len(_containers(root)) == 1  # four workers, one redis

    again = run_pytest(root, "-q", "--paxx-no-up", "-k", "redis", "tests")
    assert again.code == 0, again.output


def test_the_look_at_session_start_finds_the_project_up_and_only_then(
    live: Callable[..., Path], paxx: Runner
) -> None:
    root = live("look", "cache")
    assert Lookahead(root).found() is None  # synced, not started
    assert paxx(root, "up").code == 0
    look = Lookahead(root)
    seen = look.found()
    assert seen is not None and seen.root == root
    assert seen.variables == _variables(paxx, root)
    look._when -= 60  # an answer from a minute ago: the fixture looks again itself
    assert look.found() is None
    assert paxx(root, "down").code == 0
    assert Lookahead(root).found() is None  # the containers are gone: the fixture starts them


def _containers(root: Path) -> list[str]:
    project = env_of(root)["COMPOSE_PROJECT_NAME"]
    listed = subprocess.run(
        [
            "docker",
            "ps",
            "--all",
            "--quiet",
            "--filter",
            f"label=com.docker.compose.project={project}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


@pytest.mark.parametrize("mode", ["auto", "strict"])
def test_async_tests_use_the_fixtures_in_both_asyncio_modes(
    live: Callable[..., Path], paxx: Runner, mode: str
) -> None:
    root = live(f"asyncio-{mode}", "db", "cache")
    assert paxx(root, "up").code == 0
    suite = """
import asyncpg
import pytest
import pytest_asyncio
import redis.asyncio as redis


@pytest_asyncio.fixture
async def connection(paxx_db_url):
    connection = await asyncpg.connect(paxx_db_url)
    yield connection
    await connection.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("n", range(3))
async def test_rows_and_keys(connection, paxx_redis_url, n):
    await connection.execute("CREATE TABLE t (n int)")  # fails if another test's table is here
    await connection.execute("INSERT INTO t VALUES ($1)", n)
    assert await connection.fetchval("SELECT sum(n) FROM t") == n
    client = redis.Redis.from_url(paxx_redis_url)
    assert await client.incr("counter") == 1
    await client.aclose()
"""
    ini = f'\n[tool.pytest.ini_options]\nasyncio_mode = "{mode}"\n'
    ini += 'asyncio_default_fixture_loop_scope = "function"\n'
    _write_suite(root, {"tests/test_async.py": suite}, ini)
    result = run_pytest(root, "-q", "tests")
    assert result.code == 0, result.output
    assert _summary(result).startswith("3 passed"), result.output


def test_a_database_goes_to_the_next_test_only_when_nobody_connected_to_it(
    live: Callable[..., Path], paxx: Runner
) -> None:
    root = live("kept", "db")
    assert paxx(root, "up").code == 0
    suite = """
import asyncio
import asyncpg

SEEN = []


def name_of(url):
    return url.rsplit("/", 1)[1]


async def tables(url, create=False):
    connection = await asyncpg.connect(url)
    try:
        if create:
            await connection.execute("CREATE TABLE written (n int)")
        return await connection.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        )
    finally:
        await connection.close()


def test_1_asks_and_never_connects(paxx_db_url):
    SEEN.append(name_of(paxx_db_url))


def test_2_gets_that_database_and_writes(paxx_db_url):
    assert name_of(paxx_db_url) == SEEN[-1]  # untouched, so kept
    assert asyncio.run(tables(paxx_db_url, create=True)) == 1
    SEEN.append(name_of(paxx_db_url))


def test_3_gets_a_new_one(paxx_db_url):
    assert name_of(paxx_db_url) != SEEN[-1]  # written to, so dropped
    assert asyncio.run(tables(paxx_db_url)) == 0
"""
    _write_suite(root, {"tests/test_kept.py": suite})
    result = run_pytest(root, "-q", "-p", "no:randomly", "tests")
    assert result.code == 0, result.output
    assert _summary(result).startswith("3 passed"), result.output


REUSE_CONFTEST = """
import asyncpg


async def pytest_paxx_prepare_database(database_url):
    connection = await asyncpg.connect(database_url)
    await connection.execute(
        "CREATE TABLE kinds (id int PRIMARY KEY, name text NOT NULL);"
        "INSERT INTO kinds VALUES (1, 'first');"
        "CREATE TABLE items (id serial PRIMARY KEY, kind int REFERENCES kinds, name text)"
    )
    await connection.close()
"""

REUSE_SUITE = """
import asyncio

import asyncpg
import pytest

ORDER = []  # (what the test did, its database), test by test
LEFT_OPEN = []


def name_of(url):
    return url.rsplit("/", 1)[1]


async def run(url, *statements):
    connection = await asyncpg.connect(url)
    try:
        return [await connection.fetch(statement) for statement in statements]
    finally:
        await connection.close()


def test_1_writes_rows_and_leaves_a_transaction_open(paxx_db_url):
    ORDER.append(("rows", name_of(paxx_db_url)))
    inserted = asyncio.run(run(paxx_db_url, *["INSERT INTO items (kind) VALUES (1) RETURNING id"] * 2))
    assert [rows[0]["id"] for rows in inserted] == [1, 2]
    # A connection the test never closes, inside a transaction that wrote a row.
    loop = asyncio.new_event_loop()
    connection = loop.run_until_complete(asyncpg.connect(paxx_db_url))
    loop.run_until_complete(connection.execute("BEGIN; INSERT INTO items (kind) VALUES (1)"))
    LEFT_OPEN.append((loop, connection))


def test_2_changes_the_schema(paxx_db_url):
    ORDER.append(("schema", name_of(paxx_db_url)))
    asyncio.run(run(paxx_db_url, "ALTER TABLE items ADD COLUMN extra int"))


def test_3_changes_a_row_the_template_has(paxx_db_url):
    ORDER.append(("filled", name_of(paxx_db_url)))
    asyncio.run(run(paxx_db_url, "UPDATE kinds SET name = 'changed'"))


def test_3_changes_a_setting_of_the_database(paxx_db_url):
    name = name_of(paxx_db_url)
    ORDER.append(("setting", name))
    asyncio.run(run(paxx_db_url, f"ALTER DATABASE {name} SET work_mem = '8MB'"))


@pytest.mark.parametrize("n", range(6))
def test_4_later_tests_see_the_template_only(paxx_db_url, n):
    ORDER.append(("rows", name_of(paxx_db_url)))
    items, kinds, columns, inserted = asyncio.run(run(
        paxx_db_url,
        "SELECT count(*) FROM items",
        "SELECT id, name FROM kinds",
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items'",
        "INSERT INTO items (kind) VALUES (1) RETURNING id",
    ))
    assert items[0][0] == 0
    assert [tuple(row) for row in kinds] == [(1, "first")]
    assert columns[0][0] == 3
    assert inserted[0]["id"] == 1  # the sequence is back where the template left it


def test_5_only_databases_with_new_rows_came_back():
    names = [name for _, name in ORDER]
    for index, (did, name) in enumerate(ORDER):
        if did == "rows":
            continue
        assert name not in names[index + 1:], f"{name} came back after its test's {did} change"
    assert len(set(names)) < len(names), "no database was used twice"
    assert any(
        did == "rows" and name in names[index + 1:] for index, (did, name) in enumerate(ORDER)
    )
"""


TRIGGER_CONFTEST = """
import asyncpg


async def pytest_paxx_prepare_database(database_url):
    connection = await asyncpg.connect(database_url)
    await connection.execute(
        "CREATE TABLE items (id int); CREATE TABLE audit (note text);"
        "CREATE FUNCTION noted() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO audit VALUES ('truncated'); RETURN NULL; END $$;"
        "CREATE TRIGGER noted AFTER TRUNCATE ON items EXECUTE FUNCTION noted()"
    )
    await connection.close()
"""

TRIGGER_SUITE = """
import asyncio

import asyncpg
import pytest

NAMES = []


async def run(url, statement):
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(statement)
    finally:
        await connection.close()


@pytest.mark.parametrize("n", range(6))
def test_rows_and_no_audit(paxx_db_url, n):
    NAMES.append(paxx_db_url.rsplit("/", 1)[1])
    assert asyncio.run(run(paxx_db_url, "SELECT count(*) FROM audit")) == 0
    asyncio.run(run(paxx_db_url, "INSERT INTO items VALUES (1)"))


def test_emptying_wrote_rows_so_no_database_came_back():
    assert len(set(NAMES)) == len(NAMES)
"""


def test_a_database_with_only_new_rows_is_emptied_for_a_later_test_others_are_dropped(
    live: Callable[..., Path], paxx: Runner
) -> None:
    root = live("reuse", "db")
    assert paxx(root, "up").code == 0
    _write_suite(root, {"tests/conftest.py": REUSE_CONFTEST, "tests/test_reuse.py": REUSE_SUITE})
    result = run_pytest(root, "-q", "-p", "no:randomly", "tests")
    assert result.code == 0, result.output
    assert _summary(result).startswith("11 passed"), result.output
    _assert_only_the_apps_databases(_variables(paxx, root))
    # A trigger of the user's that writes a row when paxx empties a table: that database is
    # dropped, not handed on with the row.
    _write_suite(
        root, {"tests/conftest.py": TRIGGER_CONFTEST, "tests/test_reuse.py": TRIGGER_SUITE}, ""
    )
    result = run_pytest(root, "-q", "-p", "no:randomly", "tests")
    assert result.code == 0, result.output
    assert _summary(result).startswith("7 passed"), result.output
    _assert_only_the_apps_databases(_variables(paxx, root))


def _assert_only_the_apps_databases(variables: dict[str, str]) -> None:
    import asyncio

    import asyncpg

    async def databases() -> list[str]:
        connection = await asyncpg.connect(variables["DATABASE_URL"])
        try:
            rows = await connection.fetch("SELECT datname FROM pg_database ORDER BY 1")
            return [row["datname"] for row in rows]
        finally:
            await connection.close()

    assert asyncio.run(databases()) == ["app", "postgres", "template0", "template1"]
