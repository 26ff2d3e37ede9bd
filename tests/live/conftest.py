"""Live tests: the real Docker engine and Compose v2, with images from the offline hub.

Redis, Valkey and PostgreSQL+pgvector are the real programs; MinIO, RustFS, Mailpit,
Meilisearch and Jaeger are protocol stand-ins (see ../shared/offline-hub/README.md). Test
names say which: `..._real_...` or `..._standin_...`. A feature with a choice of provider
is tested on each (the provider is the test's parameter).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import Runner, declare, make_project
from paxx_env import envblock
from paxx_env.catalog import load_catalog

PROJECT_LABEL = "com.docker.compose.project"


@dataclass(frozen=True)
class Engine:
    """The Docker engine the live tests run on, as it describes itself (not as paxx sees it)."""

    version: str = ""
    api: str = ""
    problem: str = ""

    @property
    def host(self) -> str:
        return os.environ.get("DOCKER_HOST") or "(unset: the docker CLI's default)"

    @property
    def start_interval(self) -> bool:
        """Whether the engine takes a health-check start_interval: API 1.44 (Engine 25) on."""
        return tuple(int(part) for part in self.api.split(".")[:2]) >= (1, 44)


def _ask_engine() -> Engine:
    if shutil.which("docker") is None:
        return Engine(problem="the docker CLI is not installed")
    try:
        done = subprocess.run(
            ["docker", "version", "--format", "{{json .Server}}"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        return Engine(problem="the Docker engine did not answer `docker version` within 20 s")
    try:
        server = json.loads(done.stdout or "null") or {}
    except ValueError:
        server = {}
    if done.returncode != 0 or not server.get("ApiVersion"):
        return Engine(problem="the Docker engine is not reachable (`docker version` failed)")
    engine = Engine(version=server.get("Version", ""), api=server["ApiVersion"])
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0:
        return Engine(engine.version, engine.api, "Docker Compose v2 is not installed")
    return engine


#: The engine at DOCKER_HOST. Tests whose subject depends on its version (readiness: the
#: start_interval overlay from API 1.44 on, paxx's own probes before) check what this
#: engine should do; CI runs the live suite on an old and on a modern engine.
ENGINE = _ask_engine()
PROBLEM = ENGINE.problem


def pytest_report_header(config: pytest.Config) -> str:
    """Which engine this run talks to, so a CI log says where each part ran."""
    if ENGINE.problem:
        return f"docker engine: none ({ENGINE.problem}); DOCKER_HOST={ENGINE.host}"
    readiness = "start_interval overlay" if ENGINE.start_interval else "paxx's own probes"
    return (
        f"docker engine: {ENGINE.version} (API {ENGINE.api}), DOCKER_HOST={ENGINE.host}; "
        f"readiness: {readiness}"
    )


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


def docker_that_records(tmp_path: Path) -> tuple[dict[str, str], Callable[[], list[list[str]]]]:
    """A PATH whose first `docker` notes its arguments, then runs the real one.

    A health check paxx runs itself is a `docker exec` of the CLI; the engine cannot tell it
    from its own checks (both are execs), so the CLI's record of what paxx ran is the evidence.
    Returns the PATH and a function that reads back every argv run so far.
    """
    real = shutil.which("docker")
    assert real, "the docker CLI is on PATH"
    record = tmp_path / "docker-argv"
    wrapper = tmp_path / "bin" / "docker"
    wrapper.parent.mkdir()
    # One line per run (one write, as probes run in parallel), arguments separated by
    # the ASCII unit separator (0x1f).
    wrapper.write_text(
        "#!/bin/sh\n"
        "line=$(printf '%s\\037' \"$@\")\n"
        f"printf '%s\\n' \"$line\" >> '{record}'\n"
        f"exec '{real}' \"$@\"\n"
    )
    wrapper.chmod(0o755)

    def runs() -> list[list[str]]:
        lines = record.read_text().splitlines() if record.exists() else []
        return [line.split("\x1f")[:-1] for line in lines]

    return {"PATH": f"{wrapper.parent}:{os.environ['PATH']}"}, runs


@pytest.fixture
def live(
    tmp_path: Path, paxx: Runner, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Path]]:
    """Make projects that are torn down (containers and volumes) when the test ends.

    After `paxx down --volumes`, nothing of the test's Compose projects may be left on the
    engine: no container, network or volume labelled with the project's name, and none of
    the volumes its containers mounted (anonymous ones carry no project label). Only those
    projects are looked at, so whatever else runs on the engine meanwhile does not matter.
    """
    made: list[Path] = []

    def make(
        name: str,
        *features: str,
        provider: str | None = None,
        providers: dict[str, str] | None = None,
    ) -> Path:
        """`provider` for every feature named, or `providers` feature by feature."""
        unique = f"{name}-{abs(hash(request.node.nodeid)) % 10**6}"
        root = make_project(tmp_path / name, unique)
        made.append(root)
        if providers:
            declare(root, list(features), providers)
        if features:
            result = paxx(root, "feature", "add", *features, *on(provider))
            assert result.code == 0, result.output
        return root

    yield make
    problems: list[str] = []
    for root in made:
        if not (root / ".env").exists():
            continue
        project = env_of(root)["COMPOSE_PROJECT_NAME"]
        mounted = _mounted_volumes(project)
        result = paxx(root, "down", "--volumes", "--yes")
        if result.code != 0:
            problems.append(f"`paxx down --volumes` failed in {root.name}: {result.output}")
        problems += [f"{project}: {left}" for left in _left_behind(project, mounted)]
    assert not problems, "left behind on the engine:\n" + "\n".join(problems)


def _docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def _mounted_volumes(project: str) -> set[str]:
    """The volumes (named or anonymous) that the project's containers mount now."""
    ids = _docker("ps", "--all", "--quiet", "--filter", f"label={PROJECT_LABEL}={project}")
    if not ids:
        return set()
    mounts = '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}'
    return set(_docker("inspect", "--format", mounts, *ids.split()).split())


def _left_behind(project: str, mounted: set[str]) -> list[str]:
    """What of the Compose project `project` is still on the engine."""
    label = f"label={PROJECT_LABEL}={project}"
    containers = _docker("ps", "--all", "--format", "{{.Names}}", "--filter", label).split()
    networks = _docker("network", "ls", "--format", "{{.Name}}", "--filter", label).split()
    volumes = set(_docker("volume", "ls", "--quiet", "--filter", label).split())
    if mounted:
        volumes |= mounted & set(_docker("volume", "ls", "--quiet").split())
    return (
        [f"container {name}" for name in containers]
        + [f"network {name}" for name in networks]
        + [f"volume {name}" for name in sorted(volumes)]
    )


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

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The project's containers frozen (`docker pause`): their ports still take
        connections (the engine's proxy and the kernel answer), the programs answer nothing."""
        project = self.env["COMPOSE_PROJECT_NAME"]
        ids = _docker("ps", "--quiet", "--filter", f"label={PROJECT_LABEL}={project}").split()
        assert ids, f"no running container in {project}"
        _docker("pause", *ids)
        try:
            yield
        finally:
            _docker("unpause", *ids)


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
