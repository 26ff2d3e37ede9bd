"""The hook the paxx plugin adds to pytest."""

from __future__ import annotations

import pluggy
import pytest

hookspec = pluggy.HookspecMarker("pytest")


@hookspec
def pytest_paxx_prepare_database(database_url: str, config: pytest.Config) -> object:
    """Prepare the template database every test's database is cloned from.

    Run migrations here (or create tables). `database_url` is a postgresql:// URL of the
    template; close every connection to it before returning. Called once per test run, in
    whichever process (xdist worker) needs a database first, while the others wait; every
    implementation is called. An `async def` implementation is awaited.
    """
