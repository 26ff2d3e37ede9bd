"""A project paxx generated, used the way its user uses it: in a virtual environment of its own.

`UserProject(root, package)` is any project folder paxx wrote into. `install()` makes a fresh
virtual environment (uv, from PyPI through uv's cache) and installs the project from its own
pyproject.toml only: a regular, non-editable install, so the wheel its build backend makes is
what runs; `groups` adds PEP 735 dependency groups (its dev group holds stub packages), and
`tools` are the developer's own (pytest, ruff, mypy), which the project does not declare.
Every command then runs with that environment's programs and a clean environment: no
variables of the test run leak in (no REDIS_URL...), so settings come from the project's .env.

To run a test file inside the project, `pytest(path, ...)` copies it into the project's tests/
folder and runs the environment's pytest there, from the project folder (where .env is). The
generated package is imported from the installed wheel, not from the folder (importlib mode).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from uv import find_uv_bin

#: What a developer of the project installs next to it to test and check it.
DEVELOPER_TOOLS = ("pytest>=8", "pytest-asyncio>=0.24", "ruff>=0.6", "mypy>=1.11")

#: ruff's rules for the generated code: paxx's own, plus flake8-async.
RUFF_RULES = ["E", "F", "W", "I", "B", "UP", "SIM", "RUF", "ASYNC"]


class CommandFailed(AssertionError):
    """A command in the user's project exited non-zero; its output is the message."""


class UserProject:
    """A project folder paxx generated into, with a virtual environment of its own."""

    def __init__(self, root: Path, package: str, venv: Path | None = None) -> None:
        self.root = root
        self.package = package
        self.venv = venv or root.parent / f"{root.name}-venv"

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def environment(self, **extra: str) -> dict[str, str]:
        """A clean environment: the venv's programs first, nothing of the test run's."""
        env = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": os.environ.get("HOME", str(self.root)),
            "VIRTUAL_ENV": str(self.venv),
            "LANG": "C.UTF-8",
        }
        for key in ("XDG_CACHE_HOME", "UV_CACHE_DIR", "TMPDIR"):
            if key in os.environ:
                env[key] = os.environ[key]
        return {**env, **extra}

    def run(
        self,
        *argv: str | Path,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
        timeout: float = 900,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the project (or `cwd`); CommandFailed with its output if it fails."""
        done = subprocess.run(
            [str(part) for part in argv],
            cwd=cwd or self.root,
            env=env or self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if check and done.returncode != 0:
            command = " ".join(str(part) for part in argv)
            raise CommandFailed(
                f"`{command}` exited {done.returncode}\n{done.stdout}\n{done.stderr}"
            )
        return done

    def uv(self, *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run uv with the test run's environment (its index, proxy and certificates)."""
        env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
        return self.run(find_uv_bin(), *argv, cwd=cwd, env=env)

    def install(
        self,
        *,
        groups: Sequence[str] = ("dev",),
        tools: Sequence[str] = DEVELOPER_TOOLS,
        resolution: str = "highest",
    ) -> None:
        """A fresh venv with the project installed from its pyproject.toml (and `tools`)."""
        if self.venv.exists():
            shutil.rmtree(self.venv)
        self.uv("venv", "--quiet", "--python", sys.executable, str(self.venv))
        group_args = [arg for group in groups for arg in ("--group", f"pyproject.toml:{group}")]
        self.uv(
            "pip",
            "install",
            "--quiet",
            "--python",
            str(self.bin / "python"),
            "--resolution",
            resolution,
            ".",
            *group_args,
            *tools,
        )

    def modules(self) -> list[str]:
        """The generated package's modules, e.g. ["shop.cache", "shop.db"]."""
        folder = self.package_folder()
        return sorted(f"{self.package}.{p.stem}" for p in folder.glob("*.py") if p.stem[0] != "_")

    def import_all(self, cwd: Path) -> None:
        """Import every generated module from `cwd` (not the project folder: no .env there)."""
        code = "\n".join(f"import {module}" for module in self.modules())
        self.run(self.bin / "python", "-c", code, cwd=cwd)

    def package_folder(self) -> Path:
        flat = self.root / self.package.replace(".", "/")
        return flat if flat.is_dir() else self.root / "src" / self.package.replace(".", "/")

    def ruff(self) -> None:
        """ruff check (RUFF_RULES) and ruff format --check on the generated package."""
        folder = self.package_folder()
        rules = ["--select", ",".join(RUFF_RULES), "--line-length", "100"]
        self.run(self.bin / "ruff", "check", *rules, "--target-version", "py311", folder)
        self.run(self.bin / "ruff", "format", "--check", "--line-length", "100", folder)

    def mypy(self) -> None:
        """mypy --strict on the package, with the configuration in the project's pyproject."""
        self.run(self.bin / "mypy", "--strict", "-p", self.package)

    def pytest(self, *test_files: Path, args: Sequence[str] = ()) -> None:
        """Copy the test files into tests/ of the project and run them with its pytest.

        A file not named test_*.py (so that paxx's own test run skips it) is copied as
        tests/test_NAME.py.
        """
        tests = self.root / "tests"
        tests.mkdir(exist_ok=True)
        names = []
        for path in test_files:
            name = path.name if path.name.startswith("test_") else f"test_{path.name}"
            shutil.copyfile(path, tests / name)
            names.append(f"tests/{name}")
        self.run(
            self.bin / "pytest",
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            "-o",
            "asyncio_mode=auto",
            *args,
            *names,
        )

    def wheel(self, out: Path) -> list[str]:
        """Build the project's wheel with its build backend (uv build); the files in it."""
        self.uv("build", "--quiet", "--wheel", "--out-dir", str(out), ".")
        (wheel,) = out.glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            return sorted(archive.namelist())
