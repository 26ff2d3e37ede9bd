"""The stack as a whole on the real engine: projects side by side, data safety, plain Compose."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Runner, declare, dotenv_replace, provider_stacks, run_cli
from live.conftest import ALL_FEATURES, PROJECT_LABEL, docker_that_records, env_of
from paxx_env.catalog import load_catalog, select
from paxx_env.fsio import exclusive_lock
from paxx_env.paths import project_lock_path

Make = Callable[..., Path]
#: Every feature on its default providers, then on the others: every service is configured.
STACKS = provider_stacks()


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def volumes_of(project: str) -> list[str]:
    out = docker("volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={project}")
    return sorted(out.split())


@pytest.mark.parametrize("stack", range(len(STACKS)))
def test_every_generated_compose_file_passes_compose_config(
    live: Make, paxx: Runner, stack: int
) -> None:
    root = live("all")
    declare(root, list(ALL_FEATURES), STACKS[stack])
    added = paxx(root, "feature", "add", *ALL_FEATURES)
    assert added.code == 0, added.output
    # Plain `docker compose` in the project folder (COMPOSE_FILE from .env) accepts the files.
    done = subprocess.run(
        ["docker", "compose", "config", "--quiet"], cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    services = subprocess.run(
        ["docker", "compose", "config", "--services"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sorted(services) == list(select(load_catalog(), ALL_FEATURES, STACKS[stack]).services)


def test_plain_docker_compose_sees_the_same_stack_as_paxx(live: Make, paxx: Runner) -> None:
    root = live("plain", "cache", "email")
    assert paxx(root, "up").code == 0
    ps = subprocess.run(
        ["docker", "compose", "ps", "--format", "json"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [json.loads(line) for line in ps.splitlines() if line.strip()]
    assert sorted(r["Service"] for r in rows) == ["mailpit", "valkey"]
    assert {r["Project"] for r in rows} == {env_of(root)["COMPOSE_PROJECT_NAME"]}


def test_two_projects_run_side_by_side_and_down_volumes_leaves_the_other_alone(
    live: Make, paxx: Runner
) -> None:
    import redis

    one, two = live("one", "cache"), live("two", "cache")
    assert paxx(one, "up").code == 0
    assert paxx(two, "up").code == 0
    env_one, env_two = env_of(one), env_of(two)
    assert env_one["PAXX_VALKEY_PORT"] != env_two["PAXX_VALKEY_PORT"]
    redis.Redis.from_url(env_one["REDIS_URL"]).set("who", "one")
    redis.Redis.from_url(env_two["REDIS_URL"]).set("who", "two")
    assert redis.Redis.from_url(env_one["REDIS_URL"]).get("who") == b"one"

    project_two = env_two["COMPOSE_PROJECT_NAME"]
    before = volumes_of(project_two)
    result = paxx(one, "down", "--volumes")
    assert result.code == 0, result.output
    assert f"{env_one['COMPOSE_PROJECT_NAME']}_valkey-data" in result.out
    assert volumes_of(env_one["COMPOSE_PROJECT_NAME"]) == []
    assert volumes_of(project_two) == before == [f"{project_two}_valkey-data"]
    assert redis.Redis.from_url(env_two["REDIS_URL"]).get("who") == b"two"


def test_postgres_real_data_survives_down_and_up(live: Make, paxx: Runner) -> None:
    import psycopg

    root = live("keep", "db")
    assert paxx(root, "up").code == 0
    url = env_of(root)["DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table notes (body text)")
        conn.execute("insert into notes values ('kept')")
    down = paxx(root, "down")
    assert down.code == 0
    assert "Data volumes kept" in down.out
    assert paxx(root, "up").code == 0
    with psycopg.connect(url) as conn:
        assert conn.execute("select body from notes").fetchall() == [("kept",)]


def test_secrets_with_special_characters_reach_the_containers_unchanged(
    live: Make, paxx: Runner
) -> None:
    import psycopg
    import redis

    root = live("quote", "cache", "db")
    tricky = {
        "POSTGRES_PASSWORD": "p$ss #1 'q' \"dq\" \\back",
        "VALKEY_PASSWORD": "v$lkey #x y'z",
    }
    env = root / ".env"
    text = env.read_text()
    for key, value in tricky.items():
        text = dotenv_replace(text, key, value)
    env.write_text(text)
    assert paxx(root, "up").code == 0, "paxx reads back what the user wrote"
    values = env_of(root)
    assert values["POSTGRES_PASSWORD"] == tricky["POSTGRES_PASSWORD"]
    with psycopg.connect(
        host="127.0.0.1",
        port=int(values["PAXX_POSTGRES_PORT"]),
        user=values["POSTGRES_USER"],
        dbname=values["POSTGRES_DB"],
        password=tricky["POSTGRES_PASSWORD"],
    ) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    with psycopg.connect(values["DATABASE_URL"]) as conn:  # the URL quotes it correctly
        assert conn.execute("select 1").fetchone() == (1,)
    assert redis.Redis(
        port=int(values["PAXX_VALKEY_PORT"]), password=tricky["VALKEY_PASSWORD"]
    ).ping()
    assert redis.Redis.from_url(values["REDIS_URL"]).ping()


def test_a_service_that_never_gets_healthy_is_named_with_its_output_and_logs(
    live: Make, paxx: Runner
) -> None:
    root = live("sick", "cache", "search")
    # Meilisearch's check needs curl; the redis image has none, so its check can never pass.
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.paxx.services.meilisearch]\nimage = "redis:7.4.2-alpine"\n'
    )
    result = paxx(root, "up", "--timeout", "6")
    assert result.code == 1
    err = result.err.splitlines()
    lines = err[err.index(next(line for line in err if line.startswith("paxx: error:"))) :]
    assert "meilisearch  failed after 6." in result.err
    assert lines[0] == "paxx: error: meilisearch did not become healthy: not healthy after 6 s"
    assert lines[1] == (
        "  fix: see `paxx logs meilisearch`; the other services keep running (`paxx status`)"
    )
    assert "last health check output of meilisearch:" in result.err
    assert "curl" in result.err
    assert "last 50 log lines of meilisearch:" in result.err
    status = {s["name"]: s for s in json.loads(paxx(root, "status", "--json").out)["services"]}
    assert status["valkey"]["state"] == "running"


def test_feature_remove_stops_the_service_and_keeps_its_volume(live: Make, paxx: Runner) -> None:
    root = live("rm", "cache", "email")
    assert paxx(root, "up").code == 0
    project = env_of(root)["COMPOSE_PROJECT_NAME"]
    result = paxx(root, "feature", "remove", "cache")
    assert result.code == 0, result.output
    assert "  stopped  valkey" in result.out
    names = docker(
        "ps", "--format", "{{.Names}}", "--filter", f"label=com.docker.compose.project={project}"
    )
    assert "valkey" not in names and "mailpit" in names
    assert f"{project}_valkey-data" in volumes_of(project)
    again = paxx(root, "feature", "remove", "email", "--volumes")
    assert again.code == 0, again.output
    assert f"  deleted  volume {project}_mailpit-data" in again.out
    assert f"{project}_valkey-data" in volumes_of(project)


def test_the_four_commands_through_the_installed_script(live: Make) -> None:
    root = live("script")
    assert run_cli(root, "feature", "add", "storage").code == 0
    up = run_cli(root, "up")
    assert up.code == 0, up.output
    assert "rustfs" in up.err and "healthy in" in up.err
    status = run_cli(root, "status")
    assert status.code == 0
    assert "healthy" in status.out and "http://127.0.0.1:" in status.out
    logs = run_cli(root, "logs", "rustfs", "--tail", "3")
    assert logs.code == 0, logs.output
    assert logs.out.startswith("rustfs-1  | ") and len(logs.out.splitlines()) <= 3
    down = run_cli(root, "down", "--volumes")
    assert down.code == 0
    assert "Deleted 1 volume(s)" in down.out


def test_up_with_nothing_to_do_does_not_touch_compose_and_a_change_does(
    live: Make, tmp_path: Path
) -> None:
    root = live("noop", "cache")
    assert run_cli(root, "up").code == 0
    path, docker_runs = docker_that_records(tmp_path)
    again = run_cli(root, "up", env=path)
    assert again.code == 0, again.output
    assert again.err == "valkey  already up\n"
    assert "valkey   cache (valkey)  running  healthy" in again.out
    # Two engine calls: the first look lists and inspects the containers, and the status
    # table is drawn from them; it is the table `paxx status` draws after its own listing.
    assert [argv[:1] for argv in docker_runs()] == [["ps"], ["inspect"]]
    assert again.out == run_cli(root, "status").out
    # A changed input (here the declaration) means real work again.
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('features = ["cache"]', 'features = ["cache", "email"]')
    )
    changed = run_cli(root, "up")
    assert changed.code == 0, changed.output
    assert (
        "mailpit" in changed.err
        and "already up" not in changed.err.split("mailpit")[1].split("\n")[0]
    )
    # A container stopped behind paxx's back is noticed too.
    project = env_of(root)["COMPOSE_PROJECT_NAME"]
    subprocess.run(["docker", "stop", f"{project}-valkey-1"], capture_output=True, check=True)
    restarted = run_cli(root, "up")
    assert restarted.code == 0, restarted.output
    assert re.search(r"^valkey +healthy in", restarted.err, re.MULTILINE)


def test_a_quick_up_after_the_nothing_to_do_check_lists_the_containers_once(
    live: Make, tmp_path: Path
) -> None:
    root = live("once", "cache")
    assert run_cli(root, "up").code == 0
    project = env_of(root)["COMPOSE_PROJECT_NAME"]
    subprocess.run(["docker", "stop", f"{project}-valkey-1"], capture_output=True, check=True)
    path, docker_runs = docker_that_records(tmp_path)
    started = run_cli(root, "up", env=path)
    assert started.code == 0, started.output
    assert re.search(r"^valkey +healthy in", started.err, re.MULTILINE)
    runs = docker_runs()
    compose_up = next(i for i, argv in enumerate(runs) if argv[:1] == ["compose"] and "up" in argv)
    listings = [
        argv
        for argv in runs[:compose_up]
        if argv[:1] == ["ps"] and f"label={PROJECT_LABEL}={project}" in argv
    ]
    # The nothing-to-do check found the container stopped; its listing served the quick
    # start's survey, which asked only about volumes and images.
    assert listings == [
        ["ps", "--all", "--quiet", "--no-trunc", "--filter", f"label={PROJECT_LABEL}={project}"]
    ]
    asked = sorted(argv[:2] for argv in runs[:compose_up] if argv[:1] in (["volume"], ["image"]))
    assert asked == [["image", "inspect"], ["volume", "inspect"]]


def test_a_no_op_up_waits_while_another_paxx_command_holds_the_project(live: Make) -> None:
    # The nothing-to-do check runs under the project lock, as the quick start it hands its
    # listing to does: while another command holds the lock, what it would see may change.
    root = live("wait", "cache")
    assert run_cli(root, "up").code == 0
    with exclusive_lock(project_lock_path(root)):
        up = subprocess.Popen(
            [sys.executable, "-m", "paxx_env", "-C", str(root), "up"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert up.stderr is not None
        first = up.stderr.readline()
        assert (
            first
            == f"waiting for another paxx command on this project (pid {os.getpid()}) to finish...\n"
        )
        assert up.poll() is None
    out, err = up.communicate(timeout=120)
    assert up.returncode == 0, err
    assert err == "valkey  already up\n"
    assert "valkey   cache (valkey)  running  healthy" in out


def test_up_pulls_only_what_is_missing_and_says_so(live: Make) -> None:
    root = live("pull", "email", "cache")
    image = "axllent/mailpit:v1.27"
    # Only the local tag goes (--force untags it even while a container of another project
    # runs it; the layers stay); the registry serves
    # it again, so the next `up` must pull it and nothing else.
    subprocess.run(["docker", "image", "rm", "--force", image], capture_output=True, check=True)
    result = run_cli(root, "up")
    assert result.code == 0, result.output
    lines = [line.split() for line in result.err.splitlines()]
    assert ["mailpit", "pulling"] in lines
    assert ["valkey", "pulling"] not in lines
    assert [line for line in lines if "Pulling" in line or "Pulled" in line] == [], (
        "Compose's own output stays quiet"
    )
    assert (
        subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0
    )


def test_switching_provider_keeps_the_old_data_for_a_switch_back(live: Make, paxx: Runner) -> None:
    """Redis -> Valkey -> Redis, both real: nothing is copied, nothing is deleted."""
    import redis

    root = live("switch", "cache", provider="redis")
    assert paxx(root, "up").code == 0
    client = redis.Redis.from_url(env_of(root)["REDIS_URL"])
    client.set("kept", "on redis")
    client.save()
    client.close()
    project = env_of(root)["COMPOSE_PROJECT_NAME"]

    switched = paxx(root, "feature", "add", "cache", "--provider", "valkey")
    assert switched.code == 0, switched.output
    assert switched.out.splitlines()[-4:] == [
        "Switched cache from redis to valkey: its data is not copied over.",
        "  stopped  redis",
        f"No longer run: redis; their data stays in {project}_redis-data, kept for a switch "
        f"back; `docker volume rm {project}_redis-data` deletes it.",
        "Next: `paxx up` starts the services.",
    ]
    assert paxx(root, "up").code == 0
    valkey = redis.Redis.from_url(env_of(root)["REDIS_URL"])
    assert valkey.get("kept") is None, "a new provider starts empty"
    assert valkey.info("server").get("valkey_version"), "Valkey answers REDIS_URL now"
    valkey.close()
    assert volumes_of(project) == [f"{project}_redis-data", f"{project}_valkey-data"]

    back = paxx(root, "feature", "add", "cache", "--provider", "redis")
    assert back.code == 0, back.output
    assert paxx(root, "up").code == 0
    assert redis.Redis.from_url(env_of(root)["REDIS_URL"]).get("kept") == b"on redis"
