"""Readiness from this machine: the declared host probes, and `paxx up` waiting on them.

Redis and PostgreSQL are the real programs; MinIO, Mailpit, Meilisearch and Jaeger are the
offline hub's stand-ins. The `slow` service of a small catalog of the test's own (Python's
http.server in the Mailpit stand-in's image, which has Python) answers HTTP only some seconds
after its container starts while its Docker health check (`true`) passes at once: `paxx up`
must wait for the answer, not for Docker. Those tests run on the default engine (20.10 here)
and on the modern one (26, with start_interval) when it runs.
"""

from __future__ import annotations

import json
import re
import smtplib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Runner, run_cli
from live.conftest import env_of
from paxx_env.hostprobe import ProbeSpec, attempt
from paxx_env.state import load_state

Make = Callable[..., Path]
MODERN = "unix:///run/offline-hub/docker-modern.sock"
SIX = ("cache", "db", "storage", "email", "search", "tracing")


def _get(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return int(response.status)


def _redis(values: dict[str, str]) -> None:
    import redis

    assert redis.Redis.from_url(values["REDIS_URL"]).ping() is True


def _postgres(values: dict[str, str]) -> None:
    import psycopg

    with psycopg.connect(values["DATABASE_URL"], connect_timeout=5) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def _minio(values: dict[str, str]) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=values["AWS_ENDPOINT_URL_S3"],
        aws_access_key_id=values["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=values["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    assert "Buckets" in s3.list_buckets()


def _mailpit(values: dict[str, str]) -> None:
    with smtplib.SMTP("127.0.0.1", int(values["SMTP_PORT"]), timeout=5) as smtp:
        assert smtp.noop()[0] == 250
    assert _get(f"{values['MAILPIT_URL']}/api/v1/messages") == 200


def _meilisearch(values: dict[str, str]) -> None:
    key = {"Authorization": f"Bearer {values['MEILI_MASTER_KEY']}"}
    assert _get(f"{values['MEILI_URL']}/version", key) == 200


def _jaeger(values: dict[str, str]) -> None:
    assert _get(f"http://127.0.0.1:{values['PAXX_JAEGER_UI_PORT']}/api/services") == 200


#: What the app does first with each service: it must work the moment the probe says ready.
CLIENTS = {
    "redis": _redis,
    "valkey": _redis,
    "postgres": _postgres,
    "minio": _minio,
    "rustfs": _minio,
    "mailpit": _mailpit,
    "meilisearch": _meilisearch,
    "jaeger": _jaeger,
}


@pytest.mark.parametrize(
    "providers",
    [{}, {"cache": "redis", "storage": "minio"}],
    ids=["valkey-rustfs", "redis-minio"],
)
def test_standin_and_real_services_answer_their_probe_only_when_a_client_works(
    live: Make, providers: dict[str, str]
) -> None:
    root = live("probes", *SIX, providers=providers)
    # Plain Compose starts them, so nothing but the probe decides when to look.
    subprocess.run(
        ["docker", "compose", "up", "--detach"], cwd=root, check=True, capture_output=True
    )
    values = env_of(root)
    state = load_state(root)
    assert set(state.services) <= set(CLIENTS) and len(state.services) == len(SIX)
    deadline = time.monotonic() + 120
    for service, summary in sorted(state.services.items()):
        probe = attempt(ProbeSpec.from_dict(summary.probe), values)
        ready, answer = probe()
        while not ready and time.monotonic() < deadline:
            time.sleep(0.05)
            ready, answer = probe()
        assert ready, f"{service}: {answer}"
        CLIENTS[service](values)  # at once, first try
    wrong = attempt(
        ProbeSpec("resp", "PORT", password="PASSWORD"),
        {
            "PORT": values.get("PAXX_VALKEY_PORT") or values["PAXX_REDIS_PORT"],
            "PASSWORD": "not-the-password",
        },
    )
    ready, answer = wrong()
    assert not ready and answer.startswith("-WRONGPASS")


# ----------------------------------------------------------------------------- `paxx up`

SLOW_SERVER = (
    "import http.server, time\n"
    "time.sleep({delay})\n"
    "class Handler(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200 if self.path == '/ready' else 404)\n"
    "        self.end_headers()\n"
    "    def log_message(self, *args):\n"
    "        pass\n"
    "http.server.HTTPServer(('0.0.0.0', 8080), Handler).serve_forever()\n"
)


#: A service that gives up 2 s after its start, before it ever answers.
EXITING = "import sys, time\ntime.sleep({delay})\nprint('giving up', flush=True)\nsys.exit(3)\n"


def slow_catalog(
    folder: Path, delay: float, path: str = "/ready", program: str = SLOW_SERVER
) -> Path:
    """A catalog of one service that answers HTTP `delay` s after its start, healthy at once.

    `program` replaces the HTTP server (a Python script; `{delay}` in it is the delay).
    """
    (folder / "services").mkdir(parents=True)
    (folder / "profiles" / "slow").mkdir(parents=True)
    service = {
        "image": "axllent/mailpit:v1.27",
        "entrypoint": ["python3", "-c", program.format(delay=delay)],
        "ports": ["127.0.0.1:${PAXX_SLOW_PORT}:8080"],
        "healthcheck": {"test": ["CMD", "true"]},
        "x-paxx": {
            "summary": f"answers HTTP {delay} s after it starts",
            "ports": {"PAXX_SLOW_PORT": 18080},
            "probe": {"protocol": "http", "port": "PAXX_SLOW_PORT", "path": path},
        },
    }
    (folder / "services" / "slow.yaml").write_text(json.dumps(service))  # JSON is YAML
    (folder / "profiles" / "slow" / "profile.toml").write_text(
        'summary = "a slow service"\n\n[providers.slow]\nservices = ["slow"]\n'
    )
    return folder


def _modern_running() -> bool:
    done = subprocess.run(
        ["docker", "-H", MODERN, "version", "--format", "{{.Server.Version}}"],
        capture_output=True,
        text=True,
    )
    return done.returncode == 0


@pytest.fixture(params=["default", "modern"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The engine of the test: the default one, or the modern one (Docker 26) when it runs."""
    if request.param == "modern":
        if not _modern_running():
            pytest.skip("the modern engine is not running (../shared/offline-hub/modern-engine up)")
        monkeypatch.setenv("DOCKER_HOST", MODERN)
    else:
        monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    return request.param


def docker_health(root: Path) -> str:
    project = env_of(root)["COMPOSE_PROJECT_NAME"]
    return subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Health.Status}}", f"{project}-slow-1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_up_says_healthy_only_once_the_service_answers_here(
    engine: str, live: Make, paxx: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAXX_CATALOG", str(slow_catalog(tmp_path / "catalog", delay=4)))
    root = live("slow", "slow")
    result = paxx(root, "up", "--timeout", "60")
    assert result.code == 0, result.output
    # Answering now, as `up` said, and not before: the server sleeps 4 s after the start.
    values = env_of(root)
    assert attempt(ProbeSpec("http", "P", path="/ready"), {"P": values["PAXX_SLOW_PORT"]})()[0]
    (seconds,) = re.findall(r"slow +healthy in ([\d.]+) s", result.err)
    assert float(seconds) >= 4.0
    # Docker ran its own check (or will, one interval after the start on engines before 25);
    # `paxx status` says healthy either way: paxx saw it answer.
    if engine == "modern":
        assert docker_health(root) == "healthy"
    status = json.loads(paxx(root, "status", "--json").out)
    assert status["services"][0]["health"] == "healthy"


def test_a_service_healthy_for_docker_that_never_answers_here_fails_with_the_answer(
    engine: str, live: Make, paxx: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = slow_catalog(tmp_path / "catalog", delay=0, path="/not-there")
    monkeypatch.setenv("PAXX_CATALOG", str(catalog))
    root = live("deaf", "slow")
    result = paxx(root, "up", "--timeout", "15")
    assert result.code == 1
    port = env_of(root)["PAXX_SLOW_PORT"]
    error = next(line for line in result.err.splitlines() if line.startswith("paxx: error:"))
    if engine == "modern":  # Docker calls it healthy at once: paxx says so after 10 s
        assert error == (
            f"paxx: error: slow did not become healthy: healthy in its container, but no "
            f"answer on 127.0.0.1:{port} (GET /not-there → 200)"
        )
    else:  # Docker's first check comes after 10 s: the timeout comes first
        assert error == "paxx: error: slow did not become healthy: not healthy after 15 s"
    assert f"127.0.0.1:{port} (GET /not-there → 200): HTTP 404 Not Found" in result.err


def test_a_service_that_exits_while_up_waits_fails_with_its_exit_code_and_logs(
    engine: str, live: Make, paxx: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The container exits before its probe ever answers: `docker events` says so (paxx reads
    # Docker's view of a probed service only then, or every few seconds).
    catalog = slow_catalog(tmp_path / "catalog", delay=2, program=EXITING)
    monkeypatch.setenv("PAXX_CATALOG", str(catalog))
    root = live("quits", "slow")
    result = paxx(root, "up", "--timeout", "60")
    assert result.code == 1
    error = next(line for line in result.err.splitlines() if line.startswith("paxx: error:"))
    assert error == "paxx: error: slow did not become healthy: exited with code 3"
    assert re.search(r"^slow +failed after [\d.]+ s: exited with code 3$", result.err, re.M)
    assert "last 50 log lines of slow:" in result.err
    assert "giving up" in result.err


def test_up_after_down_starts_without_rendering_and_a_change_renders_again(
    engine: str, live: Make, paxx: Runner
) -> None:
    root = live("quick", "cache")
    assert paxx(root, "up").code == 0
    assert paxx(root, "down").code == 0
    quick = run_cli(root, "-v", "up")
    assert quick.code == 0, quick.output
    assert " render " not in quick.err, quick.err
    assert re.search(r"^valkey +healthy in", quick.err, re.MULTILINE)
    # `paxx up` through the fast entry point imports none of the heavy modules.
    assert run_cli(root, "down").code == 0
    timed = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "paxx_env", "-C", str(root), "up"],
        capture_output=True,
        text=True,
    )
    assert timed.returncode == 0, timed.stderr
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in timed.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "paxx_env" in imported
    assert not imported & {"pydantic", "jinja2", "yaml", "tomlkit", "typer"}
    assert re.search(r"^valkey +healthy in", timed.stderr, re.MULTILINE)
    # A changed input means a sync first.
    with (root / ".env").open("a") as handle:
        handle.write("MY_OWN=1\n")
    full = run_cli(root, "-v", "up")
    assert full.code == 0, full.output
    assert " render " in full.err
