"""What paxx needs to know about the engine and Compose, and whether they answer at all."""

from __future__ import annotations

import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from paxx_env.engine.docker import (
    INSTALL_HINT,
    engine_unreachable,
    run_docker,
    run_docker_completed,
)
from paxx_env.errors import EngineError

#: Engine API 1.44 (Docker Engine 25) added the healthcheck start_interval.
START_INTERVAL_API = (1, 44)
MIN_COMPOSE = (2, 20)
#: How long the engine may take to say its version: a remote engine that drops packets is
#: reported after this, not after the docker CLI's own (much longer) timeout.
ENGINE_TIMEOUT = 5.0
_COMPOSE_HINT = "install the Compose plugin: https://docs.docker.com/compose/install/linux/"


@dataclass(frozen=True)
class EngineInfo:
    """What paxx needs to know about the engine and Compose."""

    engine_version: str
    api_version: str
    compose_version: str

    @property
    def start_interval(self) -> bool:
        """Whether the engine accepts a healthcheck start_interval (API >= 1.44)."""
        return version_tuple(self.api_version) >= START_INTERVAL_API


def version_tuple(text: str) -> tuple[int, ...]:
    """(1, 44) for "1.44"; the first three numbers of a version string."""
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def check_engine() -> EngineInfo:
    """Verify that the engine answers and Compose v2 is installed, or raise EngineError."""
    if shutil.which("docker") is None:
        raise EngineError("the docker command is not installed", INSTALL_HINT)
    # Both commands take tens of milliseconds; ask them at the same time.
    with ThreadPoolExecutor(max_workers=1) as pool:
        compose_answer = pool.submit(
            run_docker, ["compose", "version", "--short"], timeout=ENGINE_TIMEOUT, check=False
        )
        engine = run_docker_completed(
            ["version", "--format", "{{json .}}"],
            timeout=ENGINE_TIMEOUT,
            timeout_message=f"the Docker engine did not answer within {ENGINE_TIMEOUT:.0f} s",
        )
        compose = compose_answer.result().strip()
    try:
        server = json.loads(engine.stdout or "{}").get("Server") or {}
    except ValueError:
        server = {}
    if not server:
        lines = engine.stderr.strip().splitlines()
        raise engine_unreachable(lines[-1] if lines else "")
    if not re.match(r"^v?\d+\.\d+", compose):
        raise EngineError(
            "Docker Compose v2 is not installed (`docker compose` is missing)", _COMPOSE_HINT
        )
    if version_tuple(compose) < MIN_COMPOSE:
        raise EngineError(
            f"Docker Compose {compose} is too old; paxx needs {'.'.join(map(str, MIN_COMPOSE))}+",
            "update the Compose plugin: https://docs.docker.com/compose/install/linux/",
        )
    return EngineInfo(
        engine_version=str(server.get("Version", "")),
        api_version=str(server.get("ApiVersion", "")),
        compose_version=compose.lstrip("v"),
    )


def docker_root_dir() -> str:
    """Where the engine keeps images and volumes (on its own machine)."""
    return run_docker(["info", "--format", "{{.DockerRootDir}}"]).strip()
