"""Passwords inside the URLs the generated modules read are secrets: shown masked, used intact.

The modules are rendered and imported here (no service is contacted): repr(), str(), JSON and
a log line of each settings object must not contain the password, and the client each module
builds from those settings must still log in with it.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from paxx_env.catalog import load_catalog, select
from paxx_env.render import render_client_modules

CATALOG = load_catalog()
PASSWORD = "hunter2-Xq9"
QUOTED = "p%40ss%2Fw"  # "p@ss/w", percent-encoded as it must be inside a URL
REDIS_URL = f"redis://app:{PASSWORD}@127.0.0.1:6390/0"
DATABASE_URL = f"postgresql://app:{PASSWORD}@127.0.0.1:5439/shop"


@pytest.fixture(scope="module")
def modules(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    root = tmp_path_factory.mktemp("secrets")
    package = "shop_secrets"
    features = select(CATALOG, ["cache", "tasks", "websocket", "db"], {}).features
    for path, body in render_client_modules(CATALOG, features, "shop", package).files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(body)
    (root / package / "__init__.py").write_text("")
    sys.path.insert(0, str(root))
    try:
        yield {
            name: importlib.import_module(f"{package}.{name}")
            for name in ("cache", "tasks", "websocket", "db")
        }
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.startswith(package)]:
            del sys.modules[name]


def shown(settings: object, caplog: pytest.LogCaptureFixture) -> str:
    """Every way a settings object commonly ends up in front of someone."""
    with caplog.at_level(logging.INFO):
        logging.getLogger("shop").info("settings: %s %r", settings, settings)
    dump = settings.model_dump_json()  # type: ignore[attr-defined]
    return "\n".join([repr(settings), str(settings), dump, caplog.text])


@pytest.mark.parametrize(
    ("module", "settings_class", "variable", "url"),
    [
        ("cache", "CacheSettings", "redis_url", REDIS_URL),
        ("tasks", "TasksSettings", "redis_url", REDIS_URL),
        ("websocket", "WebsocketSettings", "redis_url", REDIS_URL),
        ("db", "DatabaseSettings", "database_url", DATABASE_URL),
    ],
)
def test_settings_never_show_the_password_in_the_url(
    modules: dict[str, ModuleType],
    caplog: pytest.LogCaptureFixture,
    module: str,
    settings_class: str,
    variable: str,
    url: str,
) -> None:
    settings = getattr(modules[module], settings_class)(**{variable: url})
    text = shown(settings, caplog)
    assert PASSWORD not in text
    assert "**********" in text
    assert str(getattr(settings, variable).get_secret_value()) == url


def test_the_clients_still_log_in_with_the_password(modules: dict[str, ModuleType]) -> None:
    cache = modules["cache"].create_client(modules["cache"].CacheSettings(redis_url=REDIS_URL))
    assert cache.connection_pool.connection_kwargs["password"] == PASSWORD
    ws = modules["websocket"]
    client = ws.create_client(ws.WebsocketSettings(redis_url=REDIS_URL))
    assert client.connection_pool.connection_kwargs["password"] == PASSWORD
    tasks = modules["tasks"]
    quoted = tasks.TasksSettings(redis_url=f"redis://me:{QUOTED}@127.0.0.1:6390/2")
    assert tasks.arq_redis_settings(quoted).password == "p@ss/w"
    db = modules["db"]
    engine = db.create_engine(db.DatabaseSettings(database_url=DATABASE_URL))
    assert engine.url.password == PASSWORD
    assert PASSWORD not in repr(engine.url)
