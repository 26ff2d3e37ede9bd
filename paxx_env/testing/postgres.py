"""A database of each test's own, cloned from a template prepared once per test run.

The template `paxx_RUN_template` is made by the first process of the run that needs a
database: it takes a PostgreSQL advisory lock, creates the template (with the `vector`
extension when that feature is declared), calls the `pytest_paxx_prepare_database` hook on it
(the user's migrations) and closes it to connections. Other xdist workers wait on the lock and
find it ready, so no two prepare it at once. Without xdist the session drops it at the end;
under xdist the controller does, after every worker is done (the worker that made it leaves
a note, see run.py).

Each test's database is `CREATE DATABASE ... TEMPLATE` the template. Cloning copies the whole
catalog (about 8 MB), so the next test's database is made in the background while a test
runs, and a test's database is dropped after it, also in the background; the session waits
for every drop before it ends.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import inspect
import itertools
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from paxx_env.errors import PaxxError
from paxx_env.testing.pgadmin import Admin, database_url, quoted
from paxx_env.testing.run import Run, forget_note, leave_note, read_note

#: The feature whose declaration puts the `vector` extension in the template.
VECTOR_FEATURE = "vector"
Prepare = Callable[[str], list[object]]


#: Whether no session is connected to the database $1 and none ever was (PostgreSQL >= 14).
UNTOUCHED = """
SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = $1)
   AND (SELECT sessions FROM pg_stat_database WHERE datname = $1) = 0
"""


def template_name(run_id: str) -> str:
    """The template database of a run."""
    return f"paxx_{run_id}_template"


class Template:
    """The run's template database, as this process knows it."""

    def __init__(self, admin: Admin, name: str) -> None:
        self.admin = admin
        self.name = name
        #: Whether this process made it (and so must see that it is dropped).
        self.made_here = False

    def make(self, vector: bool, prepare: Prepare, note_run: str | None) -> None:
        """Make and prepare the template unless another process has; wait while one does."""
        digest = hashlib.sha256(self.name.encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        run = self.admin.run
        run(self.admin.value("SELECT pg_advisory_lock($1)", key), timeout=None)
        try:
            ready = run(
                self.admin.value(
                    "SELECT NOT datallowconn FROM pg_database WHERE datname = $1", self.name
                )
            )
            if ready:
                return
            if ready is not None:  # left half-made by a process whose preparation failed
                run(self.drop())
            run(self.admin.value(f"CREATE DATABASE {quoted(self.name)}"))
            self.made_here = True
            if note_run is not None:
                leave_note(note_run, {"url": self.admin.url, "template": self.name})
            try:
                self._prepare(vector, prepare)
            except BaseException:
                run(self.drop())
                raise
        finally:
            run(self.admin.value("SELECT pg_advisory_unlock($1)", key))

    def _prepare(self, vector: bool, prepare: Prepare) -> None:
        if vector:
            self.admin.run(
                self.admin.in_database(self.name, "CREATE EXTENSION IF NOT EXISTS vector")
            )
        for result in prepare(database_url(self.admin.url, self.name)):
            if inspect.isawaitable(result):
                _await_elsewhere(result)
        # No connection to the template from now on: cloning needs it idle.
        name = quoted(self.name)
        self.admin.run(
            self.admin.value(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true")
        )
        self.admin.run(
            self.admin.value(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
                self.name,
            )
        )

    async def drop(self) -> None:
        """On the admin loop: drop the template, if it exists."""
        exists = await self.admin.value("SELECT 1 FROM pg_database WHERE datname = $1", self.name)
        if exists:
            await self.admin.value(f"ALTER DATABASE {quoted(self.name)} WITH IS_TEMPLATE false")
            await self.admin.value(f"DROP DATABASE IF EXISTS {quoted(self.name)} WITH (FORCE)")


class Databases:
    """The clones of the run's template that this process hands out, one made ahead."""

    def __init__(self, admin: Admin, template: Template, prefix: str) -> None:
        self.admin = admin
        self.template = template
        self._prefix = prefix.replace("-", "_")
        self._count = itertools.count(1)
        self._ahead: collections.deque[asyncio.Future[str]] = collections.deque()
        self._drops: set[asyncio.Future[None]] = set()
        self._failed: list[str] = []

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """The URL of a database of its own for one test; dropped after it.

        When no session connected to it, it is handed to the next test instead: it is still
        the template's copy.
        """
        name = self.admin.run(self._take())
        try:
            yield database_url(self.admin.url, name)
        finally:
            self.admin.run(self._release(name))

    async def _take(self) -> str:
        if not self._ahead:
            self._ahead.append(asyncio.ensure_future(self._clone()))
        name = await self._ahead.popleft()
        if not self._ahead:
            self._ahead.append(asyncio.ensure_future(self._clone()))
        return name

    async def _release(self, name: str) -> None:
        """Keep a test's database for the next test if no one connected, else drop it later.

        A test that asked for a database and never connected (paxx_settings asks for one in
        every test) left it as the template made it. PostgreSQL counts the sessions of each
        database, and a session's count reaches the statistics before the session leaves
        pg_stat_activity, so: no session now and none counted means nothing was changed.
        """
        try:
            untouched = await self.admin.ask(UNTOUCHED, name)
        except (self.admin.asyncpg.PostgresError, OSError):
            untouched = False  # a server without pg_stat_database.sessions (before 14)
        if untouched:
            kept: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            kept.set_result(name)
            self._ahead.appendleft(kept)
        else:
            self._later(self._drop(name))

    async def _clone(self) -> str:
        name = f"{self._prefix}_db{next(self._count):05d}"
        template = quoted(self.template.name)
        await self.admin.value(f"CREATE DATABASE {quoted(name)} TEMPLATE {template}")
        return name

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        """On the loop: run `work` in the background; the session waits for it at its end."""
        task = asyncio.ensure_future(work)
        self._drops.add(task)
        task.add_done_callback(self._drops.discard)

    async def _drop(self, name: str) -> None:
        try:
            await self.admin.value(f"DROP DATABASE IF EXISTS {quoted(name)} WITH (FORCE)")
        except (self.admin.asyncpg.PostgresError, OSError) as error:
            self._failed.append(f"{name} ({error})")

    def settle(self) -> None:
        """Wait until every test database handed out so far is dropped."""
        self.admin.run(self._settle())

    async def _settle(self) -> None:
        while self._drops:
            await asyncio.gather(*list(self._drops))

    def close(self, drop_template: bool) -> None:
        """Drop the clone made ahead, wait for the drops (and drop the template when asked)."""
        try:
            self.admin.run(self._close(drop_template))
        finally:
            self.admin.close()
        if self._failed:
            raise PaxxError(
                f"could not drop the test databases {', '.join(self._failed)}",
                "drop them by hand (`DROP DATABASE name`), or they go with `paxx down --volumes`",
            )

    async def _close(self, drop_template: bool) -> None:
        while self._ahead:
            ahead = self._ahead.popleft()
            with contextlib.suppress(Exception):
                self._later(self._drop(await ahead))
        await self._settle()
        if drop_template and self.template.made_here:
            await self.template.drop()


def open_databases(url: str, run: Run, vector: bool, prepare: Prepare, worker: bool) -> Databases:
    """Connect to PostgreSQL and make sure the run's template is ready.

    `worker`: this is an xdist worker, which leaves the template to the controller.
    """
    admin = Admin(url)
    template = Template(admin, template_name(run.id))
    try:
        template.make(vector, prepare, run.id if worker else None)
    except BaseException:
        admin.close()
        raise
    return Databases(admin, template, run.prefix)


def drop_noted_template(run_id: str) -> None:
    """The xdist controller's part: drop the template a worker of this run made, if one did."""
    note = read_note(run_id)
    if note is None:
        return
    try:
        admin = Admin(str(note["url"]))
        try:
            admin.run(Template(admin, str(note["template"])).drop())
        finally:
            admin.close()
    finally:
        forget_note(run_id)


def _await_elsewhere(awaitable: Any) -> None:
    """Run an `async def` hook to its end on a new loop, in a thread of its own.

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
