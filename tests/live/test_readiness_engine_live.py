"""Readiness on the engine at hand: the start_interval overlay, and Docker's view of it.

Engines with API 1.44 or later (Docker Engine 25+) take a health-check start_interval: paxx
adds one in the per-machine overlay, so Docker's own check agrees within half a second. Older
engines reject it; there Docker runs its first check one interval after the start, and paxx
records the services it saw answer before that (test_readiness_live.py tests the host probes
themselves). Each test asks the engine for its API version (live.conftest.ENGINE) and checks
the path that engine takes; CI runs the live suite on Docker 20.10 and on Docker 26, so both
paths run for real."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import run_cli
from live.conftest import ENGINE, PROJECT_LABEL, docker_that_records, env_of
from paxx_env.render import HEALTH_POLICY, START_INTERVAL, engine_overlay

Make = Callable[..., Path]
OVERLAY = ".paxx/local/engine.yaml"
SERVICES = ("mailpit", "valkey")  # cache + email: two services, each with a health check


def containers_of(project: str) -> dict[str, dict[str, Any]]:
    """`docker inspect` of the project's containers, by Compose service."""
    ids = subprocess.run(
        ["docker", "ps", "--quiet", "--filter", f"label={PROJECT_LABEL}={project}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    items = json.loads(
        subprocess.run(
            ["docker", "inspect", *ids], capture_output=True, text=True, check=True
        ).stdout
    )
    return {item["Config"]["Labels"]["com.docker.compose.service"]: item for item in items}


def seconds(duration: str) -> float:
    """A Compose duration of paxx's health policy ("10s", "500ms") in seconds."""
    if duration.endswith("ms"):
        return int(duration[:-2]) / 1000
    assert duration.endswith("s"), duration
    return float(duration[:-1])


def moment(text: str) -> datetime:
    """A timestamp from `docker inspect` (nanoseconds, 'Z' or ' +0000 UTC')."""
    text = text.replace(" +0000 UTC", "Z").replace(" ", "T")
    head, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction + '000000')[:6]}+00:00")


def test_up_takes_the_readiness_path_of_the_engine(live: Make, tmp_path: Path) -> None:
    root = live("ready", "cache", "email")
    path, docker_runs = docker_that_records(tmp_path)
    up = run_cli(root, "up", "--timeout", "120", env=path)
    assert up.code == 0, up.output
    assert sorted(line.split()[0] for line in up.err.splitlines() if " healthy in " in line) == [
        *SERVICES
    ]
    project = env_of(root)["COMPOSE_PROJECT_NAME"]
    containers = containers_of(project)
    assert sorted(containers) == list(SERVICES)
    compose_files = env_of(root)["COMPOSE_FILE"].split(os.pathsep)
    execs = [argv for argv in docker_runs() if argv[0] == "exec"]
    probed = json.loads((root / ".paxx/local/last-up.json").read_text())["healthy"]
    ids = {item["Id"]: service for service, item in containers.items()}
    # Both services declare a probe from this machine: paxx ran no `docker exec` on either
    # engine, so nothing of paxx's competes with the services in their containers.
    assert execs == []

    if ENGINE.start_interval:
        # Rendered: the per-machine overlay sets start_interval for every service.
        overlay = yaml.safe_load((root / OVERLAY).read_text())
        assert overlay["services"] == {
            service: {"healthcheck": {"start_interval": START_INTERVAL}} for service in SERVICES
        }
        assert OVERLAY in compose_files
        interval = seconds(HEALTH_POLICY["interval"])
        for service, item in containers.items():
            # Accepted: the engine created the container with it...
            assert item["Config"]["Healthcheck"]["StartInterval"] == int(
                seconds(START_INTERVAL) * 1e9
            ), service
            # ...and acts on it: Docker's own check said healthy, and its first run came
            # sooner than one interval (10 s) after the start, when it would come without.
            health = item["State"]["Health"]
            assert health["Status"] == "healthy", service
            first = moment(health["Log"][0]["Start"])
            assert (first - moment(item["State"]["StartedAt"])).total_seconds() < interval
        # paxx may have seen a service answer before Docker's first check; only those.
        assert set(probed) <= set(ids)
    else:
        # The overlay carries no start_interval (this engine would refuse it, see below).
        assert not (root / OVERLAY).exists() or "start_interval" not in (root / OVERLAY).read_text()
        for service, item in containers.items():
            assert not item["Config"]["Healthcheck"].get("StartInterval"), service
        # paxx recorded the containers it saw answer before Docker's first check (one
        # interval after the start), for `paxx status` and the next `up`...
        assert sorted(probed) == sorted(ids)
        # ...so status says healthy while Docker still says starting.
        status = json.loads(run_cli(root, "status", "--json").out)
        assert {s["name"]: s["health"] for s in status["services"]} == dict.fromkeys(
            SERVICES, "healthy"
        )


@pytest.mark.skipif(
    ENGINE.start_interval,
    reason=f"engine API {ENGINE.api} takes start_interval (1.44+): the refusal shown here exists "
    "only on older engines; test_up_takes_the_readiness_path_of_the_engine shows it accepted",
)
def test_an_old_engine_refuses_the_overlay_paxx_renders_for_a_modern_one(live: Make) -> None:
    root = live("refused", "cache")
    assert run_cli(root, "up").code == 0
    assert run_cli(root, "down").code == 0
    # What paxx would write on a modern engine, given to plain Compose on this one.
    committed = yaml.safe_load((root / ".paxx/services/valkey.yaml").read_text())
    overlay = engine_overlay({"valkey": committed["services"]["valkey"]["image"]}, True)
    assert overlay is not None
    (root / OVERLAY).write_bytes(overlay)
    files = env_of(root)["COMPOSE_FILE"] + os.pathsep + OVERLAY
    done = subprocess.run(
        ["docker", "compose", "up", "--detach", "valkey"],
        cwd=root,
        env={**os.environ, "COMPOSE_FILE": files},
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert (
        "can't set healthcheck.start_interval as feature require Docker Engine v25 or later"
        in done.stderr
    )


def test_doctor_names_the_readiness_path_of_the_engine(live: Make) -> None:
    root = live("doctor-ready")
    doctor = run_cli(root, "doctor")
    line = next(line for line in doctor.out.splitlines() if line[6:].startswith("readiness"))
    waits = "`paxx up` waits for each service's probe from this machine"
    if ENGINE.start_interval:
        assert line == (
            f"ok    readiness      start_interval overlay: engine API {ENGINE.api} takes a "
            f"health-check start_interval, so {OVERLAY} sets {START_INTERVAL} and Docker's own "
            f"check agrees that soon; {waits}"
        )
    else:
        assert line == (
            f"warn  readiness      engine API {ENGINE.api} has no health-check start_interval "
            "(API 1.44+, Docker Engine 25): Docker runs its first check one interval "
            f"({HEALTH_POLICY['interval']}) after a start and says `starting` until then; "
            f"{waits} (with `docker exec` for a service that declares none)"
        )
