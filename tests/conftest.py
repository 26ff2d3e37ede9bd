"""Shared fixtures: throwaway projects, an isolated per-user state folder, a paxx runner."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PYPROJECT = """\
[project]
name = "{name}"
version = "0.1.0"
# the app's own dependencies
dependencies = [
    "fastapi>=0.110",  # web framework
]
"""


@dataclass
class Result:
    """What one paxx invocation did."""

    code: int
    out: str
    err: str

    @property
    def output(self) -> str:
        return self.out + self.err


@pytest.fixture(autouse=True)
def _isolated_state(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own per-user state folder (port and name registry, locks)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))
    monkeypatch.delenv("PAXX_CATALOG", raising=False)


def provider_stacks() -> list[dict[str, str]]:
    """Providers of the features with a choice that, between them, run every service.

    The first is each feature on its default provider; the next takes each feature's next
    provider (alphabetically after the default), and so on. Features that share a server
    move together, so no stack has a conflict.
    """
    from paxx_env.catalog import load_catalog

    catalog = load_catalog()
    orders = {
        name: [
            f.profile.default_provider,
            *sorted(set(f.profile.providers) - {f.profile.default_provider}),
        ]
        for name, f in catalog.features.items()
        if f.profile.has_choice
    }
    width = max(len(order) for order in orders.values())
    return [
        {name: order[min(i, len(order) - 1)] for name, order in sorted(orders.items())}
        for i in range(width)
    ]


def declare(root: Path, features: list[str], providers: dict[str, str]) -> None:
    """Append a [tool.paxx] table with these features and providers to pyproject.toml."""
    chosen = ", ".join(f'"{name}"' for name in features)
    table = "".join(f'{name} = "{provider}"\n' for name, provider in sorted(providers.items()))
    text = f"\n[tool.paxx]\nfeatures = [{chosen}]\n\n[tool.paxx.providers]\n{table}"
    with (root / "pyproject.toml").open("a") as file:
        file.write(text)


def make_project(root: Path, name: str, pyproject: bool = True) -> Path:
    """A minimal Python project folder."""
    root.mkdir(parents=True, exist_ok=True)
    if pyproject:
        (root / "pyproject.toml").write_text(PYPROJECT.format(name=name))
    return root


@pytest.fixture
def project(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A fresh project folder with a pyproject.toml and a name unique to this test."""
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]
    return make_project(tmp_path / "app", f"t{digest}")


Runner = Callable[..., Result]


@pytest.fixture
def paxx(capsys: pytest.CaptureFixture[str]) -> Runner:
    """Run paxx in this process, as `paxx -C ROOT ARGS...`, and capture what it printed."""
    from paxx_env.commands.app import main

    def run(root: Path, *args: str) -> Result:
        capsys.readouterr()
        try:
            main(["-C", str(root), *args])
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_cli(
    root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> Result:
    """Run the installed `paxx` console script in a subprocess (the real thing)."""
    completed = subprocess.run(
        [sys.executable, "-m", "paxx_env", "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def run_pytest(
    root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> Result:
    """Run pytest in a subprocess in the project at `root`, as a user would (the paxx plugin
    loads through its entry point). The pytest and xdist variables of this run are left out
    of its environment, so the child is a run of its own."""
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTEST_XDIST"))
    }
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**inherited, **(env or {})},
        stdin=subprocess.DEVNULL,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def tree_checksum(root: Path) -> dict[str, str]:
    """Path -> sha256 (and mode) of every file under `root`: proof that nothing changed."""
    sums = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            sums[str(path.relative_to(root))] = (
                f"{hashlib.sha256(data).hexdigest()}:{path.stat().st_mode:o}"
            )
        elif path.is_dir():
            sums[str(path.relative_to(root)) + "/"] = "dir"
    return sums


def dotenv_replace(text: str, key: str, value: str) -> str:
    """The .env text with KEY's line replaced by KEY=value, quoted as paxx quotes it."""
    from paxx_env import dotenv

    lines = [
        dotenv.format_line(key, value) if line.startswith(f"{key}=") else line
        for line in text.splitlines()
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def snapshot() -> Iterator[Callable[[Path], dict[str, str]]]:
    yield tree_checksum


@contextlib.contextmanager
def tmpfs(mount: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at `mount` for the block (root only; the test is skipped otherwise)."""
    mount.mkdir(exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"needs root to mount a tmpfs ({options}): {done.stderr!r}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


class DashboardProcess:
    """`paxx -C ROOT dashboard [--no-open]`, running in a subprocess (the real command)."""

    def __init__(self, root: Path, env: dict[str, str] | None = None, opens: bool = False) -> None:
        import re

        args = ["-C", str(root), "dashboard"] + ([] if opens else ["--no-open"])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "paxx_env", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:(\d+))/\?token=(\S+)", first)
        if found is None:
            self.process.kill()
            raise AssertionError(f"no URL printed: {first!r} {self.process.communicate()}")
        self.url = found.group(0)
        self.base, self.port, self.token = found.group(1), int(found.group(2)), found.group(3)
        self.origin = self.base

    def children(self) -> list[int]:
        """The process ids of the dashboard's child processes (the docker commands it reads)."""
        found = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found += [int(pid) for pid in text]
        return found

    def stop(self, signal_number: int = 2, timeout: float = 10) -> tuple[int, str]:
        """Send the signal (Ctrl-C by default); the exit code and what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal_number)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        assert self.process.stderr is not None
        return self.process.returncode, self.process.stderr.read()


@pytest.fixture
def dashboard() -> Iterator[Callable[..., DashboardProcess]]:
    """Start `paxx dashboard` on a project; every one started is stopped when the test ends."""
    started: list[DashboardProcess] = []

    def start(
        root: Path, env: dict[str, str] | None = None, opens: bool = False
    ) -> DashboardProcess:
        process = DashboardProcess(root, env, opens)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.process.poll() is None:
            # Ctrl-C, so that it ends the docker commands it reads (a kill would orphan them)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.stop()
