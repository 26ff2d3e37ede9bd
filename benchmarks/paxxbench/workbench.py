"""The workbench: a temporary folder of throwaway projects, every command's environment, cleanup.

Every docker and Compose command of the benchmark is built here, with the environment of
`Bench.engine_env`: the shell's DOCKER_HOST (or a stack's own `docker_host`) reaches each
one, so the whole run can be pointed at another engine.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from paxxbench.runner import BenchError, Run, run

#: The features of the stack most measures run on: six services.
STACK_FEATURES = ["cache", "db", "storage", "email", "search", "tracing"]


@dataclass
class Stack:
    """A throwaway project: its folder, its state folder, its Compose project name."""

    folder: Path
    state: Path
    name: str = ""
    #: DOCKER_HOST of the engine it runs on; "" for the engine of the shell's environment
    docker_host: str = ""

    def dotenv(self) -> dict[str, str]:
        """The project's .env as KEY=VALUE pairs (quotes removed)."""
        values: dict[str, str] = {}
        for line in (self.folder / ".env").read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.startswith("#"):
                values[key.strip()] = value.strip().strip("'\"")
        return values

    @property
    def label(self) -> str:
        """The docker filter that selects this project's containers, volumes and networks."""
        return f"label=com.docker.compose.project={self.name}"


def clean_environment(environ: Mapping[str, str], tmp: Path) -> dict[str, str]:
    """The environment of every command: the shell's, without Compose's and paxx's settings.

    DOCKER_HOST and DOCKER_CONTEXT (every DOCKER_ variable) stay: they select the engine.
    """
    env = {
        k: v
        for k, v in environ.items()
        if not k.startswith(("COMPOSE_", "PAXX_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    # Bytecode is cached (in the temporary folder), as it is for an installed paxx.
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    env["NO_COLOR"] = "1"
    env["XDG_STATE_HOME"] = str(tmp / "state")
    return env


class Bench:
    """The temporary folder, the environment of every command, and the cleanup."""

    def __init__(self, repeat: int, rest: float = 60.0) -> None:
        self.repeat = repeat
        self.rest = rest  # seconds to watch the stack at rest
        self.tmp = Path(tempfile.mkdtemp(prefix="paxx-bench-"))
        self.token = secrets.token_hex(3)
        self.paxx = find_paxx()
        self.python = str(Path(self.paxx).with_name("python"))
        if not Path(self.python).exists():
            self.python = sys.executable
        self.stacks: list[Stack] = []  # projects that may own containers, volumes, networks
        self.start_interval = True  # whether the engine has a health-check start_interval
        self.engine_label = "Docker"  # the engine, as the page names it (machine.engine_label)
        #: DOCKER_HOST of a second engine the cold start is measured on too ("" for none)
        self.second_engine = ""
        #: how idle (%) the CPUs must be before a timed cold start; None: do not wait
        self.wait_idle: float | None = None
        self.counter = 0
        self.base_env = clean_environment(os.environ, self.tmp)

    def engine_env(self, stack: Stack | None = None) -> dict[str, str]:
        """The environment of a docker command about `stack`: it selects the stack's engine."""
        env = dict(self.base_env)
        if stack is not None and stack.docker_host:
            env["DOCKER_HOST"] = stack.docker_host
            env.pop("DOCKER_CONTEXT", None)  # the stack's own engine, not the shell's context
        return env

    def env(self, stack: Stack | None = None, **extra: str) -> dict[str, str]:
        """The environment for a command: the shell never overrides a project's .env."""
        env = self.engine_env(stack)
        if stack is not None:
            env["XDG_STATE_HOME"] = str(stack.state)
            if (stack.folder / ".env").exists():
                for key in stack.dotenv():
                    env.pop(key, None)
        env.update(extra)
        return env

    def new_project(self, label: str, docker_host: str = "") -> Stack:
        """An empty project with a pyproject.toml and its own XDG_STATE_HOME."""
        self.counter += 1
        folder = self.tmp / "projects" / f"{label}-{self.counter}"
        folder.mkdir(parents=True)
        state = self.tmp / "states" / f"{label}-{self.counter}"
        state.mkdir(parents=True)
        (folder / "pyproject.toml").write_text(
            "[project]\n"
            f'name = "paxxbench-{self.token}-{label}"\n'
            'version = "0.1.0"\n'
            "dependencies = []\n"
        )
        return Stack(folder, state, docker_host=docker_host)

    def new_stack(self, label: str, features: list[str], docker_host: str = "") -> Stack:
        """A project with `features` declared and free host ports; cleaned up at the end."""
        stack = self.new_project(label, docker_host)
        self.stacks.append(stack)
        self.paxx_cmd(stack, "feature", "add", *features)
        self.move_ports(stack)
        self.paxx_cmd(stack, "feature", "add", *features)  # re-derives URLs from them
        stack.name = stack.dotenv()["COMPOSE_PROJECT_NAME"]
        return stack

    def move_ports(self, stack: Stack) -> None:
        """Give the stack free host ports in 20000-29999, away from the services' usual ones.

        Other stacks on a shared engine come and go on the usual ports; a port taken between
        two runs would fail a run. paxx keeps port values edited in its .env block.
        """
        dotenv = stack.folder / ".env"
        port = 20000 + secrets.randbelow(9000)
        lines = []
        for line in dotenv.read_text().splitlines():
            if re.match(r"^PAXX_[A-Z0-9_]+_PORT=", line):
                while not port_is_free(port):
                    port += 1
                line = f"{line.partition('=')[0]}={port}"
                port += 1
            lines.append(line)
        dotenv.write_text("\n".join(lines) + "\n")

    def paxx_cmd(self, stack: Stack, *args: str, timeout: float = 600.0) -> Run:
        """`paxx ARGS` in the project folder."""
        return run([self.paxx, *args], stack.folder, self.env(stack), timeout=timeout)

    def compose(self, stack: Stack, *args: str, timeout: float = 600.0, check: bool = True) -> Run:
        """`docker compose ARGS` in the project folder: it reads COMPOSE_FILE from .env."""
        return run(
            ["docker", "compose", *args],
            stack.folder,
            self.env(stack),
            timeout=timeout,
            check=check,
        )

    def docker(self, *args: str, stack: Stack | None = None, check: bool = True) -> Run:
        """`docker ARGS` on the engine of `stack` (or of the environment)."""
        return run(["docker", *args], self.tmp, self.engine_env(stack), check=check)

    def start_docker(self, stack: Stack, *args: str, stdout: IO[bytes]) -> subprocess.Popen[bytes]:
        """Start `docker ARGS` on the stack's engine and return at once (`docker events`)."""
        return subprocess.Popen(
            ["docker", *args],
            stdout=stdout,
            stderr=subprocess.DEVNULL,
            env=self.engine_env(stack),
        )

    def reset(self, stack: Stack) -> None:
        """Remove the stack's containers, volumes and network: the next start is cold."""
        self.compose(stack, "down", "--volumes", "--remove-orphans", "--timeout", "2")
        if self.docker("ps", "-aq", "--filter", stack.label, stack=stack).stdout.split():
            raise BenchError(f"containers of {stack.name} survived `docker compose down`")

    def own_resources(self, stack: Stack) -> dict[str, list[str]]:
        """Containers, volumes and networks labelled with this stack's Compose project."""
        return {
            kind: self.docker(
                *command, "--filter", stack.label, stack=stack, check=False
            ).stdout.split()
            for kind, command in (
                ("container", ("ps", "-aq")),
                ("volume", ("volume", "ls", "-q")),
                ("network", ("network", "ls", "-q")),
            )
        }

    def cleanup(self) -> None:
        """Remove everything the benchmark created, and only that."""
        for stack in self.stacks:
            if not stack.name:
                continue
            if (stack.folder / ".env").exists():
                self.compose(
                    stack, "down", "--volumes", "--remove-orphans", "--timeout", "2", check=False
                )
            found = self.own_resources(stack)
            if found["container"]:
                self.docker(
                    "rm", "--force", "--volumes", *found["container"], stack=stack, check=False
                )
            if found["volume"]:
                self.docker("volume", "rm", "--force", *found["volume"], stack=stack, check=False)
            if found["network"]:
                self.docker("network", "rm", *found["network"], stack=stack, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)


def port_is_free(port: int) -> bool:
    """Whether a loopback port can be bound now."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def find_paxx() -> str:
    """The `paxx` console script next to this Python (the project's .venv), or on PATH."""
    beside = Path(sys.executable).with_name("paxx")
    if beside.exists():
        return str(beside)
    found = shutil.which("paxx")
    if found is None:
        raise SystemExit("bench: paxx is not installed here; run `./scripts/dev bench`")
    return found
