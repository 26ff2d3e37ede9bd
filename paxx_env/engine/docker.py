"""The one runner of the docker CLI: argv as a list, logged, errors carrying argv and output.

Every engine and Compose call paxx makes runs the docker CLI from here.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence

from paxx_env import log
from paxx_env.errors import CommandFailed, EngineError, EngineTimeout

INSTALL_HINT = (
    "install Docker Engine with the Compose v2 plugin: https://docs.docker.com/engine/install/"
)

#: Variables paxx manages in .env. Compose lets the shell's environment win over .env, so
#: paxx removes them from the environment of the commands it runs: the stack always gets
#: what .env says, as plain `docker compose` in a clean shell would.
_MANAGED_KEYS: set[str] = set()


def set_managed_keys(keys: Iterable[str]) -> None:
    """Name the .env variables the shell must not override for paxx's own docker commands."""
    _MANAGED_KEYS.clear()
    _MANAGED_KEYS.update(keys)
    for key in _MANAGED_KEYS:
        os.environ.pop(key, None)


def clean_environment() -> dict[str, str]:
    """The environment paxx's docker commands run with (see set_managed_keys)."""
    return {k: v for k, v in os.environ.items() if k not in _MANAGED_KEYS}


def run_docker(
    args: Sequence[str],
    *,
    timeout: float | None = 60,
    check: bool = True,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run `docker ARGS...` and return its stdout; raise CommandFailed on a non-zero exit.

    `stdin` is written to the command's standard input and `env` added to its environment:
    the ways a secret reaches the docker CLI without being written to a file or shown in
    argv (neither is logged).
    """
    completed = run_docker_completed(args, timeout=timeout, stdin=stdin, env=env)
    if check and completed.returncode != 0:
        raise unreachable(completed.stderr) or CommandFailed(
            completed.args, completed.returncode, completed.stdout, completed.stderr
        )
    return completed.stdout


#: How the docker CLI says that it cannot reach the engine (local socket, TCP, ssh).
_UNREACHABLE = (
    "Cannot connect to the Docker daemon",
    "error during connect",
    "permission denied while trying to connect to the Docker daemon",
)


def docker_host() -> str:
    """The engine the docker CLI talks to, as paxx names it in messages."""
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


def unreachable(stderr: str) -> EngineError | None:
    """The error for an engine that does not answer, when `stderr` says so; else None.

    Every command reports it the same way, whichever docker call noticed it first.
    """
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    if not any(marker in line for line in lines for marker in _UNREACHABLE):
        return None
    return engine_unreachable(lines[-1])


def engine_unreachable(reason: str = "") -> EngineError:
    """The two lines paxx prints when the engine does not answer."""
    return EngineError(
        f"the Docker engine is not reachable at {docker_host()}"
        + (f" ({shorten(reason.strip())})" if reason.strip() else ""),
        "start it (e.g. `sudo systemctl start docker`) or point DOCKER_HOST at it",
    )


def run_docker_completed(
    args: Sequence[str],
    *,
    timeout: float | None = 60,
    timeout_message: str = "",
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `docker ARGS...` and return the finished process, whatever its exit code.

    A timeout raises EngineTimeout (with `timeout_message` when given). `stdin` and `env`
    as for run_docker.
    """
    argv = ["docker", *args]
    log.debug("run", argv=argv)
    try:
        completed = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**clean_environment(), **(env or {})},
            input=stdin,
            check=False,
        )
    except FileNotFoundError:
        raise EngineError("the docker command is not installed", INSTALL_HINT) from None
    except subprocess.TimeoutExpired:
        raise EngineTimeout(
            timeout_message
            or f"`docker {' '.join(args[:2])}` did not answer within {timeout:.0f} s",
            "check that the Docker engine is running and responsive (`docker info`)",
        ) from None
    log.debug("exit", argv=argv[:3], code=completed.returncode)
    return completed


def attach_docker(args: Sequence[str]) -> int:
    """Run `docker ARGS...` on this terminal (output not captured); return its exit code.

    Ctrl-C is the child's to handle: the terminal sends it to the whole process group, so
    docker stops on its own and paxx only waits for it.
    """
    argv = ["docker", *args]
    log.debug("run", argv=argv)
    try:
        child = subprocess.Popen(argv, env=clean_environment())
    except FileNotFoundError:
        raise EngineError("the docker command is not installed", INSTALL_HINT) from None
    signal.signal(signal.SIGINT, lambda _signal, _frame: None)
    return child.wait()


class DockerStream:
    """A docker command that goes on printing (`events`, `logs --follow`), read line by line.

    Its output (stdout and stderr together) is read in the caller's thread; `close` ends the
    command from any thread, and the iteration then stops.
    """

    def __init__(self, args: Sequence[str]) -> None:
        self.argv = ["docker", *args]
        log.debug("run", argv=self.argv)
        try:
            self._child = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                bufsize=1,
                env=clean_environment(),
            )
        except FileNotFoundError:
            raise EngineError("the docker command is not installed", INSTALL_HINT) from None

    def __iter__(self) -> Iterator[str]:
        """Each line as it comes, without its newline, until the command ends."""
        assert self._child.stdout is not None
        with self._child.stdout as lines:
            for line in lines:
                yield line.rstrip("\n")

    @property
    def pid(self) -> int:
        """The process id of the docker command."""
        return self._child.pid

    def running(self) -> bool:
        """Whether the command is still running."""
        return self._child.poll() is None

    def close(self) -> int:
        """End the command (SIGTERM, then SIGKILL after 2 s) and return its exit code."""
        if self._child.poll() is None:
            self._child.terminate()
            try:
                self._child.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._child.kill()
        return self._child.wait()


def shorten(text: str, limit: int = 120) -> str:
    """`text`, cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
