"""A database of each test's own, cloned from a template prepared once per test run.

The template `paxx_RUN_template` is made by the first process of the run that needs a
database: it takes a PostgreSQL advisory lock, creates the template (with the `vector`
extension when that feature is declared), calls the `pytest_paxx_prepare_database` hook on it
(the user's migrations) and closes it to connections. Other xdist workers wait on the lock and
find it ready, so no two prepare it at once. Without xdist the session drops it at the end;
under xdist the controller does, after every worker is done (the worker that made it leaves
a note in a private temporary folder).

Each test's database is `CREATE DATABASE ... TEMPLATE` the template. Cloning copies the whole
catalog (about 8 MB) and takes tens to hundreds of milliseconds, so one clone is made ahead,
in the background, while the test before runs; a test's database is dropped after it, also in
the background. The session waits for every drop before it ends.

asyncpg is async-only: it runs on an event loop of its own in a thread, so the fixtures work
the same whether the test runs on pytest-asyncio's loop (auto or strict mode) or none.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import importlib
import inspect
import itertools
import json
import os
import shutil
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from paxx_env.errors import PaxxError
from paxx_env.testing.run import Run, note_folder

T = TypeVar("T")
#: The feature whose declaration puts the `vector` extension in the template.
VECTOR_FEATURE = "vector"
TIMEOUT = 60.0
Prepare = Callable[[str], list[object]]


def database_url(url: str, name: str) -> str:
    """`url` with its database replaced by `name`."""
    return urlsplit(url)._replace(path="/" + quote(name, safe="")).geturl()


def quoted(name: str) -> str:
    """`name` as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def template_name(run_id: str) -> str:
    """The template database of a run."""
    return f"paxx_{run_id}_template"


class Databases:
    """The clones of the run's template this process makes, one made ahead."""

    def __init__(self, asyncpg: ModuleType, url: str, run: Run, vector: bool) -> None:
        self._asyncpg = asyncpg
        self.url = url
        self.template = template_name(run.id)
        self._prefix = run.prefix.replace("-", "_")
        self._vector = vector
        self._count = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="paxx-postgres", daemon=True
        )
        self._thread.start()
        self._admin: Any = None
        self._lock: asyncio.Lock | None = None
        self._ahead: collections.deque[asyncio.Future[str]] = collections.deque()
        self._drops: set[asyncio.Future[None]] = set()
        self._failed: list[str] = []
        #: Whether this process made the template (and so must see that it is dropped).
        self.made_template = False

    # --- the loop thread -------------------------------------------------------------------

    def _run(self, work: Coroutine[Any, Any, T], timeout: float | None = TIMEOUT) -> T:
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            return future.result(timeout)
        except self._asyncpg.PostgresError as error:
            raise PaxxError(
                f"PostgreSQL refused: {error}",
                "the role in DATABASE_URL needs to create databases (the one paxx makes can)",
            ) from None
        except (TimeoutError, OSError) as error:
            raise PaxxError(
                f"PostgreSQL at {urlsplit(self.url).netloc.rpartition('@')[2]} does not "
                f"answer ({error or type(error).__name__})",
                "run `paxx status` to see whether it runs, or `paxx up` to start it",
            ) from None

    async def _connect(self) -> None:
        self._admin = await self._asyncpg.connect(self.url)
        self._lock = asyncio.Lock()

    async def _execute(self, sql: str, *args: object) -> Any:
        assert self._lock is not None
        async with self._lock:
            return await self._admin.fetchval(sql, *args)

    # --- the template ----------------------------------------------------------------------

    def open(self, prepare: Prepare, note: Path | None) -> None:
        """Connect, and make sure the run's template exists (preparing it if no one has)."""
        self._run(self._connect())
        digest = hashlib.sha256(self.template.encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        self._run(self._execute("SELECT pg_advisory_lock($1)", key), timeout=None)
        try:
            ready = self._run(
                self._execute(
                    "SELECT NOT datallowconn FROM pg_database WHERE datname = $1", self.template
                )
            )
            if ready:
                return
            if ready is not None:  # left half-made by a process whose preparation failed
                self._run(self._drop_template())
            self._run(self._execute(f"CREATE DATABASE {quoted(self.template)}"))
            self.made_template = True
            if note is not None:
                _leave_note(note, self.url, self.template)
            try:
                self._prepare(prepare)
            except BaseException:
                self._run(self._drop_template())
                raise
        finally:
            self._run(self._execute("SELECT pg_advisory_unlock($1)", key))

    def _prepare(self, prepare: Prepare) -> None:
        url = database_url(self.url, self.template)
        if self._vector:
            self._run(self._in_template("CREATE EXTENSION IF NOT EXISTS vector"))
        for result in prepare(url):
            if inspect.isawaitable(result):
                _await_elsewhere(result)
        self._run(self._seal())

    async def _in_template(self, sql: str) -> None:
        connection = await self._asyncpg.connect(database_url(self.url, self.template))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def _seal(self) -> None:
        """No connection to the template from now on: cloning needs it idle."""
        name = quoted(self.template)
        await self._execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true")
        await self._execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
            self.template,
        )

    async def _drop_template(self) -> None:
        name = quoted(self.template)
        with contextlib.suppress(self._asyncpg.InvalidCatalogNameError):
            await self._execute(f"ALTER DATABASE {name} WITH IS_TEMPLATE false")
        await self._execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    # --- the clones ------------------------------------------------------------------------

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """The URL of a database of its own for one test; dropped after it."""
        name = self._run(self._take())
        try:
            yield database_url(self.url, name)
        finally:
            self._loop.call_soon_threadsafe(self._drop_later, name)

    async def _take(self) -> str:
        if not self._ahead:
            self._ahead.append(asyncio.ensure_future(self._clone()))
        name = await self._ahead.popleft()
        self._ahead.append(asyncio.ensure_future(self._clone()))
        return name

    async def _clone(self) -> str:
        name = f"{self._prefix}_db{next(self._count):05d}"
        await self._execute(f"CREATE DATABASE {quoted(name)} TEMPLATE {quoted(self.template)}")
        return name

    def _drop_later(self, name: str) -> None:
        drop = asyncio.ensure_future(self._drop(name))
        self._drops.add(drop)
        drop.add_done_callback(self._drops.discard)

    async def _drop(self, name: str) -> None:
        try:
            await self._execute(f"DROP DATABASE IF EXISTS {quoted(name)} WITH (FORCE)")
        except (self._asyncpg.PostgresError, OSError) as error:
            self._failed.append(f"{name} ({error})")

    def settle(self) -> None:
        """Wait until every test database handed out so far is dropped."""
        self._run(self._settle())

    async def _settle(self) -> None:
        while self._drops:
            await asyncio.gather(*list(self._drops))

    # --- the end ---------------------------------------------------------------------------

    def close(self, drop_template: bool) -> None:
        """Drop the clone made ahead, wait for the drops, and the template when asked."""
        try:
            if self._admin is not None:
                self._run(self._close(drop_template))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()
        if self._failed:
            raise PaxxError(
                f"could not drop the test databases {', '.join(self._failed)}",
                "drop them by hand (`DROP DATABASE name`), or they go with `paxx down --volumes`",
            )

    async def _close(self, drop_template: bool) -> None:
        while self._ahead:
            ahead = self._ahead.popleft()
            with contextlib.suppress(Exception):
                self._drop_later(await ahead)
        await self._settle()
        if drop_template and self.made_template:
            await self._drop_template()
        await self._admin.close()


def open_databases(
    url: str, run: Run, vector: bool, prepare: Prepare, note: Path | None
) -> Databases:
    """Connect to PostgreSQL and make sure the run's template is ready."""
    try:
        asyncpg = importlib.import_module("asyncpg")
    except ImportError:
        raise PaxxError(
            "paxx_db_url talks to PostgreSQL with asyncpg, which is not installed here",
            "install the project's dependencies (the db feature adds asyncpg), "
            "e.g. `pip install -e .`",
        ) from None
    databases = Databases(asyncpg, url, run, vector)
    try:
        databases.open(prepare, note)
    except BaseException:
        databases.close(drop_template=False)
        raise
    return databases


def _await_elsewhere(awaitable: Any) -> None:
    """Run an `async def` hook to the end on a new loop in a thread of its own.

    A thread, because the hook may be called while another event loop runs in this one.
    """
    failure: list[BaseException] = []

    async def wrapped() -> None:
        await awaitable

    def target() -> None:
        try:
            asyncio.run(wrapped())
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=target, name="paxx-prepare-database")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


# --- the note the xdist controller reads -------------------------------------------------


def _leave_note(folder: Path, url: str, template: str) -> None:
    folder.mkdir(mode=0o700, exist_ok=True)
    # The note holds DATABASE_URL (a password), like .env: readable by this user only.
    descriptor = os.open(folder / "template.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"url": url, "template": template}, handle)


def drop_noted_template(run_id: str) -> None:
    """The controller's part: drop the template a worker of this run made, if one did."""
    folder = note_folder(run_id)
    try:
        note = json.loads((folder / "template.json").read_text())
    except (OSError, ValueError):
        return
    try:
        databases = open_databases_for_cleanup(note["url"], note["template"])
        databases.close(drop_template=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def open_databases_for_cleanup(url: str, template: str) -> Databases:
    """A Databases connected to PostgreSQL that owns `template` (to drop it)."""
    asyncpg = importlib.import_module("asyncpg")
    run = Run(template.removeprefix("paxx_").removesuffix("_template"), "controller")
    databases = Databases(asyncpg, url, run, vector=False)
    databases.made_template = True
    try:
        databases._run(databases._connect())
    except BaseException:
        databases.made_template = False
        databases.close(drop_template=False)
        raise
    return databases
