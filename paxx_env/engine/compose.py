"""One Compose project on the engine: pull and start its services, read its logs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from paxx_env import log
from paxx_env.engine.docker import DockerStream, attach_docker, run_docker, shorten
from paxx_env.errors import EngineError, Interrupted

if TYPE_CHECKING:
    from python_on_whales import DockerClient


def warm_up() -> None:
    """Import python-on-whales ahead of use (from a background thread)."""
    import python_on_whales  # noqa: F401


class Stack:
    """A Compose project: its name, files and .env. Starting goes through python-on-whales."""

    def __init__(self, root: Path, name: str, compose_files: list[str], env_file: str) -> None:
        self.root = root
        self.name = name
        self.compose_files = [root / f for f in compose_files]
        self.env_file = root / env_file
        self._client: DockerClient | None = None

    @property
    def client(self) -> DockerClient:
        """The python-on-whales client for this project (imported on first use)."""
        if self._client is None:
            from python_on_whales import DockerClient

            self._client = DockerClient(
                compose_files=self.compose_files,
                compose_project_name=self.name,
                compose_env_files=[self.env_file],
            )
        return self._client

    def _whales(self, action: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        from python_on_whales.exceptions import DockerException

        log.debug("compose", action=action, project=self.name)
        try:
            return call(*args, **kwargs)
        except DockerException as exc:
            stderr = (exc.stderr or "").strip()
            raise EngineError(
                f"docker compose {action} failed: "
                f"{shorten(stderr.splitlines()[-1]) if stderr else exc.return_code}",
                "run with -v for details; `paxx status` shows what is running",
                details=stderr,
            ) from None
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted during docker compose {action}") from None

    def pull(self, services: list[str]) -> None:
        """Pull the images of `services`, in parallel (Compose does that)."""

        # Compose prints "Pulling"/"Pulled" even with --quiet; paxx shows its own progress
        # lines, so Compose's go to the debug log.
        def pull_quietly() -> None:
            for _source, line in self.client.compose.pull(services, stream_logs=True):
                log.debug("pull", output=line.decode(errors="replace").strip())

        self._whales("pull", pull_quietly)

    def start(self, services: list[str]) -> None:
        """Create and start the services' containers without waiting for them."""
        self._whales("up", self.client.compose.up, services, detach=True, quiet=True)

    def logs(self, service: str, tail: int) -> str:
        """The last `tail` log lines of a service."""
        out = run_docker(
            ["compose", *self._file_args(), "logs", "--no-color", "--tail", str(tail), service],
            check=False,
        )
        return out.rstrip()

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
