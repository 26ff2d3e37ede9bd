"""The run's template database: made and prepared once per test run, dropped at its end.

The template `paxx_RUN_template` is made by the first process of the run that needs a
database: it takes a PostgreSQL advisory lock, creates the template (with the `vector`
extension when that feature is declared), calls the `pytest_paxx_prepare_database` hook on it
(the user's migrations), reads the reference from it (reuse.py: what a test's database is set
back to) and closes it to connections. Other xdist workers wait on the lock and
find it ready, so no two prepare it at once. Without xdist the session drops it at the end;
under xdist the controller does, after every worker is done (the worker that made it leaves
a note, see run.py). With --paxx-reuse-db the template is the kept one (kept.py): named after
what it is made from, made only when missing (or, with --paxx-create-db, once per run), and
never dropped by a session.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import threading
from collections.abc import Callable
from typing import Any

from paxx_env.testing.kept import Keep, forget_other_keys
from paxx_env.testing.pgadmin import Admin, database_url, quoted
from paxx_env.testing.reuse import Reference, read_reference
from paxx_env.testing.run import forget_note, leave_note, read_note

Prepare = Callable[[str], list[object]]


def template_name(run_id: str) -> str:
    """The template database of a run."""
    return f"paxx_{run_id}_template"


class Template:
    """The run's template database (or the kept one, kept.py), as this process knows it."""

    def __init__(self, admin: Admin, name: str, keep: Keep | None = None) -> None:
        self.admin = admin
        self.keep = keep
        self.name = keep.template if keep is not None else name
        #: Whether this process made it (and so must see that it is dropped).
        self.made_here = False
        #: Read from the template when this process made it; else read from the first clone.
        self.reference: Reference | None = None

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
            if ready and not run(self._to_make_anew()):
                return
            if ready is not None:  # half-made by a process whose preparation failed, or stale
                run(self.drop())
            if self.keep is not None:
                run(forget_other_keys(self.admin, self.keep))
            run(self.admin.value(f"CREATE DATABASE {quoted(self.name)}"))
            self.made_here = True
            if self.keep is not None and self.keep.create_for_run is not None:
                made_by = f"paxx run {self.keep.create_for_run}"
                run(self.admin.value(f"COMMENT ON DATABASE {quoted(self.name)} IS '{made_by}'"))
            if note_run is not None:
                leave_note(note_run, {"url": self.admin.url, "template": self.name})
            try:
                self._prepare(vector, prepare)
            except BaseException:
                run(self.drop())
                raise
        finally:
            run(self.admin.value("SELECT pg_advisory_unlock($1)", key))

    async def _to_make_anew(self) -> bool:
        """--paxx-create-db: whether the kept template is older than this run."""
        if self.keep is None or self.keep.create_for_run is None:
            return False
        comment = await self.admin.value(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            self.name,
        )
        return bool(comment != f"paxx run {self.keep.create_for_run}")

    def _prepare(self, vector: bool, prepare: Prepare) -> None:
        if vector:
            self.admin.run(
                self.admin.in_database(self.name, "CREATE EXTENSION IF NOT EXISTS vector")
            )
        for result in prepare(database_url(self.admin.url, self.name)):
            if inspect.isawaitable(result):
                _await_elsewhere(result)
        self.reference = self.admin.run(reference_of(self.admin, self.name))
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
            await self.admin.drop(self.name)


async def reference_of(admin: Admin, name: str) -> Reference | None:
    """On the admin loop: the reference (reuse.py) read from the database `name`.

    On a connection of its own. None when it cannot be read (e.g. a table the role may not
    read): then no database is reused, each is dropped and cloned.
    """
    try:
        connection = await admin.asyncpg.connect(database_url(admin.url, name))
        try:
            found: Reference = await read_reference(connection)
        finally:
            await connection.close()
    except (admin.asyncpg.PostgresError, OSError):
        return None
    return found


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
