"""Live tests: the real Docker engine and Compose v2, with images from the offline hub.

Redis, Valkey and PostgreSQL+pgvector are the real programs; MinIO, RustFS, Mailpit,
Meilisearch and Jaeger are protocol stand-ins (see ../shared/offline-hub/README.md). Test
names say which: `..._real_...` or `..._standin_...`. A feature with a choice of provider
is tested on each (the provider is the test's parameter).
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Runner, make_project
from paxx_env import envblock
from paxx_env.catalog import load_catalog


def _engine_problem() -> str:
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        return "the Docker engine did not answer `docker info` within 20 s"
    if done.returncode != 0 or not done.stdout.strip():
        return "the Docker engine is not reachable (`docker info` failed)"
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0:
        return "Docker Compose v2 is not installed"
    return ""


PROBLEM = _engine_problem()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.live)
            if PROBLEM:
                if os.environ.get("PAXX_REQUIRE_LIVE"):
                    item.add_marker(pytest.mark.xfail(reason=PROBLEM, run=False, strict=True))
                else:
                    item.add_marker(pytest.mark.skip(reason=f"live test: {PROBLEM}"))


#: Set PAXX_TEST_STATE_HOME when several test runs share one engine at once: their live tests
#: then share paxx's per-user registry, so they never pick the same host port or project name.
SHARED_STATE = os.environ.get("PAXX_TEST_STATE_HOME", "")


@pytest.fixture(autouse=True)
def _shared_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    if SHARED_STATE:
        monkeypatch.setenv("XDG_STATE_HOME", SHARED_STATE)


#: Every feature of the catalog, for tests that run them all at once.
ALL_FEATURES = tuple(sorted(load_catalog().features))


def providers_of(feature: str) -> list[str]:
    """The providers of a feature, its default first: tests run on each of them."""
    profile = load_catalog().features[feature].profile
    return [profile.default_provider, *sorted(set(profile.providers) - {profile.default_provider})]


def port_variable(service: str) -> str:
    """The first host-port variable of a service (PAXX_VALKEY_PORT)."""
    return next(iter(load_catalog().services[service].meta.ports))


def on(provider: str | None) -> list[str]:
    """The `--provider NAME` arguments of `paxx feature add`, when one is asked for."""
    return ["--provider", provider] if provider else []


def env_of(root: Path) -> dict[str, str]:
    """The values in paxx's block of .env."""
    return envblock.read_env((root / ".env").read_text()).block


@pytest.fixture
def live(
    tmp_path: Path, paxx: Runner, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Path]]:
    """Make projects that are torn down (containers and volumes) when the test ends."""
    made: list[Path] = []

    def make(name: str, *features: str, provider: str | None = None) -> Path:
        unique = f"{name}-{abs(hash(request.node.nodeid)) % 10**6}"
        root = make_project(tmp_path / name, unique)
        made.append(root)
        if features:
            result = paxx(root, "feature", "add", *features, *on(provider))
            assert result.code == 0, result.output
        return root

    volumes_before = set(_docker("volume", "ls", "--quiet").split())
    yield make
    for root in made:
        if (root / ".env").exists():
            project = env_of(root)["COMPOSE_PROJECT_NAME"]
            result = paxx(root, "down", "--volumes", "--yes")
            assert result.code == 0, result.output
            label = f"label=com.docker.compose.project={project}"
            assert _docker("ps", "--all", "--quiet", "--filter", label) == "", "leaked containers"
            assert _docker("network", "ls", "--quiet", "--filter", label) == "", "leaked network"
    if not SHARED_STATE:  # with concurrent runs, new volumes may be another run's
        leaked = set(_docker("volume", "ls", "--quiet").split()) - volumes_before
        assert not leaked, f"volumes left behind: {sorted(leaked)}"


def _docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=True
    ).stdout.strip()


class App:
    """A throwaway FastAPI project with paxx features, its services up, its modules importable."""

    def __init__(self, root: Path, package: str) -> None:
        self.root = root
        self.package = package

    @property
    def env(self) -> dict[str, str]:
        return env_of(self.root)

    def module(self, name: str) -> Any:
        """Import a generated module, e.g. app.module("cache")."""
        return importlib.import_module(f"{self.package}.{name}")


@pytest.fixture
def app_with(
    live: Callable[..., Path], paxx: Runner, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., App]:
    """`app_with("cache", "tasks", provider="redis")`: project + package, features added
    (on that provider), `paxx up` done.

    The test runs in the project folder (so .env is found) with the project on sys.path; the
    package name is unique per test, so generated modules never clash between tests.
    """

    def make(*features: str, provider: str | None = None) -> App:
        root = live("app")
        package = f"app_{uuid.uuid4().hex[:8]}"
        (root / package).mkdir()
        (root / package / "__init__.py").write_text("")
        pyproject = root / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + f'\n[tool.paxx]\npackage = "{package}"\n')
        added = paxx(root, "feature", "add", *features, *on(provider))
        assert added.code == 0, added.output
        started = paxx(root, "up", "--timeout", "120")
        assert started.code == 0, started.output
        monkeypatch.chdir(root)
        monkeypatch.syspath_prepend(str(root))
        for key in env_of(root):
            monkeypatch.delenv(key, raising=False)
        return App(root, package)

    return make
