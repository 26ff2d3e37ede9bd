"""Which engine: what paxx settles without the docker CLI is what the CLI itself says.

Only the docker CLI is needed (`docker context inspect` contacts no engine).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from paxx_env.engine import target

pytestmark = pytest.mark.skipif(
    shutil.which("docker") is None, reason="needs the docker CLI (not an engine)"
)


@pytest.mark.parametrize(
    ("variables", "config"),
    [
        ({}, None),
        ({}, {"currentContext": "default"}),
        ({"DOCKER_HOST": "unix:///run/other/docker.sock"}, None),
        ({"DOCKER_HOST": "unix:///run/other/docker.sock", "DOCKER_CONTEXT": "gone"}, None),
    ],
    ids=["nothing set", "default context in config.json", "a socket", "a socket and a context"],
)
def test_the_engine_settled_without_the_cli_is_the_clis(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variables: dict[str, str],
    config: dict[str, str] | None,
) -> None:
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    if config is not None:
        (tmp_path / "config.json").write_text(json.dumps(config))
    settled = target._without_asking()
    assert settled is not None
    assert settled == target._ask_target()


@pytest.mark.parametrize(
    "variables",
    [{"DOCKER_HOST": "tcp://localhost"}, {"DOCKER_CONTEXT": "remote"}],
    ids=["tcp (the CLI adds a port)", "a named context"],
)
def test_anything_else_is_asked(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert target._without_asking() is None
