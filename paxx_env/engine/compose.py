"""One Compose project on the engine: pull and start its services, read its logs.

Every Compose command goes through the docker CLI runner (docker.py), like every other
engine call. paxx once started containers through python-on-whales; importing it took about
a third of a second of CPU before Compose could start, the largest cost on the path of a
cold `paxx up` after paxx's own start (docs/benchmarks.md), for one argv it built as this
module does.
"""

from __future__ import annotations

from pathlib import Path

from paxx_env import log
from paxx_env.engine.docker import (
    DockerStream,
    attach_docker,
    run_docker_completed,
    shorten,
    unreachable,
)
from paxx_env.errors import EngineError, Interrupted

#: Pulling may take long on a slow network; starting creates and starts every container.
PULL_TIMEOUT = 1800.0
START_TIMEOUT = 600.0


class Stack:
    """A Compose project: its name, files and .env."""

    def __init__(self, root: Path, name: str, compose_files: list[str], env_file: str) -> None:
        self.root = root
        self.name = name
        self.compose_files = [root / f for f in compose_files]
        self.env_file = root / env_file

    def pull(self, services: list[str]) -> None:
        """Pull the images of `services`, in parallel (Compose does that).

        Compose prints "Pulling"/"Pulled" even with --quiet; paxx shows its own progress
        lines, so Compose's go to the debug log.
        """
        self._compose("pull", [*services], PULL_TIMEOUT)

    def start(self, services: list[str]) -> None:
        """Create and start the services' containers without waiting for them."""
        self._compose("up", ["--detach", *services], START_TIMEOUT)

    def _compose(self, action: str, args: list[str], timeout: float) -> None:
        log.debug("compose", action=action, project=self.name)
        try:
            done = run_docker_completed(
                ["compose", *self._file_args(), action, *args], timeout=timeout
            )
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted during docker compose {action}") from None
        output = (done.stderr or "").strip()
        if output:
            log.debug(action, output=output)
        if done.returncode != 0:
            raise unreachable(output) or EngineError(
                f"docker compose {action} failed: "
                f"{shorten(output.splitlines()[-1]) if output else done.returncode}",
                "run with -v for details; `paxx status` shows what is running",
                details=output,
            )

    def logs(self, service: str, tail: int) -> str:
        """The last `tail` log lines of a service."""
        args = ["compose", *self._file_args(), "logs", "--no-color", "--tail", str(tail), service]
        return run_docker_completed(args).stdout.rstrip()

    def stream_logs(self, services: list[str], follow: bool, tail: int | None) -> int:
        """Print the services' logs to this terminal; return Compose's exit code."""
        args = ["compose", *self._file_args(), "logs"]
        if follow:
            args.append("--follow")
        if tail is not None:
            args += ["--tail", str(tail)]
        return attach_docker([*args, *services])

    def follow_logs(self, service: str, tail: int) -> DockerStream:
        """The last `tail` log lines of a service, then each new one, until closed."""
        args = ["compose", *self._file_args(), "logs", "--follow", "--no-color"]
        return DockerStream([*args, "--no-log-prefix", "--tail", str(tail), service])

    def _file_args(self) -> list[str]:
        args = ["--project-name", self.name, "--env-file", str(self.env_file)]
        for path in self.compose_files:
            args += ["--file", str(path)]
        return args
