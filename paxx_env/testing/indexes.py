"""A Meilisearch index of each test's own: a uid no other test uses, deleted after the test.

The index is not created up front (Meilisearch creates it with the first documents, and the
generated search module does the same); after the test it is deleted and the deletion is
waited for, so it is gone when the next test starts. Meilisearch has no namespaces: the app's
code must take the index name from the test (it does when the name is a parameter or setting).
"""

from __future__ import annotations

import time
import urllib.parse

from paxx_env.errors import PaxxError
from paxx_env.testing.webapi import call

WHAT = "Meilisearch"
TASK_TIMEOUT = 30.0
POLL_SECONDS = 0.02


class Indexes:
    """A client of the project's Meilisearch."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}

    def exists(self, uid: str) -> bool:
        """Whether the index `uid` exists."""
        found = call("GET", self._index(uid), headers=self._headers, what=WHAT, missing_ok=True)
        return found is not None

    def delete(self, uid: str) -> None:
        """Delete the index `uid` (if it exists) and wait until Meilisearch has."""
        task = call("DELETE", self._index(uid), headers=self._headers, what=WHAT, missing_ok=True)
        if task is not None:
            self._wait(task["taskUid"])

    def _index(self, uid: str) -> str:
        return f"{self.url}/indexes/{urllib.parse.quote(uid, safe='')}"

    def _wait(self, task: int) -> None:
        deadline = time.monotonic() + TASK_TIMEOUT
        while True:
            found = call("GET", f"{self.url}/tasks/{task}", headers=self._headers, what=WHAT)
            if found["status"] in ("succeeded", "failed", "canceled"):
                return  # failed: there was no such index (nothing was added to it)
            if time.monotonic() >= deadline:
                raise PaxxError(
                    f"Meilisearch did not delete a test's index within {TASK_TIMEOUT:g} s "
                    f"(task {task})",
                    "run `paxx logs meilisearch` to see what it is doing",
                )
            time.sleep(POLL_SECONDS)
