"""An engine that does not answer gets the same two lines from every command that needs it.

Only the docker CLI is needed: DOCKER_HOST points at a socket nobody listens on.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import run_cli

pytestmark = pytest.mark.skipif(
    shutil.which("docker") is None, reason="needs the docker CLI (not an engine)"
)
NOWHERE = "unix:///nonexistent/docker.sock"
FIX = "  fix: start it (e.g. `sudo systemctl start docker`) or point DOCKER_HOST at it"


@pytest.mark.parametrize(
    "command",
    [
        ["up"],
        ["up", "--target", "swarm"],
        ["status"],
        ["status", "--json"],
        ["status", "--target", "swarm"],
        ["down"],
        ["down", "--target", "swarm", "--volumes", "--yes"],
        ["down", "--volumes", "--yes"],
        ["logs", "valkey"],
        ["lock"],
        ["feature", "remove", "cache", "--volumes", "--yes"],
    ],
    ids=" ".join,
)
def test_every_command_says_the_engine_is_not_reachable(project: Path, command: list[str]) -> None:
    assert run_cli(project, "feature", "add", "cache").code == 0
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    result = run_cli(project, *command, env={"DOCKER_HOST": NOWHERE})
    assert result.code == 1, result.output
    lines = result.err.splitlines()
    assert len(lines) == 2, result.err
    assert lines[0].startswith(f"paxx: error: the Docker engine is not reachable at {NOWHERE}")
    assert lines[1] == FIX
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before


def test_status_before_the_first_render_needs_no_engine(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text() + '\n[tool.paxx]\nfeatures = ["cache"]\n'
    )
    result = run_cli(project, "status", env={"DOCKER_HOST": NOWHERE})
    assert result.code == 0, result.output
    assert "redis" in result.out and "not created" in result.out


def test_an_unknown_context_is_a_two_line_error(project: Path) -> None:
    assert run_cli(project, "feature", "add", "cache").code == 0
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    for command in (["up"], ["status"], ["down"]):
        result = run_cli(project, "--context", "no-such-context", *command)
        assert result.code == 2, result.output
        assert result.err.splitlines() == [
            "paxx: error: the Docker context 'no-such-context' does not exist",
            "  fix: `docker context ls` lists them; pass one with --context NAME",
        ]
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before
