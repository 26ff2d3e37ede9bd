"""The generated wiring as a team ships it: the wheel in a fresh venv, uvicorn, an arq worker.

A project with every feature is installed from its own pyproject.toml (a non-editable install:
the wheel its build backend makes); `alembic upgrade head` builds a fresh database and
`alembic check` finds nothing to migrate; `uvicorn shop.wiring:app --workers 2` answers
/healthz and /readyz against the running services, and /readyz names the service that stopped;
an arq worker runs the welcome-mail job, the mail is in Mailpit, and the job's span is in the
enqueuer's trace (read back from the Jaeger stand-in). PostgreSQL and Redis are real; MinIO,
Mailpit, Meilisearch and Jaeger are stand-ins.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import Runner
from live.conftest import ALL_FEATURES, env_of
from userproject import UserProject

ENQUEUE = """
import asyncio

from shop.tasks import open_task_queue, send_welcome
from shop.telemetry import TelemetrySettings, create_tracer_provider


async def main() -> None:
    provider = create_tracer_provider(TelemetrySettings())
    async with open_task_queue() as tasks:
        with provider.get_tracer("signup").start_as_current_span("signup") as span:
            job = await tasks.enqueue(send_welcome, "ada@example.com", "Ada")
        assert job is not None
        async with asyncio.timeout(60):
            message_id = await tasks.result(job.job_id)
    provider.shutdown()
    print(format(span.get_span_context().trace_id, "032x"), message_id)


asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get_json(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def wait_for(what: str, check: Callable[[], Any], seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (OSError, ValueError) as error:
            last = error
        else:
            if last:
                return last
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {seconds} s (last: {last!r})")


@contextmanager
def process(project: UserProject, *argv: str) -> Iterator[subprocess.Popen[str]]:
    """A long-running program of the project's venv, from its folder; stopped at the end."""
    log = project.root.parent / f"{Path(argv[0]).name}.log"
    with log.open("w") as out:
        running = subprocess.Popen(
            [str(project.bin / argv[0]), *argv[1:]],
            cwd=project.root,
            env=project.environment(),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            yield running
        finally:
            running.terminate()
            try:
                running.wait(timeout=20)
            except subprocess.TimeoutExpired:
                running.kill()
                running.wait()
    if running.returncode not in (0, -15):
        print(log.read_text())


def test_wiring_real_postgres_redis_standin_others_wheel_uvicorn_worker_alembic(
    live: Callable[..., Path], paxx: Runner, tmp_path: Path
) -> None:
    root = live("wired")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.paxx]\npackage = "shop"\n')
    assert paxx(root, "feature", "add", *ALL_FEATURES).code == 0
    started = paxx(root, "up", "--timeout", "120")
    assert started.code == 0, started.output
    env = env_of(root)

    project = UserProject(root, "shop")
    assert "shop/wiring.py" in project.wheel(tmp_path / "dist")
    project.install()

    # Migrations: a fresh database, then nothing left to autogenerate, with either search backend.
    postgres_search = project.environment(SEARCH_BACKEND="postgres")
    project.run(project.bin / "alembic", "upgrade", "head", env=postgres_search)
    project.run(project.bin / "alembic", "check", env=postgres_search)
    project.run(project.bin / "alembic", "check")  # meilisearch: the table is not proposed for drop
    tables = project.run(
        project.bin / "python",
        "-c",
        "import asyncio, sqlalchemy as sa\n"
        "from shop.db import open_db\n"
        "async def main():\n"
        "    async with open_db() as db, db.engine.connect() as c:\n"
        "        r = await c.execute(sa.text(\"select extname from pg_extension where extname='vector'"
        " union all select tablename from pg_tables where tablename='search_documents'\"))\n"
        "        print(sorted(r.scalars()))\n"
        "asyncio.run(main())\n",
    )
    assert tables.stdout.strip() == "['search_documents', 'vector']"

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    uvicorn = ("uvicorn", "shop.wiring:app", "--workers", "2", "--port", str(port))
    with process(project, *uvicorn), process(project, "arq", "shop.tasks.WorkerSettings"):
        assert wait_for("/healthz", lambda: get_json(f"{base}/healthz")) == (200, {"status": "ok"})
        status, ready = wait_for("/readyz", lambda: get_json(f"{base}/readyz"))
        assert (status, ready["failed"]) == (200, []), ready
        assert set(ready["services"]) == set(ALL_FEATURES) - {"vector"}

        enqueued = project.run(project.bin / "python", "-c", ENQUEUE)
        trace_id, message_id = enqueued.stdout.split()

        def welcome_mail() -> list[dict[str, Any]]:
            _, body = get_json(f"{env['MAILPIT_URL']}/api/v1/messages")
            return [m for m in body["messages"] if m["MessageID"] and m["MessageID"] in message_id]

        (mail,) = wait_for("the welcome mail in Mailpit", welcome_mail)
        assert mail["To"][0]["Address"] == "ada@example.com"
        assert mail["Subject"].startswith("Welcome to")

        traces = f"http://127.0.0.1:{env['PAXX_JAEGER_UI_PORT']}/api/traces/{trace_id}"

        def job_span() -> list[str]:
            # the worker exports its spans in batches, some seconds after the job
            _, body = get_json(traces)
            spans = [s for t in body.get("data") or [] for s in t["spans"]]
            names = [s["operationName"] for s in spans if s["traceID"] == trace_id]
            return names if "job send_welcome" in names else []

        operations = wait_for("the job's span in the enqueuer's trace", job_span)
        assert {"signup", "job send_welcome"} <= set(operations), operations

        # One service down: /readyz is 503 and names it; the others stay ok.
        subprocess.run(
            ["docker", "compose", "stop", "meilisearch"], cwd=root, check=True, capture_output=True
        )
        status, ready = wait_for(
            "/readyz red", lambda: (r := get_json(f"{base}/readyz"))[0] == 503 and r
        )
        assert ready["failed"] == ["search"], ready
        assert ready["services"]["db"] == "ok"
