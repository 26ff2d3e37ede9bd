"""pytest plugin `paxx`: every test gets its own slice of the project's running environment.

pytest loads this module in every run of a Python environment where paxx is installed (the
`pytest11` entry point), so it stays cheap: at import it needs only pytest and
paxx_env.errors, and it changes nothing until a test asks for a paxx fixture. When the
session starts in a folder paxx has synced (pytest's rootdir, or --paxx-project), a thread
looks whether its services are up while pytest collects (environment.Lookahead: files read,
two docker calls). The first paxx fixture brings the project up when it is not, once per
process; each fixture makes its slice before the test and removes it after. Errors are
paxx's two lines, without a traceback. `pytest -p no:paxx` switches the plugin off. See
docs/testing.md.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from paxx_env.errors import PaxxError

if TYPE_CHECKING:
    from paxx_env.testing.buckets import Buckets
    from paxx_env.testing.environment import Environment, Lookahead
    from paxx_env.testing.indexes import Indexes
    from paxx_env.testing.kept import Keep
    from paxx_env.testing.keyvalue import RedisLease
    from paxx_env.testing.mailbox import Mailbox
    from paxx_env.testing.postgres import Databases
    from paxx_env.testing.run import Run
    from paxx_env.testing.spans import Spans


def pytest_addoption(parser: pytest.Parser) -> None:
    """--paxx-project and --paxx-no-up."""
    group = parser.getgroup("paxx", "paxx: the running environment, sliced per test")
    group.addoption(
        "--paxx-project",
        metavar="DIR",
        default=None,
        help="the paxx project whose services the tests use (default: pytest's rootdir)",
    )
    group.addoption(
        "--paxx-reuse-db",
        action="store_true",
        default=False,
        help="keep the template database and spare copies of it for the next run (made "
        "again when the preparation hook, the Alembic migrations or paxx_reuse_db_inputs "
        "change); also the paxx_reuse_db ini option",
    )
    group.addoption(
        "--paxx-create-db",
        action="store_true",
        default=False,
        help="make the kept template again in this run, and keep it (after a change "
        "--paxx-reuse-db does not see)",
    )
    parser.addini(
        "paxx_reuse_db", "keep the template database between runs (--paxx-reuse-db)", "bool"
    )
    parser.addini(
        "paxx_reuse_db_inputs",
        "files and folders the kept template is made from, besides the hook and Alembic's",
        "paths",
    )
    group.addoption(
        "--paxx-no-up",
        action="store_true",
        default=False,
        help="do not start the services: fail the paxx fixtures unless they are up and healthy",
    )


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Add pytest_paxx_prepare_database."""
    from paxx_env.testing import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


#: In xdist's controller: the run id its workers got.
CONTROLLER = pytest.StashKey[str]()
#: The look at the project started with the session (environment.Lookahead).
LOOKAHEAD: pytest.StashKey[Lookahead] = pytest.StashKey()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Look whether the project is up while pytest collects (not in xdist's controller)."""
    config = session.config
    if config.option.collectonly or config.pluginmanager.has_plugin("dsession"):
        return
    from paxx_env.paths import STATE_FILE, find_root

    root = find_root(start_folder(config))
    if root is None or not (root / STATE_FILE).is_file():
        return  # not a project paxx has synced: nothing to look at, nothing more to load
    from paxx_env.testing.environment import Lookahead

    config.stash[LOOKAHEAD] = Lookahead(root)


def start_folder(config: pytest.Config) -> Path:
    """Where the project is looked for: --paxx-project, else pytest's rootdir."""
    return Path(config.getoption("paxx_project") or config.rootpath).resolve()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """In xdist's controller: every worker of this run gets the same run id."""
    from paxx_env.testing.run import RUN_KEY, run_id

    node.workerinput[RUN_KEY] = node.config.stash[CONTROLLER] = run_id(node.config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In xdist's controller: drop the run's template database once every worker is done."""
    config = session.config
    if CONTROLLER not in config.stash:
        return  # not xdist's controller: nothing to do, nothing to import
    from paxx_env.testing.run import note_folder

    if not note_folder(config.stash[CONTROLLER]).exists():
        return
    from paxx_env.testing.template import drop_noted_template

    try:
        drop_noted_template(config.stash[CONTROLLER])
    except PaxxError as error:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(two_lines(error), red=True)


def two_lines(error: PaxxError) -> str:
    """An error as paxx prints it: what went wrong, how to fix it, then any details."""
    text = f"paxx: error: {error.message}"
    if error.hint:
        text += f"\n  fix: {error.hint}"
    if error.details:
        text += "\n\n" + error.details.rstrip()
    return text


def fail(error: PaxxError) -> NoReturn:
    """Fail the test with paxx's two lines, and no traceback (nor the error it replaces)."""
    raise pytest.fail.Exception(two_lines(error), pytrace=False) from None


@contextlib.contextmanager
def reported() -> Iterator[None]:
    """Turn a PaxxError into a test error with paxx's two lines and no traceback."""
    try:
        yield
    except PaxxError as error:
        fail(error)


# ----------------------------------------------------------------------------- the session


@pytest.fixture(scope="session")
def _paxx_environment(request: pytest.FixtureRequest) -> Environment:
    """The project's environment, up and healthy (brought up when needed)."""
    from paxx_env.testing.environment import open_environment

    config = request.config
    bring_up = not config.getoption("paxx_no_up")
    try:
        return open_environment(
            start_folder(config), bring_up, lookahead=config.stash.get(LOOKAHEAD, None)
        )
    except PaxxError as error:
        fail(error)


@pytest.fixture(scope="session")
def _paxx_run(request: pytest.FixtureRequest) -> Run:
    from paxx_env.testing.run import Run

    return Run.of(request.config)


@pytest.fixture
def paxx_namespace(_paxx_run: Run) -> str:
    """A string unique to this test (and worker, and run): prefix shared names with it."""
    return _paxx_run.namespace()


@pytest.fixture
def paxx_settings(
    _paxx_environment: Environment, paxx_namespace: str, request: pytest.FixtureRequest
) -> Iterator[dict[str, str]]:
    """The app's variables pointing at this test's slices; also in os.environ meanwhile."""
    from paxx_env.testing.settings import settings_for

    values = settings_for(_paxx_environment, paxx_namespace, request.getfixturevalue)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, value)
        yield values


# ----------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def _paxx_databases(
    _paxx_environment: Environment, _paxx_run: Run, request: pytest.FixtureRequest
) -> Iterator[Databases]:
    from paxx_env.testing.postgres import VECTOR_FEATURE, open_databases
    from paxx_env.testing.run import is_worker

    config = request.config

    def prepare(url: str) -> list[object]:
        return list(config.hook.pytest_paxx_prepare_database(database_url=url, config=config))

    with reported():
        url = _paxx_environment.need("DATABASE_URL", "paxx_db_url", "a PostgreSQL database")
        vector = VECTOR_FEATURE in _paxx_environment.features
        keep = kept_template(config, _paxx_environment.root, _paxx_run, vector)
        databases = open_databases(url, _paxx_run, vector, prepare, is_worker(config), keep)
    yield databases
    with reported():
        databases.close(drop_template=not is_worker(config))


def kept_template(config: pytest.Config, root: Path, run: Run, vector: bool) -> Keep | None:
    """With --paxx-reuse-db (or the ini option, or --paxx-create-db): the kept template."""
    create = bool(config.getoption("paxx_create_db"))
    if not (create or config.getoption("paxx_reuse_db") or config.getini("paxx_reuse_db")):
        return None
    from paxx_env.testing.kept import Keep, template_key

    hooks = [i.function for i in config.hook.pytest_paxx_prepare_database.get_hookimpls()]
    named = [str(path) for path in config.getini("paxx_reuse_db_inputs")]
    key = template_key(hooks, vector, root, named)
    return Keep(key, run.id if create else None)


@pytest.fixture
def paxx_db_url(_paxx_databases: Databases) -> Iterator[str]:
    """The URL of a database of this test's own: the template's copy, nobody else's rows."""
    with reported(), _paxx_databases.database() as url:
        yield url


# ----------------------------------------------------------------------------- Redis


@pytest.fixture(scope="session")
def _paxx_redis(_paxx_environment: Environment) -> Iterator[RedisLease]:
    from paxx_env.testing.keyvalue import lease_database

    with reported():
        url = _paxx_environment.need("REDIS_URL", "paxx_redis_url", "a Redis server")
        lease = lease_database(url)
    yield lease
    lease.close()


@pytest.fixture
def paxx_redis_url(_paxx_redis: RedisLease) -> Iterator[str]:
    """The URL of a Redis database this test has to itself, empty at the start and after."""
    with reported(), _paxx_redis.database() as url:
        yield url


# ----------------------------------------------------------------------------- S3


@pytest.fixture(scope="session")
def _paxx_buckets(_paxx_environment: Environment) -> Iterator[Buckets]:
    from paxx_env.testing.buckets import open_buckets

    with reported():
        _paxx_environment.need("AWS_ENDPOINT_URL_S3", "paxx_s3_bucket", "an S3 service")
        buckets = open_buckets(_paxx_environment.variables)
    yield buckets
    buckets.close()


@pytest.fixture
def paxx_s3_bucket(_paxx_buckets: Buckets, paxx_namespace: str) -> Iterator[str]:
    """The name of a bucket of this test's own; emptied and removed after the test."""
    with reported():
        name = _paxx_buckets.create(paxx_namespace)
    yield name
    with reported():
        _paxx_buckets.remove(name)


# ----------------------------------------------------------------------------- mail


@pytest.fixture
def paxx_mailbox(_paxx_environment: Environment, paxx_namespace: str) -> Iterator[Mailbox]:
    """The mails this test sends (from paxx_settings's EMAIL_FROM), read from Mailpit."""
    from paxx_env.testing.mailbox import Mailbox, sender_for

    with reported():
        api = _paxx_environment.need("MAILPIT_URL", "paxx_mailbox", "a mail catcher")
    email_from = _paxx_environment.variables.get("EMAIL_FROM", "")
    mailbox = Mailbox(api, sender_for(email_from, paxx_namespace), paxx_namespace)
    yield mailbox
    with reported():
        mailbox.clear()


# ----------------------------------------------------------------------------- search


@pytest.fixture(scope="session")
def _paxx_indexes(_paxx_environment: Environment) -> Indexes:
    from paxx_env.testing.indexes import Indexes

    try:
        url = _paxx_environment.need("MEILI_URL", "paxx_search_index", "a search engine")
    except PaxxError as error:
        fail(error)
    return Indexes(url, _paxx_environment.variables.get("MEILI_MASTER_KEY", ""))


@pytest.fixture
def paxx_search_index(_paxx_indexes: Indexes, paxx_namespace: str) -> Iterator[str]:
    """An index uid no other test uses; the index is deleted after the test."""
    yield paxx_namespace
    with reported():
        _paxx_indexes.delete(paxx_namespace)


# ----------------------------------------------------------------------------- tracing


@pytest.fixture
def paxx_spans(_paxx_environment: Environment, paxx_namespace: str) -> Spans:
    """The test's spans (with paxx_settings's `paxx.test` attribute), read from Jaeger."""
    from paxx_env.testing.spans import QUERY_URL, Spans

    with reported():
        variable = "OTEL_EXPORTER_OTLP_ENDPOINT"
        _paxx_environment.need(variable, "paxx_spans", "a tracing backend")
        api = _paxx_environment.url(variable, QUERY_URL)
        if api is None:
            raise PaxxError(
                "paxx_spans needs the tracing backend's query API, and its service names no "
                f"`{QUERY_URL}` URL",
                "add one to the service's x-paxx urls (see docs/catalog.md)",
            )
    service = _paxx_environment.variables.get("OTEL_SERVICE_NAME", "")
    return Spans(api, service, paxx_namespace, since_us=int((time.time() - 1) * 1e6))
