"""Which target a command acts on: --target, the declaration, or where the last `up` ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PYPROJECT
from paxx_env.errors import UsageError
from paxx_env.lastup import LastUp, choose_target

ENGINE = {"context": "default", "endpoint": "unix:///var/run/docker.sock"}
NOTHING_RAN = LastUp()
RAN_ON_COMPOSE = LastUp(engine=ENGINE)  # records from before targets carry no runs_on
RAN_ON_SWARM = LastUp(engine=ENGINE, runs_on="swarm")


def _project(tmp_path: Path, target: str | None) -> Path:
    text = PYPROJECT.format(name="shop") + '\n[tool.paxx]\nfeatures = ["cache"]\n'
    if target:
        text += f'target = "{target}"\n'
    (tmp_path / "pyproject.toml").write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("declared", "last", "chosen", "command", "expected"),
    [
        (None, NOTHING_RAN, None, "up", "compose"),
        ("swarm", NOTHING_RAN, None, "up", "swarm"),
        ("swarm", NOTHING_RAN, "compose", "up", "compose"),
        (None, RAN_ON_SWARM, None, "up", "swarm"),  # stays where it runs
        (None, RAN_ON_SWARM, None, "status", "swarm"),
        (None, RAN_ON_SWARM, None, "down", "swarm"),
        ("swarm", RAN_ON_COMPOSE, None, "down", "compose"),  # down where it runs
        ("swarm", RAN_ON_COMPOSE, None, "status", "compose"),
        (None, RAN_ON_COMPOSE, "swarm", "status", "swarm"),  # status may look elsewhere
        ("swarm", NOTHING_RAN, None, "status", "swarm"),
    ],
)
def test_the_target_of_each_command(
    tmp_path: Path,
    declared: str | None,
    last: LastUp,
    chosen: str | None,
    command: str,
    expected: str,
) -> None:
    assert choose_target(_project(tmp_path, declared), last, chosen, command) == expected


@pytest.mark.parametrize(
    ("declared", "last", "chosen", "command", "message", "hint"),
    [
        (
            "swarm",
            RAN_ON_COMPOSE,
            None,
            "up",
            "this project's environment runs on compose, not on swarm",
            "stop it there first (`paxx down`), then `paxx up --target swarm`",
        ),
        (
            None,
            RAN_ON_SWARM,
            "compose",
            "up",
            "this project's environment runs on swarm, not on compose",
            "stop it there first (`paxx down --target swarm`), then `paxx up --target compose`",
        ),
        (
            None,
            RAN_ON_SWARM,
            "compose",
            "down",
            "this project's environment runs on swarm, not on compose",
            "stop it there first (`paxx down --target swarm`)",
        ),
        (None, NOTHING_RAN, "k8s", "up", "unknown target 'k8s'", "choose one of: compose, swarm"),
    ],
)
def test_another_target_while_the_environment_runs_is_refused(
    tmp_path: Path,
    declared: str | None,
    last: LastUp,
    chosen: str | None,
    command: str,
    message: str,
    hint: str,
) -> None:
    with pytest.raises(UsageError) as caught:
        choose_target(_project(tmp_path, declared), last, chosen, command)
    assert (caught.value.message, caught.value.hint) == (message, hint)
