"""The only module that talks to Docker.

Starting things (compose pull, compose up) goes through python-on-whales. Importing it costs
about 300 ms, so every other call (status, the engine check, health polling and probes,
logs, teardown, volumes, images) runs the docker CLI through `run_docker`, the one function
such calls go through: it builds argv as a list, logs it, and raises EngineError carrying
argv, exit code and output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paxx_env import log
from paxx_env.errors import EngineError, Interrupted
from paxx_env.names import PAXX_LABEL

if TYPE_CHECKING:
    from python_on_whales import DockerClient

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
VOLUME_LABEL = "com.docker.compose.volume"
#: Engine API 1.44 (Docker Engine 25) added the healthcheck start_interval.
START_INTERVAL_API = (1, 44)
MIN_COMPOSE = (2, 20)
#: How long the engine may take to say its version: a remote engine that drops packets is
#: reported after this, not after the docker CLI's own (much longer) timeout.
ENGINE_TIMEOUT = 5.0
_INSTALL_HINT = (
    "install Docker Engine with the Compose v2 plugin: https://docs.docker.com/engine/install/"
)


class CommandFailed(EngineError):
    """A docker command exited non-zero."""

    def __init__(self, argv: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        first = (stderr.strip() or stdout.strip() or f"exit code {returncode}").splitlines()
        super().__init__(
            f"`{' '.join(argv[:4])} ...` failed: {first[-1] if first else returncode}",
            "run with -v to see the full command and its output",
            details=stderr.strip(),
        )
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def run_docker(args: Sequence[str], *, timeout: float | None = 60, check: bool = True) -> str:
    """Run `docker ARGS...` and return its stdout; raise CommandFailed on a non-zero exit."""
    argv = ["docker", *args]
    log.debug("run", argv=argv)
    try:
        completed = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=_clean_environment(),
            check=False,
        )
    except FileNotFoundError:
        raise EngineError("the docker command is not installed", _INSTALL_HINT) from None
    except subprocess.TimeoutExpired:
        raise EngineError(
            f"`docker {' '.join(args[:2])}` did not answer within {timeout:.0f} s",
            "check that the Docker engine is running and responsive (`docker info`)",
        ) from None
    log.debug("exit", argv=argv[:3], code=completed.returncode)
    if check and completed.returncode != 0:
        raise CommandFailed(argv, completed.returncode, completed.stdout, completed.stderr)
    return completed.stdout


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


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _MANAGED_KEYS}


@dataclass(frozen=True)
class EngineInfo:
    """What paxx needs to know about the engine and Compose."""

    engine_version: str
    api_version: str
    compose_version: str

    @property
    def start_interval(self) -> bool:
        """Whether the engine accepts a healthcheck start_interval (API >= 1.44)."""
        return _version_tuple(self.api_version) >= START_INTERVAL_API


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def check_engine() -> EngineInfo:
    """Verify that the engine answers and Compose v2 is installed, or raise EngineError."""
    if shutil.which("docker") is None:
        raise EngineError("the docker command is not installed", _INSTALL_HINT)
    # Both commands take tens of milliseconds; ask them at the same time.
    with ThreadPoolExecutor(max_workers=1) as pool:
        compose_answer = pool.submit(
            run_docker, ["compose", "version", "--short"], timeout=ENGINE_TIMEOUT, check=False
        )
        engine = run_docker(
            ["version", "--format", "{{json .}}"], timeout=ENGINE_TIMEOUT, check=False
        )
        compose = compose_answer.result().strip()
    try:
        server = json.loads(engine or "{}").get("Server") or {}
    except ValueError:
        server = {}
    if not server:
        reason = _engine_reason()
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise EngineError(
            f"the Docker engine is not reachable at {host}"
            + (f" ({_shorten(reason)})" if reason else ""),
            "start it (e.g. `sudo systemctl start docker`) or point DOCKER_HOST at it",
        )
    if not re.match(r"^v?\d+\.\d+", compose):
        raise EngineError(
            "Docker Compose v2 is not installed (`docker compose` is missing)",
            "install the Compose plugin: https://docs.docker.com/compose/install/linux/",
        )
    if _version_tuple(compose) < MIN_COMPOSE:
        raise EngineError(
            f"Docker Compose {compose} is too old; paxx needs {'.'.join(map(str, MIN_COMPOSE))}+",
            "update the Compose plugin: https://docs.docker.com/compose/install/linux/",
        )
    return EngineInfo(
        engine_version=str(server.get("Version", "")),
        api_version=str(server.get("ApiVersion", "")),
        compose_version=compose.lstrip("v"),
    )


def _engine_reason() -> str:
    """Why the engine does not answer, in the docker CLI's words (its last line of stderr)."""
    try:
        run_docker(["version", "--format", "{{.Server.Version}}"], timeout=10)
    except CommandFailed as exc:
        lines = exc.stderr.strip().splitlines()
        return lines[-1] if lines else ""
    return ""


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class ContainerState:
    """One container of the project as `docker inspect` reports it."""

    id: str
    service: str
    state: str
    health: str
    exit_code: int
    health_test: tuple[str, ...]
    health_output: str
    ports: tuple[tuple[str, int, int], ...]
    paxx_service: str


def parse_inspect(item: dict[str, Any]) -> ContainerState:
    """Turn one `docker inspect` record into a ContainerState."""
    labels = item.get("Config", {}).get("Labels") or {}
    state = item.get("State", {})
    health = state.get("Health") or {}
    log_entries = health.get("Log") or []
    test = (item.get("Config", {}).get("Healthcheck") or {}).get("Test") or []
    ports = []
    for target, bindings in sorted((item.get("NetworkSettings", {}).get("Ports") or {}).items()):
        for binding in bindings or []:
            ports.append(
                (binding.get("HostIp", ""), int(binding["HostPort"]), int(target.split("/")[0]))
            )
    return ContainerState(
        id=item["Id"],
        service=labels.get(SERVICE_LABEL, ""),
        state=state.get("Status", "unknown"),
        health=health.get("Status", "none") if health else "none",
        exit_code=int(state.get("ExitCode", 0)),
        health_test=tuple(test),
        health_output=(log_entries[-1].get("Output", "") if log_entries else "").strip(),
        ports=tuple(ports),
        paxx_service=labels.get(PAXX_LABEL, ""),
    )


def _familiar(reference: str) -> str:
    """The short form Docker shows: docker.io/library/redis:7 -> redis:7."""
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/"):
        if reference.startswith(prefix):
            return reference[len(prefix) :]
    return reference


def _is_present(image: str, present: set[str]) -> bool:
    """Whether a reference (repo:tag or repo:tag@digest) is among an image's tags/digests."""
    image = _familiar(image)
    name, _, digest = image.partition("@")
    if digest:
        repository = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
        return f"{repository}@{digest}" in {_familiar(p) for p in present}
    return image in {_familiar(p) for p in present}


def inspect_containers(ids: list[str]) -> list[ContainerState]:
    """The state of the given containers in one engine call (gone ones are skipped)."""
    if not ids:
        return []
    raw = run_docker(["inspect", "--type", "container", *ids], check=False)
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        return []
    return [parse_inspect(item) for item in items]


def paxx_containers(project_name: str) -> list[ContainerState]:
    """The project's containers that paxx created (labelled dev.paxx.service)."""
    out = run_docker(
        [
            "ps",
            "--all",
            "--quiet",
            "--no-trunc",
            "--filter",
            f"label={PROJECT_LABEL}={project_name}",
            "--filter",
            f"label={PAXX_LABEL}",
        ]
    )
    return inspect_containers(out.split())


def project_volumes(project_name: str, names: set[str]) -> list[str]:
    """Volumes of the Compose project whose short name is in `names`; others stay unseen."""
    out = run_docker(
        ["volume", "ls", "--quiet", "--filter", f"label={PROJECT_LABEL}={project_name}"]
    )
    wanted = {f"{project_name}_{name}" for name in names}
    return sorted(volume for volume in out.split() if volume in wanted)


def warm_up() -> None:
    """Import python-on-whales ahead of use (from a background thread)."""
    import python_on_whales  # noqa: F401


class Project:
    """One Compose project: its name, files and .env, and the operations paxx runs on it."""

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
                f"{_shorten(stderr.splitlines()[-1]) if stderr else exc.return_code}",
                "run with -v for details; `paxx status` shows what is running",
                details=stderr,
            ) from None
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted during docker compose {action}") from None

    def containers(self) -> list[ContainerState]:
        """Every container of the project (running or not), in two engine calls."""
        ids = run_docker(
            [
                "ps",
                "--all",
                "--quiet",
                "--no-trunc",
                "--filter",
                f"label={PROJECT_LABEL}={self.name}",
            ]
        ).split()
        return self.inspect(ids)

    def inspect(self, ids: list[str]) -> list[ContainerState]:
        """The state of the given containers in one engine call (gone ones are skipped)."""
        return inspect_containers(ids)

    def missing_images(self, images: Iterable[str]) -> list[str]:
        """The images that are not in the engine's image store (one engine call)."""
        wanted = sorted(set(images))
        if not wanted:
            return []
        out = run_docker(
            ["image", "inspect", "--format", "{{json .RepoTags}}{{json .RepoDigests}}", *wanted],
            check=False,
        )
        present = set(re.findall(r'"([^"]+)"', out))
        return [image for image in wanted if not _is_present(image, present)]

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

    def remove_containers(self, ids: list[str]) -> None:
        """Force-remove containers (used for services that are no longer declared)."""
        if ids:
            run_docker(["rm", "--force", "--volumes", *ids])

    def probe(self, container_id: str, test: tuple[str, ...], timeout: float) -> tuple[bool, str]:
        """Run a container's health-check command once with `docker exec`."""
        if not test or test[0] == "NONE":
            return True, ""
        if test[0] == "CMD-SHELL":
            command = ["/bin/sh", "-c", test[1]]
        elif test[0] == "CMD":
            command = list(test[1:])
        else:
            command = list(test)
        try:
            completed = subprocess.run(
                ["docker", "exec", container_id, *command],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=_clean_environment(),
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False, f"the health check did not answer within {timeout:.0f} s"
        return completed.returncode == 0, (completed.stdout + completed.stderr).strip()

    def logs(self, service: str, tail: int) -> str:
        """The last `tail` log lines of a service."""
        out = run_docker(
            ["compose", *self._file_args(), "logs", "--no-color", "--tail", str(tail), service],
            check=False,
        )
        return out.rstrip()

    def stream_logs(self, services: list[str], follow: bool, tail: int | None) -> int:
        """Print the services' logs to this terminal; return Compose's exit code."""
        argv = ["docker", "compose", *self._file_args(), "logs"]
        if follow:
            argv.append("--follow")
        if tail is not None:
            argv += ["--tail", str(tail)]
        argv += services
        log.debug("run", argv=argv)
        child = subprocess.Popen(argv, env=_clean_environment())
        # Ctrl-C stops following: Compose gets it from the terminal and exits on its own.
        signal.signal(signal.SIGINT, lambda _signal, _frame: None)
        return child.wait()

    def _file_args(self) -> list[str]:
        args = ["--project-name", self.name, "--env-file", str(self.env_file)]
        for path in self.compose_files:
            args += ["--file", str(path)]
        return args

    def volumes_created(self, volumes: list[str]) -> dict[str, str]:
        """Creation time (RFC 3339) of each volume that exists, in one engine call."""
        if not volumes:
            return {}
        out = run_docker(
            ["volume", "inspect", "--format", "{{.Name}} {{.CreatedAt}}", *volumes], check=False
        )
        return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def describe_port_holder(port: int) -> str:
    """Who holds a host port: a container's name when Docker publishes it, else the process."""
    from paxx_env.ports import describe_holder

    names = run_docker(
        ["ps", "--filter", f"publish={port}", "--format", "{{.Names}}"], check=False
    ).split()
    if names:
        return f"the container {names[0]}"
    return describe_holder(port)


_PULLED_DIGEST = re.compile(r"^Digest: (sha256:[0-9a-f]{64})$", re.MULTILINE)


def resolve_digest(image: str) -> str:
    """Pull `image` the way the engine pulls (its registry or mirror); return its digest.

    `docker pull` asks the registry for the tag's current manifest even when the image is
    present, and prints the manifest digest: that is the digest a lock pins.
    """
    try:
        out = run_docker(["pull", image], timeout=900)
    except CommandFailed as exc:
        reason = exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else ""
        raise EngineError(
            f"cannot resolve {image}: the registry did not answer ({_shorten(reason)})",
            "check the network or the engine's registry mirror (`docker pull IMAGE` shows the "
            "same error), then run the command again",
        ) from None
    match = _PULLED_DIGEST.search(out)
    if not match:
        raise EngineError(
            f"cannot resolve {image}: `docker pull` reported no digest",
            "pull it by hand (`docker pull IMAGE`) to see what the registry answers",
        )
    return match.group(1)
