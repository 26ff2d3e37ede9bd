"""A database of each test's own: a clone of the run's template, or one set back to it.

Each process keeps a few databases that are exactly the template's copy and hands one to
each test. After the test, in the background, the database is made ready again:

- no session connected to it during the test: it is still the copy, and is kept as it is;
- the test only wrote rows: its tables are emptied and its sequences set back (reuse.py);
- it changed the schema, or a table the template filled: it is dropped, and a new clone of
  the template (`CREATE DATABASE ... TEMPLATE`, which copies the whole catalog, about 8 MB)
  takes its place.

Sessions a test left open are ended first, as `DROP DATABASE ... WITH (FORCE)` would. The
session drops every database it made when it ends (template.py makes and drops the template).
With --paxx-reuse-db, a spare kept by an earlier run takes the place of a clone, and the
databases ready at the end are kept as spares for the next run (kept.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Coroutine, Iterator
from typing import Any

from paxx_env.errors import PaxxError
from paxx_env.testing.kept import MAX_SPARES, Keep, claim, keep_spare, named
from paxx_env.testing.pgadmin import Admin, database_url, quoted
from paxx_env.testing.reuse import POINT, Reference, reset
from paxx_env.testing.run import Run
from paxx_env.testing.template import Prepare, Template, reference_of, template_name

#: The feature whose declaration puts the `vector` extension in the template.
VECTOR_FEATURE = "vector"
#: Databases ready or being made ready, besides the one a test holds.
AHEAD = 2
#: How long a test's sessions may take to end before its database is dropped instead.
SESSIONS_END = 5.0

#: Whether no client session is connected to the database $1, and the sessions PostgreSQL
#: counted for it are still $2 (PostgreSQL >= 14).
UNTOUCHED = """
SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
                    WHERE datname = $1 AND backend_type = 'client backend')
   AND (SELECT sessions FROM pg_stat_database WHERE datname = $1) = $2
"""
CLIENTS = """
SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'
"""
END_CLIENTS = """
SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
 WHERE datname = $1 AND backend_type = 'client backend'
"""


class Databases:
    """The databases this process hands to its tests."""

    def __init__(self, admin: Admin, template: Template, prefix: str) -> None:
        self.admin = admin
        self.template = template
        self._prefix = prefix.replace("-", "_")
        self._count = itertools.count(1)
        #: Databases that are the template's copy, the next to hand out first.
        self._ready: list[str] = []
        #: Clones and resets under way; each puts its database in `_ready` when done.
        self._work: set[asyncio.Future[None]] = set()
        self._errors: list[BaseException] = []
        self._drops: set[asyncio.Future[None]] = set()
        self._failed: list[str] = []
        #: database -> the next transaction id when it was last the template's copy
        self._points: dict[str, int] = {}
        #: database -> the sessions PostgreSQL had counted for it then
        self._sessions: dict[str, int] = {}
        self._reference: asyncio.Future[Reference | None] | None = None
        #: With reuse on: the kept template's spares not yet tried (read at the first clone).
        self._spares: list[str] | None = None
        self._claiming = asyncio.Lock()

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """The URL of a database of its own for one test; made ready for another after it."""
        name = self.admin.run(self._take())
        try:
            yield database_url(self.admin.url, name)
        finally:
            self.admin.run(self._release(name))

    async def _take(self) -> str:
        while not self._ready:
            if self._errors:
                raise self._errors.pop(0)
            if not self._work:
                self._start(self._clone())
            await asyncio.wait(set(self._work), return_when=asyncio.FIRST_COMPLETED)
        name = self._ready.pop(0)
        while len(self._ready) + len(self._work) < AHEAD:
            self._start(self._clone())
        return name

    async def _release(self, name: str) -> None:
        """Hand the database on as it is if nobody connected to it; else make it ready later.

        A test that asked for a database and never connected (paxx_settings asks for one in
        every test) left it as it was. PostgreSQL counts the sessions of each database, and a
        session's count reaches the statistics before the session leaves pg_stat_activity,
        so: no session now and no new one counted means nothing was changed.
        """
        try:
            untouched = await self.admin.ask(UNTOUCHED, name, self._sessions.get(name, 0))
        except (self.admin.asyncpg.PostgresError, OSError):
            untouched = False  # a server without pg_stat_database.sessions (before 14)
        if untouched:
            self._ready.insert(0, name)
        else:
            self._start(self._renew(name))

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def _clone(self) -> None:
        """Make one more clone of the template, on a connection of its own.

        When this process did not make the template, the first clone is where the reference
        (reuse.py) is read, before any test has it.
        """
        reference = None
        if self._reference is None:
            self._reference = asyncio.get_running_loop().create_future()
            if self.template.reference is not None:
                self._reference.set_result(self.template.reference)
            else:
                reference = self._reference
        name = f"{self._prefix}_db{next(self._count):05d}"
        template = quoted(self.template.name)
        try:
            if not await self._claimed(name):
                await self.admin.alone(f"CREATE DATABASE {quoted(name)} TEMPLATE {template}")
            self._points[name] = await self.admin.ask(POINT)
        except Exception as error:
            self._errors.append(error)
            if reference is not None:
                reference.set_result(None)
            return
        if reference is not None:
            reference.set_result(await self._read_reference(name))
        self._ready.append(name)

    async def _claimed(self, name: str) -> bool:
        """With reuse on: whether a spare of the kept template (kept.py) is now `name`."""
        keep = self.template.keep
        if keep is None:
            return False
        async with self._claiming:  # the clones made ahead ask at the same time
            if self._spares is None:
                self._spares = await named(self.admin, keep.spare_prefix)
            while self._spares:
                sessions = await claim(self.admin, self._spares.pop(0), name)
                if sessions is not None:
                    self._sessions[name] = sessions
                    return True
        return False

    async def _read_reference(self, name: str) -> Reference | None:
        """The reference read from the clone `name`, whose session count it then notes."""
        found = await reference_of(self.admin, name)
        if found is None:
            return None
        try:
            self._sessions[name] = await self._settled(name)
        except (self.admin.asyncpg.PostgresError, OSError, TimeoutError):
            return None
        return found

    async def _renew(self, name: str) -> None:
        """Set the database back to the template's copy, or drop it and clone another."""
        try:
            ready = await self._reset(name)
        except Exception:  # whatever went wrong, a dropped database cannot leak rows
            ready = False
        if ready:
            self._ready.append(name)
        else:
            self._later(self._drop(name))
            await self._clone()

    async def _reset(self, name: str) -> bool:
        reference = await self._reference if self._reference is not None else None
        if reference is None or not reference.reusable:
            return False
        await self.admin.ask(END_CLIENTS, name)
        if not await self._no_clients(name):
            return False
        connection = await self.admin.asyncpg.connect(database_url(self.admin.url, name))
        try:
            # A lost reset is a database dropped later; no need to wait for the disk.
            # row_security off: a row a policy would hide from this role is an error, not a
            # row left behind.
            await connection.execute(
                "SET synchronous_commit = off; SET lock_timeout = '5s'; SET row_security = off"
            )
            if not await reset(connection, reference, self._points[name]):
                return False
            self._points[name] = await connection.fetchval(POINT)
        finally:
            await connection.close()
        self._sessions[name] = await self._settled(name)
        return True

    async def _settled(self, name: str) -> int:
        """The sessions counted for `name`, once no client is connected to it."""
        if not await self._no_clients(name):
            raise TimeoutError(f"sessions of {name} did not end")
        return int(await self.admin.sessions(name) or 0)

    async def _no_clients(self, name: str) -> bool:
        """Wait until no client is connected to `name`; False when they stay SESSIONS_END."""
        deadline = time.monotonic() + SESSIONS_END
        while await self.admin.ask(CLIENTS, name):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.002)
        return True

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        """On the loop: run `work` in the background; the session waits for it at its end."""
        task = asyncio.ensure_future(work)
        self._drops.add(task)
        task.add_done_callback(self._drops.discard)

    async def _drop(self, name: str) -> None:
        self._points.pop(name, None)
        self._sessions.pop(name, None)
        try:
            await self.admin.drop(name)
        except Exception as error:  # reported when the session ends
            self._failed.append(f"{name} ({error})")

    async def _keep(self, keep: Keep, name: str) -> None:
        """Keep a ready database as a spare for a later run; drop it if that fails."""
        try:
            await keep_spare(self.admin, keep, name)
        except Exception:  # whatever went wrong, the database is not left under this run's name
            await self._drop(name)

    def close(self, drop_template: bool) -> None:
        """Drop every database made here (and the template when asked)."""
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
        while self._work:
            await asyncio.wait(set(self._work))
        keep = self.template.keep
        room = 0
        if keep is not None and self._ready:
            room = MAX_SPARES - len(await named(self.admin, keep.spare_prefix))
        for name in self._ready:
            if keep is not None and room > 0:
                room -= 1
                self._later(self._keep(keep, name))
            else:
                self._later(self._drop(name))
        self._ready.clear()
        if drop_template and self.template.made_here and keep is None:
            # Beside the clones' drops: dropping the template only needs none to be cloning.
            self._later(self.template.drop())
        while self._drops:
            await asyncio.gather(*list(self._drops))


def open_databases(
    url: str, run: Run, vector: bool, prepare: Prepare, worker: bool, keep: Keep | None = None
) -> Databases:
    """Connect to PostgreSQL and make sure the run's template (or the kept one) is ready.

    `worker`: this is an xdist worker, which leaves the run's template to the controller.
    """
    admin = Admin(url)
    template = Template(admin, template_name(run.id), keep)
    try:
        template.make(vector, prepare, run.id if worker and keep is None else None)
    except BaseException:
        admin.close()
        raise
    return Databases(admin, template, run.prefix)
