"""A Redis logical database of each test's own, empty when the test starts and when it ends.

Each pytest process (each xdist worker) leases one logical database for its whole session,
never the one REDIS_URL names (the app's), taking them from the highest number down. A lease
is an exclusive lock on a file in a private temporary folder, so concurrent test runs on this
machine never share a database, and a crashed run's lease ends with its process. A worker runs
one test at a time, so the test has the database to itself: it is flushed before and after.

Pub/sub channels are not per database: Redis delivers a message to every subscriber of the
channel, whatever database it selected. Tests that publish prefix their channels with the
test's namespace (`paxx_namespace`); paxx_settings sets WEBSOCKET_CHANNEL_PREFIX to it.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from paxx_env.errors import PaxxError

#: Redis's default number of logical databases, for servers that hide CONFIG.
DEFAULT_DATABASES = 16


def with_database(url: str, index: int) -> str:
    """`url` with its database number replaced by `index`."""
    return urlsplit(url)._replace(path=f"/{index}").geturl()


def database_of(url: str) -> int:
    """The database number a redis:// URL names (0 when it names none)."""
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else 0


class RedisLease:
    """One logical database, this process's for its session."""

    def __init__(self, url: str, index: int, lock: IO[str], client: Any) -> None:
        self.url = with_database(url, index)
        self.index = index
        self._lock = lock
        self._client = client

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """The URL of the leased database, empty now and emptied again after the test."""
        self._flush()
        try:
            yield self.url
        finally:
            self._flush()

    def _flush(self) -> None:
        errors = importlib.import_module("redis.exceptions")
        try:
            self._client.flushdb()
        except (errors.RedisError, OSError) as error:
            raise PaxxError(
                f"Redis did not empty database {self.index}: {error}",
                "run `paxx status` to see whether it runs, or `paxx up` to start it",
            ) from None

    def close(self) -> None:
        """Close the connection and end the lease."""
        with contextlib.suppress(Exception):
            self._client.close()
        self._lock.close()


def lease_database(url: str) -> RedisLease:
    """Lease a logical database of the Redis server at `url` for this process."""
    try:
        redis = importlib.import_module("redis")
    except ImportError:
        raise PaxxError(
            "paxx_redis_url talks to Redis with the redis package, which is not installed here",
            "install the project's dependencies (the cache feature adds redis), "
            "e.g. `pip install -e .`",
        ) from None
    probe = redis.Redis.from_url(url)
    try:
        count = _database_count(probe, redis.exceptions)
    finally:
        probe.close()
    app = database_of(url)
    server = urlsplit(url)
    for index in range(count - 1, -1, -1):
        if index == app:
            continue
        lock = _try_lock(f"redis-{server.hostname}-{server.port}-{index}")
        if lock is not None:
            return RedisLease(url, index, lock, redis.Redis.from_url(with_database(url, index)))
    raise PaxxError(
        f"every Redis database but the app's ({count - 1}) is leased by another test process",
        "run fewer pytest workers at once (-n), or give Redis more databases (--databases N)",
    )


def _database_count(client: Any, errors: Any) -> int:
    try:
        found = client.config_get("databases")
    except errors.ResponseError:  # CONFIG renamed or disabled on this server
        return DEFAULT_DATABASES
    except (errors.RedisError, OSError) as error:
        raise PaxxError(
            f"Redis does not answer ({error})",
            "run `paxx status` to see whether it runs, or `paxx up` to start it",
        ) from None
    value = found.get("databases") or found.get(b"databases")
    return int(value) if value else DEFAULT_DATABASES


def lock_folder() -> Path:
    """The private folder of this user's leases."""
    folder = Path(tempfile.gettempdir()) / f"paxx-testing-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _try_lock(name: str) -> IO[str] | None:
    """An open file holding an exclusive lock on `name`, or None when another process has it."""
    handle = open(lock_folder() / f"{name}.lock", "a")  # noqa: SIM115 (held for the session)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle
