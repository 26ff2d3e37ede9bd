"""Data safety and faults on the real engine: Ctrl-C, taken ports, old volumes, prompts, soak."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import Runner, run_cli
from live.conftest import ALL_FEATURES, env_of, providers_of
from paxx_env.catalog import load_catalog

Make = Callable[..., Path]


def docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def project_volumes(project: str) -> list[str]:
    return docker(
        "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={project}"
    ).split()


def test_postgres_real_ctrl_c_while_waiting_exits_130_and_the_next_up_works(live: Make) -> None:
    root = live("interrupt", "db")
    up = subprocess.Popen(
        [sys.executable, "-m", "paxx_env", "-C", str(root), "up"],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert up.stderr is not None
    assert up.stderr.readline().split() == ["postgres", "starting"]
    up.send_signal(signal.SIGINT)
    _, err = up.communicate(timeout=60)
    assert up.returncode == 130
    assert (
        "paxx: error: interrupted while waiting; the services go on starting in the background"
        in err
    )
    assert "  fix: run `paxx status` to see them, or `paxx up` to wait again" in err
    assert not list(root.rglob("*.paxx-tmp"))
    again = run_cli(root, "up")
    assert again.code == 0, again.output


@contextlib.contextmanager
def listening_on(port: int) -> Iterator[None]:
    """This test process listens on 127.0.0.1:port (so paxx should name it as the holder)."""
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))
        holder.listen()
        yield


def test_a_kept_port_taken_by_another_process_stops_up_with_the_holder(live: Make) -> None:
    root = live("taken", "cache")
    port = int(env_of(root)["PAXX_VALKEY_PORT"])
    with listening_on(port):
        result = run_cli(root, "up")
    assert result.code == 1
    program = Path("/proc/self/comm").read_text().strip()
    assert result.err.splitlines() == [
        f"paxx: error: port {port} (PAXX_VALKEY_PORT, for valkey) is taken by pid {os.getpid()} ({program})",
        "  fix: stop that process, or delete PAXX_VALKEY_PORT from .env and run `paxx up` again "
        "to pick a free port",
    ]


def test_postgres_real_new_secrets_are_refused_on_an_existing_volume(
    live: Make, paxx: Runner
) -> None:
    import psycopg

    root = live("oldvolume", "db")
    assert paxx(root, "up").code == 0
    with psycopg.connect(env_of(root)["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("create table kept (x int)")
    assert paxx(root, "down").code == 0
    saved = (root / ".env").read_text()
    (root / ".env").unlink()  # the password that initialised the volume is gone
    time.sleep(1.1)  # secrets are timestamped to the second
    refused = paxx(root, "up")
    assert refused.code == 2
    project = env_of(root)["COMPOSE_PROJECT_NAME"]
    assert refused.err.splitlines() == [
        f"paxx: error: the data volume {project}_postgres-data is older than POSTGRES_PASSWORD in "
        ".env, so postgres would not accept the new credentials",
        "  fix: restore the old values in .env, or delete the data with `paxx down --volumes` to "
        "start afresh",
    ]
    assert project_volumes(project) == [f"{project}_postgres-data"], "the data is untouched"
    (root / ".env").write_text(saved)
    (root / ".env").chmod(0o600)
    assert paxx(root, "up").code == 0, "the old .env works again"
    with psycopg.connect(env_of(root)["DATABASE_URL"]) as conn:
        assert conn.execute("select count(*) from kept").fetchone() == (0,)


def run_on_terminal(root: Path, answer: str, *args: str) -> tuple[int, str]:
    """Run paxx with stdin and stdout on a pseudo-terminal and type `answer`."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "paxx_env", "-C", str(root), *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 60
    answered = False
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"Delete them?" in output:
            os.write(leader, answer.encode() + b"\n")
            answered = True
    process.wait(timeout=60)
    os.close(leader)
    return process.returncode, output.decode(errors="replace")


def test_down_volumes_asks_on_a_terminal_and_no_keeps_everything(live: Make, paxx: Runner) -> None:
    root = live("prompt", "cache")
    assert paxx(root, "up").code == 0
    project = env_of(root)["COMPOSE_PROJECT_NAME"]
    code, output = run_on_terminal(root, "n", "down", "--volumes")
    assert code == 1
    assert f"  {project}_valkey-data" in output and "Delete them? [y/N]:" in output
    assert "cancelled: nothing was stopped or deleted" in output
    assert project_volumes(project) == [f"{project}_valkey-data"]
    running = docker("ps", "-q", "--filter", f"label=com.docker.compose.project={project}")
    assert running, "the service keeps running"
    code, output = run_on_terminal(root, "y", "down", "--volumes")
    assert code == 0, output
    assert project_volumes(project) == []


@pytest.mark.parametrize("provider", providers_of("cache"))
def test_resp_real_soak_20_cycles_keep_data_and_leak_nothing(
    live: Make, paxx: Runner, provider: str
) -> None:
    import redis

    root = live("soak", "cache", provider=provider)
    project = None
    for cycle in range(20):
        assert paxx(root, "up").code == 0
        url = env_of(root)["REDIS_URL"]
        project = env_of(root)["COMPOSE_PROJECT_NAME"]
        client = redis.Redis.from_url(url)
        assert client.get("cycles") == (str(cycle).encode() if cycle else None)
        client.set("cycles", cycle + 1)
        client.save()  # the append-only file is flushed every second; SAVE makes it now
        client.close()
        # The next cycle's `up` reads it back: up -> write -> down -> up -> data still there.
        assert paxx(root, "down").code == 0
        assert docker("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}") == ""
    assert paxx(root, "up").code == 0
    assert redis.Redis.from_url(env_of(root)["REDIS_URL"]).get("cycles") == b"20"
    assert paxx(root, "down").code == 0
    assert project_volumes(str(project)) == [f"{project}_{provider}-data"]
    assert paxx(root, "down", "--volumes", "--yes").code == 0
    label = f"label=com.docker.compose.project={project}"
    assert docker("ps", "-aq", "--filter", label) == ""
    assert docker("network", "ls", "-q", "--filter", label) == ""
    assert project_volumes(str(project)) == []


@pytest.mark.parametrize(
    ("fake", "message", "hint"),
    [
        (
            'if [ "$1" = compose ]; then echo "docker: \'compose\' is not a docker command." >&2; exit 1; fi',
            "Docker Compose v2 is not installed (`docker compose` is missing)",
            "install the Compose plugin: https://docs.docker.com/compose/install/linux/",
        ),
        (
            'if [ "$1 $2" = "compose version" ]; then echo 2.12.2; exit 0; fi',
            "Docker Compose 2.12.2 is too old; paxx needs 2.20+",
            "update the Compose plugin: https://docs.docker.com/compose/install/linux/",
        ),
    ],
    ids=["compose-missing", "compose-too-old"],
)
def test_compose_missing_or_too_old_is_a_two_line_error(
    live: Make, tmp_path: Path, fake: str, message: str, hint: str
) -> None:
    # The engine is real; a `docker` wrapper first on PATH hides or ages the Compose plugin,
    # which the machine cannot do otherwise (it has Compose 2.40 installed).
    real = subprocess.run(
        ["which", "docker"], capture_output=True, text=True, check=True
    ).stdout.strip()
    wrapper = tmp_path / "bin" / "docker"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\n{fake}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    root = live("nocompose", "cache")
    result = run_cli(root, "up", env={"PATH": f"{wrapper.parent}:{os.environ['PATH']}"})
    assert result.code == 1
    assert result.err.splitlines() == [f"paxx: error: {message}", f"  fix: {hint}"]


def test_secure_defaults_of_every_feature_at_once_on_the_engine(live: Make, paxx: Runner) -> None:
    root = live("secure", *ALL_FEATURES)
    started = paxx(root, "up")
    assert started.code == 0, started.output
    project = env_of(root)["COMPOSE_PROJECT_NAME"]
    ids = docker("ps", "-q", "--filter", f"label=com.docker.compose.project={project}").split()
    assert len(ids) == 6
    bindings = docker(
        "inspect",
        "--format",
        "{{range $p, $b := .NetworkSettings.Ports}}{{range $b}}{{.HostIp}} {{end}}{{end}}",
        *ids,
    ).split()
    assert bindings and set(bindings) == {"127.0.0.1"}, "no port on 0.0.0.0 or ::"
    images = docker("inspect", "--format", "{{.Config.Image}}", *ids).split()
    assert all(":" in i.rsplit("/", 1)[-1] and not i.endswith(":latest") for i in images)
    # The secrets the catalog generates (RUSTFS_ACCESS_KEY is a user name, not one of them).
    catalog = load_catalog()
    keys = {k for name in catalog.services for k in catalog.services[name].meta.secrets}
    secrets = [v for k, v in env_of(root).items() if k in keys]
    assert len(secrets) == 4, "one per service that has a password or key"
    for command in (
        ["status"],
        ["status", "--json"],
        ["env"],
        ["-v", "up"],
        ["logs", "--tail", "20"],
    ):
        result = run_cli(root, *command)
        assert result.code == 0, result.output
        for secret in secrets:
            assert secret not in result.output, f"`paxx {' '.join(command)}` printed a secret"


def test_doctor_reports_each_check_with_a_fix(live: Make, paxx: Runner) -> None:
    root = live("doctor", "cache")
    assert paxx(root, "up").code == 0
    healthy = run_cli(root, "doctor")
    assert healthy.code == 0, healthy.output
    names = [
        line.split()[1] for line in healthy.out.splitlines() if line[:4] in {"ok  ", "warn", "fail"}
    ]
    assert names == ["engine", "compose", "readiness", "ports", "disk", "disk", "files"]
    assert (
        "ok    ports          every host port of the project is free or held by its service"
        in healthy.out
    )
    assert "ok    files          every generated file matches the declaration" in healthy.out

    overlay = root / ".paxx/services/valkey.yaml"
    overlay.write_text(overlay.read_text() + "# mine\n")
    assert paxx(root, "down").code == 0
    port = int(env_of(root)["PAXX_VALKEY_PORT"])
    with listening_on(port):
        sick = run_cli(root, "doctor")
    assert sick.code == 1
    program = Path("/proc/self/comm").read_text().strip()
    assert (
        f"fail  ports          {port} (PAXX_VALKEY_PORT, valkey) is taken by pid {os.getpid()} ({program})"
        in sick.out
    )
    assert "warn  files          edited by hand: .paxx/services/valkey.yaml" in sick.out
    assert "fix: keep the edit, or `paxx up --force` to regenerate (a copy is kept)" in sick.out


def test_doctor_calls_an_edited_wiring_file_yours_and_up_writes_paxxs_again(live: Make) -> None:
    root = live("kept", "cache")
    (wiring,) = (path for path in root.glob("*/wiring.py"))
    name = wiring.relative_to(root).as_posix()
    paxxs = wiring.read_text()
    wiring.write_text(paxxs + "# my route\n")
    overlay = root / ".paxx/services/valkey.yaml"
    generated = overlay.read_text()
    overlay.write_text(generated + "# mine\n")
    doctor = run_cli(root, "doctor")
    files = [line for line in doctor.out.splitlines() if line.startswith("warn  files")]
    assert files == [
        "warn  files          edited by hand: .paxx/services/valkey.yaml",
        "warn  files          yours (edited, or there before paxx), so paxx leaves them as they "
        f"are: {name}",
    ], doctor.output
    # `--force` is offered for the overlay only: a sync keeps wiring.py (keep-edits).
    assert doctor.out.count("--force") == 1
    assert (
        "fix: nothing to do to keep them; for paxx's version of one, move it aside and run "
        "`paxx up`, which writes it again"
    ) in doctor.out
    # What that fix says, done: paxx's wiring.py is back, the edit is where it was put.
    overlay.write_text(generated)
    aside = wiring.with_name("wiring.py.mine")
    wiring.rename(aside)
    up = run_cli(root, "up")
    assert up.code == 0, up.output
    assert f"create  {name}" in up.output
    assert wiring.read_text() == paxxs
    assert aside.read_text() == paxxs + "# my route\n"
    again = run_cli(root, "doctor")
    assert "ok    files          every generated file matches the declaration" in again.out
    # Edited again, it is no drift: status says so on a note, and `paxx up` has nothing to
    # render for it (the quick start: no sync, so no "left it as it is" line).
    wiring.write_text(paxxs + "# my route\n")
    status = run_cli(root, "status")
    assert [line for line in status.out.splitlines() if line.startswith(("drift", "note"))] == [
        f"note: yours since you edited them: {name} (paxx leaves them as they are; for paxx's "
        "version of one, move it aside and run `paxx up`)"
    ], status.output
    drift = json.loads(run_cli(root, "status", "--json").out)["drift"]
    assert (drift["edited_files"], drift["kept_files"]) == ([], [name])
    up = run_cli(root, "up")
    assert up.code == 0 and "already up" in up.output, up.output
    assert "left it as it is" not in up.output
