"""The test suites the pytest plugin's measure runs: their conftests and test files, as text.

Each is written into a folder of the stack's project and run there with `python -m pytest`.
"""

from __future__ import annotations

PG_IMAGE = "pgvector/pgvector:0.8.0-pg17"
REDIS_IMAGE = "redis:7.4.2-alpine"
SCHEMA = "CREATE TABLE notes (id serial PRIMARY KEY, text text NOT NULL)"

#: A conftest that records each test's setup and teardown time, per worker, as JSON.
TIMING = """
import json, os, time
import pytest

TIMES = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        TIMES.append([item.name, "setup", time.perf_counter() - start, False])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        TIMES.append([item.name, "teardown", time.perf_counter() - start, nextitem is None])


def pytest_sessionfinish(session):
    worker = getattr(session.config, "workerinput", {}).get("workerid", "main")
    with open(os.path.join(os.environ["BENCH_TIMES"], worker + ".json"), "w") as handle:
        json.dump(TIMES, handle)
"""

PREPARE = f"""

async def pytest_paxx_prepare_database(database_url):
    import asyncpg

    connection = await asyncpg.connect(database_url)
    await connection.execute("{SCHEMA}")
    await connection.close()
"""

COST = """
import asyncio
import time

import asyncpg
import pytest


async def write(url):
    connection = await asyncpg.connect(url)
    await connection.execute("INSERT INTO notes (text) VALUES ('a')")
    await connection.close()


async def alter(url):
    connection = await asyncpg.connect(url)
    await connection.execute("ALTER TABLE notes ADD COLUMN extra int")
    await connection.close()


@pytest.mark.parametrize("n", range({count}))
def test_cost({arguments}n):
    {body}
"""


def cost_tests(fixture: str, body: str, count: int) -> str:
    """`count` tests that ask for `fixture` (none when "") and run `body`."""
    return COST.format(count=count, arguments=f"{fixture}, " if fixture else "", body=body)


SUITE_DB = """
import asyncio

import asyncpg
import pytest


async def roundtrip(url, n):
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("INSERT INTO notes (text) VALUES ($1)", f"note {n}")
        assert await connection.fetchval("SELECT count(*) FROM notes") == 1
    finally:
        await connection.close()


@pytest.mark.parametrize("n", range(50))
def test_db(db_url, n):
    asyncio.run(roundtrip(db_url, n))
"""

SUITE_REDIS = """
import pytest
import redis


@pytest.mark.parametrize("n", range(50))
def test_redis(redis_url, n):
    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() == 0
    client.set("key", n)
    assert client.incr("counter") == 1
    client.close()
"""

#: The plugin: each test its own database and Redis database.
WITH_PLUGIN = (
    PREPARE
    + """
import pytest


@pytest.fixture
def db_url(paxx_db_url):
    return paxx_db_url


@pytest.fixture
def redis_url(paxx_redis_url):
    return paxx_redis_url
"""
)

#: testcontainers-python: a PostgreSQL and a Redis container per session, emptied per test.
WITH_TESTCONTAINERS = f"""
import asyncio
import os

import asyncpg
import pytest
import redis
from testcontainers.postgres import PostgresContainer
from testcontainers.redis import RedisContainer

LABELS = {{"paxx-bench": os.environ["BENCH_TOKEN"]}}


async def execute(url, sql):
    connection = await asyncpg.connect(url)
    await connection.execute(sql)
    await connection.close()


@pytest.fixture(scope="session")
def postgres_url():
    with PostgresContainer("{PG_IMAGE}", driver=None).with_kwargs(labels=LABELS) as postgres:
        url = postgres.get_connection_url()
        asyncio.run(execute(url, "{SCHEMA}"))
        yield url


@pytest.fixture(scope="session")
def redis_server():
    with RedisContainer("{REDIS_IMAGE}").with_kwargs(labels=LABELS) as server:
        yield f"redis://{{server.get_container_host_ip()}}:{{server.get_exposed_port(6379)}}/0"


@pytest.fixture
def db_url(postgres_url):
    asyncio.run(execute(postgres_url, "TRUNCATE notes RESTART IDENTITY"))
    return postgres_url


@pytest.fixture
def redis_url(redis_server):
    redis.Redis.from_url(redis_server).flushdb()
    return redis_server
"""

#: One database on the project's PostgreSQL for the whole session, truncated per test.
WITH_SHARED = f"""
import asyncio
import json
import os

import asyncpg
import pytest
import redis

BASE = json.loads(os.environ["BENCH_VARIABLES"])
SHARED = BASE["DATABASE_URL"].rsplit("/", 1)[0] + "/bench_shared"
REDIS = BASE["REDIS_URL"].rsplit("/", 1)[0] + "/13"


async def execute(url, *statements):
    connection = await asyncpg.connect(url)
    for sql in statements:
        await connection.execute(sql)
    await connection.close()


@pytest.fixture(scope="session")
def shared_url():
    asyncio.run(
        execute(
            BASE["DATABASE_URL"],
            "DROP DATABASE IF EXISTS bench_shared",
            "CREATE DATABASE bench_shared",
        )
    )
    asyncio.run(execute(SHARED, "{SCHEMA}"))
    yield SHARED
    asyncio.run(execute(BASE["DATABASE_URL"], "DROP DATABASE bench_shared WITH (FORCE)"))


@pytest.fixture
def db_url(shared_url):
    asyncio.run(execute(shared_url, "TRUNCATE notes RESTART IDENTITY"))
    return shared_url


@pytest.fixture
def redis_url():
    redis.Redis.from_url(REDIS).flushdb()
    return REDIS
"""

#: How long after a span ends the query API returns it, flushed or on the batch schedule.
SPANS = """
import json, os, time

import pytest


def exported(paxx_spans, since):
    while not paxx_spans.all():
        time.sleep(0.005)
    return time.perf_counter() - since


@pytest.mark.parametrize("n", range(int(os.environ["BENCH_SPANS"])))
def test_span_latency(paxx_settings, paxx_spans, n):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider(resource=Resource.create({}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("bench").start_as_current_span("work"):
        pass
    ended = time.perf_counter()
    in_memory = time.perf_counter() - ended if memory.get_finished_spans() else None
    kind = "flushed" if n % 2 else "batch"  # batch: the 50 ms schedule paxx_settings sets
    if n % 2:
        provider.force_flush()
    latency = exported(paxx_spans, ended)
    provider.shutdown()
    with open(os.path.join(os.environ["BENCH_OUT"], f"span-{n}.json"), "w") as out:
        json.dump({"kind": kind, "latency": latency, "in_memory": in_memory}, out)
"""
