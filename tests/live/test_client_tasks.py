"""The tasks module paxx generates, against Redis and Valkey (the real programs, each in turn)
and a real arq worker.

The worker is the arq command line, run as the module's docs say: `arq <package>.tasks.WorkerSettings`
in the project folder, as a separate process that reads .env.
"""

# No `from __future__ import annotations`: FastAPI must see the route annotations as objects.

import asyncio
import inspect
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from arq.jobs import JobStatus
from arq.worker import JobExecutionFailed, Worker, create_worker
from fastapi import Depends, FastAPI
from redis import exceptions as redis_exceptions

from live.conftest import App, providers_of
from paxx_env.catalog import load_catalog

PROVIDERS = pytest.mark.parametrize("provider", providers_of("tasks"))

#: Jobs a user adds to the generated tasks.py, registered in WorkerOptions.functions.
EXTRA_JOBS = '''

# --- jobs added by the test, the way a user adds theirs ---
import asyncio


async def count_run(ctx: JobContext, key: str) -> int:
    return int(await ctx["redis"].incr(key))


async def flaky(ctx: JobContext, key: str, failures: int) -> int:
    """Raises Retry `failures` times, then returns the try it succeeded on."""
    runs = int(await ctx["redis"].incr(key))
    if runs <= failures:
        raise Retry(defer=0.2)
    return int(ctx["job_try"])


async def always_retry(ctx: JobContext, key: str) -> None:
    await ctx["redis"].incr(key)
    raise Retry(defer=0.1)


async def slow(ctx: JobContext, seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "finished"


WorkerOptions.functions = [
    *WorkerOptions.functions,
    func(count_run),
    func(flaky, max_tries=3),
    func(always_retry),  # the worker's max_tries: TASKS_MAX_TRIES
    func(slow),  # the worker's job_timeout: TASKS_JOB_TIMEOUT
]
'''


def tasks_app(app_with: Callable[..., App], provider: str) -> tuple[App, Any]:
    app = app_with("tasks", provider=provider)
    module_file = app.root / app.package / "tasks.py"
    module_file.write_text(module_file.read_text() + EXTRA_JOBS)
    return app, app.module("tasks")


@contextmanager
def arq_worker(app: App, **env: str) -> Iterator[Path]:
    """`arq <package>.tasks.WorkerSettings` run from the project folder; its log file."""
    log = app.root / f"worker-{time.monotonic_ns()}.log"
    cli = Path(sys.executable).with_name("arq")
    command = [str(cli)] if cli.exists() else [sys.executable, "-m", "arq"]
    with log.open("w") as out:
        worker = subprocess.Popen(
            [*command, f"{app.package}.tasks.WorkerSettings"],
            cwd=app.root,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield log
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


async def wait_complete(tasks: Any, job_id: str, log: Path, seconds: float = 30) -> Any:
    """Wait until the job has a result; its JobResult record."""
    deadline = time.monotonic() + seconds
    while await tasks.status(job_id) != JobStatus.complete:
        if time.monotonic() > deadline:
            pytest.fail(
                f"job {job_id} did not complete in {seconds} s; worker log:\n{log.read_text()}"
            )
        await asyncio.sleep(0.2)
    return await tasks.info(job_id)


@PROVIDERS
async def test_tasks_real_cli_worker_runs_jobs_once_defers_cron_and_abort(
    app_with: Callable[..., App],
    provider: str,
) -> None:
    app, tasks_module = tasks_app(app_with, provider)
    async with tasks_module.open_task_queue() as tasks:
        # queued before any worker runs; a caller-chosen id queues a job once
        assert await tasks.enqueue(tasks_module.say_hello, "Ada", job_id="hello:ada") is not None
        assert await tasks.enqueue("count_run", "runs:once", job_id="once") is not None
        assert await tasks.enqueue("count_run", "runs:once", job_id="once") is None
        assert await tasks.status("once") == JobStatus.queued
        assert await tasks.status("no-such-job") == JobStatus.not_found

        with arq_worker(app) as log:
            hello = await wait_complete(tasks, "hello:ada", log)
            assert (hello.success, hello.result, hello.job_try) == (True, "Hello, Ada!", 1)
            assert await tasks.result("hello:ada") == "Hello, Ada!"

            await wait_complete(tasks, "once", log)
            # the result is kept (keep_result), and with it the id: still not run again
            assert await tasks.enqueue("count_run", "runs:once", job_id="once") is None
            await asyncio.sleep(1.0)
            assert await tasks.pool.get("runs:once") == b"1"

            # a deferred job waits, with a worker polling every 0.5 s
            await tasks.enqueue(tasks_module.count_run, "runs:later", job_id="later", defer_by=3)
            await asyncio.sleep(1.5)
            assert await tasks.status("later") == JobStatus.deferred
            assert await tasks.pool.get("runs:later") is None
            later = await wait_complete(tasks, "later", log)
            assert later.success and later.result == 1
            assert later.start_time - later.enqueue_time >= timedelta(seconds=3)

            # the example cron job ran as the worker started
            async with asyncio.timeout(10):
                while await tasks.pool.get(tasks_module.HEARTBEAT_KEY) is None:
                    await asyncio.sleep(0.2)

            # abort a running job (WorkerOptions.allow_abort_jobs)
            await tasks.enqueue("slow", 60, job_id="long")
            async with asyncio.timeout(10):
                while await tasks.status("long") != JobStatus.in_progress:
                    await asyncio.sleep(0.1)
            async with asyncio.timeout(10):
                assert await tasks.abort("long") is True
            aborted = await tasks.info("long")
            assert aborted.success is False
            assert isinstance(aborted.result, asyncio.CancelledError)


@PROVIDERS
async def test_tasks_real_retry_max_tries_timeout_and_keep_result_reach_the_worker(
    app_with: Callable[..., App],
    provider: str,
) -> None:
    """Each WorkerSettings option has an effect, so none of them is silently ignored by arq."""
    app, tasks_module = tasks_app(app_with, provider)
    async with tasks_module.open_task_queue() as tasks:
        await tasks.enqueue("flaky", "runs:flaky", 2, job_id="flaky")  # Retry twice, then ok
        await tasks.enqueue("flaky", "runs:hopeless", 9, job_id="hopeless")  # func max_tries=3
        await tasks.enqueue("always_retry", "runs:always", job_id="always")  # worker max_tries
        await tasks.enqueue("slow", 5, job_id="slow")  # worker job_timeout

        with arq_worker(
            app, TASKS_MAX_TRIES="2", TASKS_JOB_TIMEOUT="1", TASKS_KEEP_RESULT="30"
        ) as log:
            flaky = await wait_complete(tasks, "flaky", log)
            assert (flaky.success, flaky.result, flaky.job_try) == (True, 3, 3)
            assert await tasks.pool.get("runs:flaky") == b"3"

            await wait_complete(tasks, "hopeless", log)
            with pytest.raises(JobExecutionFailed, match="max 3 retries exceeded"):
                await tasks.result("hopeless")
            assert await tasks.pool.get("runs:hopeless") == b"3"

            await wait_complete(tasks, "always", log)
            with pytest.raises(JobExecutionFailed, match="max 2 retries exceeded"):
                await tasks.result("always")
            assert await tasks.pool.get("runs:always") == b"2"

            slow = await wait_complete(tasks, "slow", log)
            assert slow.success is False
            assert isinstance(slow.result, TimeoutError)
            assert slow.finish_time - slow.start_time < timedelta(seconds=3)

            kept_ms = await tasks.pool.pttl("arq:result:flaky")
            assert 0 < kept_ms <= 30_000


@PROVIDERS
async def test_tasks_real_fastapi_lifespan_in_process_worker_and_settings(
    app_with: Callable[..., App],
    provider: str,
) -> None:
    app = app_with("tasks", provider=provider)
    tasks_module = app.module("tasks")
    settings = tasks_module.WorkerSettings  # what `arq <package>.tasks.WorkerSettings` runs
    assert settings == tasks_module.worker_settings()

    # every option is a parameter of arq's Worker (arq drops unknown names without a word)
    parameters = inspect.signature(Worker).parameters
    assert set(settings) <= set(parameters), set(settings) - set(parameters)
    worker = create_worker(settings, handle_signals=False)
    assert (worker.max_tries, worker.job_timeout_s, worker.keep_result_s) == (5, 300, 3600)
    assert (worker.queue_name, worker.max_jobs, worker.allow_abort_jobs) == ("arq:queue", 10, True)
    assert worker.health_check_interval == 60
    assert set(worker.functions) == {"say_hello", "cron:heartbeat"}
    assert worker.functions["say_hello"].max_tries == 3
    assert worker.redis_settings is not None
    (service,) = load_catalog().provider("tasks", provider).services
    (secret,) = load_catalog().services[service].meta.secrets  # REDIS_ or VALKEY_PASSWORD
    assert worker.redis_settings.password == app.env[secret]

    # a percent-encoded password is decoded (arq's RedisSettings.from_dsn would keep %40)
    decoded = tasks_module.arq_redis_settings(
        tasks_module.TasksSettings(redis_url="redis://me:p%40ss%2Fw@db.internal:6380/2")
    )
    assert (decoded.username, decoded.password) == ("me", "p@ss/w")
    assert (decoded.host, decoded.port, decoded.database) == ("db.internal", 6380, 2)

    web = FastAPI(lifespan=tasks_module.tasks_lifespan)
    TaskQueue = tasks_module.TaskQueue

    @web.post("/hello/{name}")
    async def hello(
        name: str, tasks: Annotated[TaskQueue, Depends(tasks_module.get_task_queue)]
    ) -> dict[str, bool]:
        job = await tasks.enqueue(tasks_module.say_hello, name, job_id=f"hello:{name}")
        return {"queued": job is not None}

    @web.get("/jobs/{job_id}")
    async def job_status(
        job_id: str, tasks: Annotated[TaskQueue, Depends(tasks_module.get_task_queue)]
    ) -> dict[str, str]:
        return {"status": (await tasks.status(job_id)).value}

    async with web.router.lifespan_context(web):
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            assert (await client.post("/hello/Ada")).json() == {"queued": True}
            assert (await client.post("/hello/Ada")).json() == {"queued": False}
            assert (await client.get("/jobs/hello:Ada")).json() == {"status": "queued"}
            # arq.worker.Worker in this process, in burst mode: runs the queue, then returns
            async with asyncio.timeout(30):
                completed = await tasks_module.run_queued_jobs()
            assert completed == 1  # say_hello; the cron job is not a queued job
            assert await web.state.tasks.pool.get(tasks_module.HEARTBEAT_KEY) is None
            assert (await client.get("/jobs/hello:Ada")).json() == {"status": "complete"}
            assert await web.state.tasks.result("hello:Ada") == "Hello, Ada!"


async def test_tasks_real_waits_for_a_job_no_worker_runs_end_in_time(
    app_with: Callable[..., App],
) -> None:
    """No worker runs: waiting for a result, or for an abort, ends after its timeout."""
    app = app_with("tasks")
    tasks_module = app.module("tasks")
    async with tasks_module.open_task_queue() as tasks:
        await tasks.enqueue(tasks_module.say_hello, "Ada", job_id="stuck")
        # the outer bound only turns a hang into a failure; the module's own timeouts must act
        async with asyncio.timeout(20):
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await tasks.result("stuck", within=1)
            with pytest.raises(TimeoutError):
                await tasks.abort("stuck", within=1)
            assert time.monotonic() - started < 10
        assert inspect.signature(tasks.abort).parameters["within"].default == 10.0


async def test_tasks_real_commands_to_a_paused_server_fail_within_the_redis_timeout(
    app_with: Callable[..., App],
) -> None:
    """Redis frozen (`docker pause`): it takes connections and answers nothing. Every call of
    the queue fails after TASKS_REDIS_TIMEOUT instead of waiting for ever, and works again
    once Redis does."""
    app = app_with("tasks")
    tasks_module = app.module("tasks")
    settings = tasks_module.TasksSettings(tasks_redis_timeout=1.0)
    assert tasks_module.TasksSettings().tasks_redis_timeout == 5.0  # the default
    calls = {
        "enqueue": lambda tasks: tasks.enqueue(tasks_module.say_hello, "Ada", job_id="frozen"),
        "status": lambda tasks: tasks.status("frozen"),
        "info": lambda tasks: tasks.info("frozen"),
        # no limit on waiting for the job, but each poll of Redis has one
        "result": lambda tasks: tasks.result("frozen", within=None),
        "abort": lambda tasks: tasks.abort("frozen", within=None),
    }
    async with tasks_module.open_task_queue(settings) as tasks:
        assert await tasks.enqueue(tasks_module.say_hello, "Ada", job_id="before") is not None
        with app.paused():
            for name, call in calls.items():
                started = time.monotonic()
                # the outer bound only turns a hang into a failure; the module's timeout acts
                async with asyncio.timeout(20):
                    with pytest.raises(redis_exceptions.TimeoutError, match="Timeout reading"):
                        await call(tasks)
                assert time.monotonic() - started < 5, name
            # opening a queue (its PING) fails in time too
            async with asyncio.timeout(20):
                with pytest.raises(redis_exceptions.TimeoutError):
                    async with tasks_module.open_task_queue(settings):
                        pass
        # Redis answers again: the same queue makes new connections and works
        async with asyncio.timeout(20):
            assert await tasks.enqueue(tasks_module.say_hello, "Ada", job_id="after") is not None
            assert await tasks.status("after") == JobStatus.queued
