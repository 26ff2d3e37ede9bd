"""Administrative connections to PostgreSQL, on an event loop of its own in a thread.

asyncpg (which the db feature installs) is async-only. Its connections live on a loop in a
thread of this process, so the fixtures use them the same way whether the test runs on
pytest-asyncio's loop (auto or strict mode) or on none. CREATE and DROP DATABASE go through one
connection and one lock (an asyncpg connection runs one statement at a time); quick questions
go through a second, so they never wait behind a clone.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import threading
from collections.abc import Coroutine
from types import ModuleType
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from paxx_env.errors import PaxxError

T = TypeVar("T")
TIMEOUT = 60.0


def database_url(url: str, name: str) -> str:
    """`url` with its database replaced by `name`."""
    return urlsplit(url)._replace(path="/" + quote(name, safe="")).geturl()


def quoted(name: str) -> str:
    """`name` as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def import_asyncpg() -> ModuleType:
    """asyncpg, or a PaxxError saying how to install it."""
    try:
        return importlib.import_module("asyncpg")
    except ImportError:
        raise PaxxError(
            "paxx_db_url talks to PostgreSQL with asyncpg, which is not installed here",
            "install the project's dependencies (the db feature adds asyncpg), "
            "e.g. `pip install -e .`",
        ) from None


class Admin:
    """A connection to the database `url` names, for CREATE and DROP DATABASE."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.asyncpg = import_asyncpg()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="paxx-postgres", daemon=True
        )
        self._thread.start()
        self._connection: Any = None
        self._lock: asyncio.Lock | None = None
        #: A second connection for quick questions, not queued behind a CREATE DATABASE.
        self._probe: Any = None
        self._probe_lock: asyncio.Lock | None = None
        try:
            self.run(self._connect())
        except BaseException:
            self.close()
            raise

    async def _connect(self) -> None:
        self._connection = await self.asyncpg.connect(self.url)
        self._lock = asyncio.Lock()
        self._probe = await self.asyncpg.connect(self.url)
        self._probe_lock = asyncio.Lock()

    def run(self, work: Coroutine[Any, Any, T], timeout: float | None = TIMEOUT) -> T:
        """Run `work` on the connection's loop and wait for it; errors are PaxxErrors."""
        future = asyncio.run_coroutine_threadsafe(work, self.loop)
        try:
            return future.result(timeout)
        except self.asyncpg.PostgresError as error:
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

    async def value(self, sql: str, *args: object) -> Any:
        """On the loop: run one statement, its first value."""
        assert self._lock is not None
        async with self._lock:
            return await self._connection.fetchval(sql, *args)

    async def ask(self, sql: str, *args: object) -> Any:
        """On the loop: a quick query on the second connection, its first value."""
        assert self._probe_lock is not None
        async with self._probe_lock:
            return await self._probe.fetchval(sql, *args)

    async def rows(self, sql: str, *args: object) -> list[Any]:
        """On the loop: a quick query on the second connection, all its rows."""
        assert self._probe_lock is not None
        async with self._probe_lock:
            return list(await self._probe.fetch(sql, *args))

    async def sessions(self, name: str) -> Any:
        """On the loop: the sessions PostgreSQL counted for the database `name`, or None."""
        return await self.ask("SELECT sessions FROM pg_stat_database WHERE datname = $1", name)

    async def drop(self, name: str) -> None:
        """On the loop: drop the database `name` if it exists, ending its sessions."""
        await self.alone(f"DROP DATABASE IF EXISTS {quoted(name)} WITH (FORCE)")

    async def alone(self, sql: str) -> None:
        """On the loop: run one statement on a connection of its own, beside the others."""
        await self._execute(self.url, sql)

    async def in_database(self, name: str, sql: str) -> None:
        """On the loop: run one statement in the database `name`, on a connection of its own."""
        await self._execute(database_url(self.url, name), sql)

    async def _execute(self, url: str, sql: str) -> None:
        connection = await self.asyncpg.connect(url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    def close(self) -> None:
        """Close the connection and stop the loop's thread."""
        for connection in (self._connection, self._probe):
            if connection is not None:
                with contextlib.suppress(PaxxError):  # the server is gone: nothing to close
                    self.run(connection.close())
        self._connection = self._probe = None
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()
