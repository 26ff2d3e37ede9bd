"""The swarm target on a single-node Swarm: six services deployed, reached, and removed.

The engine is made a single-node Swarm for the test only when it is not in one (and then it
leaves the Swarm afterwards, and removes the bridge that joining created): it is left as it
was found. Everything the test creates carries the stack's name in a label, and is removed
by label even when the test fails.

Nothing is published by default, so the services are reached as the docs say: from a
container on the stack's attachable network, with the credentials paxx generated. The images
that hold the clients are the services' own (redis-cli, psql; Python with boto3 in the MinIO
stand-in; curl and Python in the Meilisearch stand-in). Redis and PostgreSQL are the real
programs; MinIO, Mailpit, Meilisearch and Jaeger are the offline hub's stand-ins.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import smtplib
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import Result, declare, make_project, run_cli
from live.conftest import SHARED_STATE, env_of

#: cache (Redis), db (PostgreSQL), storage (MinIO), email (Mailpit), search (Meilisearch),
#: tracing (Jaeger)
FEATURES = ("cache", "db", "storage", "email", "search", "tracing")
SERVICES = ["jaeger", "mailpit", "meilisearch", "minio", "postgres", "redis"]
MODERN_SOCKET = "/run/offline-hub/docker-modern.sock"
CLIENT_LABEL = "dev.paxx.test-client"


def _docker(*args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    done = subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    if check:
        assert done.returncode == 0, f"docker {' '.join(args[:3])}: {done.stderr}"
    return done.stdout.strip()


@pytest.fixture(scope="module")
def single_node_swarm() -> Iterator[None]:
    """The default engine as a Swarm manager; left as found afterwards."""
    state = _docker("info", "--format", "{{.Swarm.LocalNodeState}}")
    if state not in ("inactive", "active"):
        pytest.skip(f"the engine's Swarm state is {state!r}; the test needs inactive or active")
    joined = state == "inactive"
    bridge_before = bool(_docker("network", "ls", "--quiet", "--filter", "name=^docker_gwbridge$"))
    if joined:
        # A machine with several addresses needs one chosen; loopback keeps it to this host.
        _docker("swarm", "init", "--advertise-addr", "127.0.0.1")
    elif _docker("info", "--format", "{{.Swarm.ControlAvailable}}") != "true":
        pytest.skip("the engine is a Swarm worker; the test deploys through a manager")
    yield
    if joined:
        _docker("swarm", "leave", "--force")
        if not bridge_before:
            _docker("network", "rm", "docker_gwbridge", check=False)


class Stack:
    """The test's project, its stack name and the environment its paxx commands run with."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env

    @property
    def name(self) -> str:
        return env_of(self.root)["COMPOSE_PROJECT_NAME"]

    @property
    def network(self) -> str:
        return f"{self.name}_default"

    def paxx(self, *args: str) -> Result:
        return run_cli(self.root, *args, env=self.env, timeout=600)

    def client(self, image: str, *argv: str, entrypoint: str = "", **env: str) -> str:
        """Run a client in a throwaway container on the stack's network; its output.

        Secrets reach it as `-e KEY` from this process's environment, never in argv. On a
        busy machine the engine's DNS (127.0.0.11 in the container) now and then fails to
        answer for a service name; such a run is tried again, up to five times.
        """
        args = ["run", "--rm", "--network", self.network, "--label", f"{CLIENT_LABEL}={self.name}"]
        args += [item for key in env for item in ("-e", key)]
        args += ["--entrypoint", entrypoint] if entrypoint else []
        for _ in range(5):
            done = subprocess.run(
                ["docker", *args, image, *argv],
                capture_output=True,
                text=True,
                env={**os.environ, **env},
                timeout=180,
            )
            output = (done.stdout + done.stderr).strip()
            if not any(marker in output for marker in _NAME_NOT_FOUND):
                break
            time.sleep(3)
        return output


#: How the clients say that a service name did not resolve.
_NAME_NOT_FOUND = (
    "Name or service not known",
    "could not translate host name",
    "Temporary failure in name resolution",
    "Could not connect to Redis",
)


def _leftovers(name: str) -> dict[str, str]:
    """Everything of the stack the engine still holds, by label."""
    namespace = f"label=com.docker.stack.namespace={name}"
    return {
        "services": _docker("service", "ls", "--quiet", "--filter", namespace),
        "containers": _docker("ps", "--all", "--quiet", "--filter", namespace),
        "networks": _docker("network", "ls", "--quiet", "--filter", namespace),
        "volumes": _docker("volume", "ls", "--quiet", "--filter", namespace),
        "secrets": _docker("secret", "ls", "--quiet", "--filter", f"label=dev.paxx.stack={name}"),
    }


def _remove_by_label(name: str) -> None:
    """Whatever a failed test left: the stack, then its secrets, networks and volumes."""
    _docker("stack", "rm", name, check=False)
    deadline = time.monotonic() + 180
    while _leftovers(name)["containers"] and time.monotonic() < deadline:
        time.sleep(1)
    left = _leftovers(name)
    for kind, args in (("secrets", "secret"), ("networks", "network"), ("volumes", "volume")):
        if left[kind]:
            _docker(args, "rm", *left[kind].split(), check=False)


@pytest.fixture
def stack(single_node_swarm: None, tmp_path: Path) -> Iterator[Stack]:
    """A project with the six features, not yet deployed; removed by label afterwards."""
    state_home = SHARED_STATE or str(tmp_path / "state")
    root = make_project(tmp_path / "app", f"swarm-{uuid.uuid4().hex[:6]}")
    made = Stack(root, {"XDG_STATE_HOME": state_home})
    # Redis and MinIO, whose real program and stand-in the checks below talk to.
    declare(root, list(FEATURES), {"cache": "redis", "storage": "minio"})
    added = made.paxx("feature", "add", *FEATURES)
    assert added.code == 0, added.output
    name = made.name
    try:
        yield made
    finally:
        _remove_by_label(name)
        clients = _docker("ps", "--all", "--quiet", "--filter", f"label={CLIENT_LABEL}={name}")
        if clients:
            _docker("rm", "--force", *clients.split(), check=False)


def test_six_services_as_a_stack_real_redis_postgres_standin_others(stack: Stack) -> None:
    up = stack.paxx("up", "--target", "swarm", "--timeout", "400")
    assert up.code == 0, up.output
    values = env_of(stack.root)
    for service in SERVICES:
        assert re.search(rf"^{service}\s+healthy in [\d.]+ s$", up.err, re.MULTILINE), up.err

    status = json.loads(stack.paxx("status", "--json").out)
    node = _docker("info", "--format", "{{.Name}}")
    assert status["target"] == "swarm" and status["stack"] == stack.name
    assert [s["name"] for s in status["services"]] == SERVICES
    for service in status["services"]:
        assert (service["running"], service["desired"], service["health"]) == (1, 1, "healthy")
        assert service["node"] == node
        assert service["ports"] == []  # nothing is published unless asked
    table = stack.paxx("status").out
    assert re.search(r"^SERVICE\s+REPLICAS\s+HEALTH\s+NODE\s+PUBLISHED\s+ADDRESS$", table, re.M)
    assert re.search(rf"^redis\s+1/1\s+healthy\s+{re.escape(node)}\s+-\s+redis:6379$", table, re.M)

    _check_redis_real(stack, values)
    _check_postgres_real(stack, values)
    _check_s3_standin(stack, values)
    _check_meilisearch_standin(stack, values)
    _check_smtp_and_jaeger_standin(stack)
    _check_secrets_are_files_where_the_image_reads_them(stack, values)

    # Another checkout (another folder) with the same stack name must not replace this stack.
    other = stack.root.parent / "another-checkout"
    shutil.copytree(stack.root, other, ignore=shutil.ignore_patterns("last-up.json"))
    refused = run_cli(other, "up", "--target", "swarm", env=stack.env)
    assert refused.code == 2, refused.output
    assert refused.err.startswith(
        f"paxx: error: the stack {stack.name} on this Swarm was deployed from another checkout"
    ), refused.err

    logs = stack.paxx("logs", "redis", "--tail", "20")
    assert logs.code == 0, logs.output

    # The same declaration again: nothing to update, every service answers at once.
    again = stack.paxx("up")
    assert again.code == 0, again.output
    assert _docker("secret", "ls", "--quiet", "--filter", f"label=dev.paxx.stack={stack.name}")

    down = stack.paxx("down", "--volumes", "--yes")
    assert down.code == 0, down.output
    assert "Deleted 5 volume(s)" in down.out
    assert _leftovers(stack.name) == dict.fromkeys(_leftovers(stack.name), "")
    assert not (stack.root / ".paxx/local/last-up.json").exists()


def test_publish_puts_ports_on_every_interface_standin_mailpit(stack: Stack) -> None:
    up = stack.paxx("up", "--target", "swarm", "--publish", "mailpit", "--timeout", "400")
    assert up.code == 0, up.output
    values = env_of(stack.root)
    smtp, ui = int(values["PAXX_MAILPIT_SMTP_PORT"]), int(values["PAXX_MAILPIT_UI_PORT"])
    assert (
        f"warning: mailpit's ports ({smtp}, {ui}) are published on every interface of the node "
        "that runs it" in up.err
    )
    status = json.loads(stack.paxx("status", "--json").out)
    published = {s["name"]: s["ports"] for s in status["services"]}
    assert published.pop("mailpit") == [
        {"published": smtp, "target": 1025, "protocol": "tcp"},
        {"published": ui, "target": 8025, "protocol": "tcp"},
    ]
    assert all(ports == [] for ports in published.values())
    # .env's SMTP_HOST/MAILPIT_URL (127.0.0.1) work on the node...
    with smtplib.SMTP(values["SMTP_HOST"], int(values["SMTP_PORT"]), timeout=30) as client:
        client.sendmail("app@example.test", ["someone@example.test"], "Subject: published\n\nhi")
    messages = httpx.get(f"{values['MAILPIT_URL']}/api/v1/messages", timeout=30).json()
    assert [m["Subject"] for m in messages["messages"]] == ["published"]
    # ...and so does any other address of it: that is what the warning says.
    other = _non_loopback_address()
    with socket.create_connection((other, ui), timeout=10):
        pass
    # The published ports are the stack's own: doctor does not report them as taken.
    doctor = stack.paxx("doctor")
    assert "every host port of the project is free or held by its service" in doctor.out, (
        doctor.output
    )

    down = stack.paxx("down", "--volumes", "--yes")
    assert down.code == 0, down.output
    assert _leftovers(stack.name) == dict.fromkeys(_leftovers(stack.name), "")


def test_an_engine_in_no_swarm_gets_two_lines_and_no_change(tmp_path: Path) -> None:
    probe = subprocess.run(
        [
            "docker",
            "-H",
            f"unix://{MODERN_SOCKET}",
            "info",
            "--format",
            "{{.Swarm.LocalNodeState}}",
        ],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        pytest.skip("needs the modern engine as an engine in no Swarm (modern-engine up)")
    if probe.stdout.strip() != "inactive":
        pytest.skip(f"the modern engine's Swarm state is {probe.stdout.strip()}, not inactive")
    root = make_project(tmp_path / "app", "noswarm")
    env = {"XDG_STATE_HOME": SHARED_STATE or str(tmp_path / "state")}
    assert run_cli(root, "feature", "add", "cache", env=env).code == 0
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    result = run_cli(
        root, "up", "--target", "swarm", env={**env, "DOCKER_HOST": f"unix://{MODERN_SOCKET}"}
    )
    assert result.code == 1, result.output
    assert result.err.splitlines() == [
        f"paxx: error: the engine at unix://{MODERN_SOCKET} is not in a Swarm "
        "(its Swarm state: inactive)",
        "  fix: make it a single-node Swarm with `docker swarm init` (add --advertise-addr "
        "ADDRESS when it has several), or choose a manager's engine with --context",
    ]
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


# ----------------------------------------------------------------------------- the clients


def _check_redis_real(stack: Stack, values: dict[str, str]) -> None:
    image = "redis:7.4.2-alpine"
    password = values["REDIS_PASSWORD"]
    assert (
        stack.client(image, "redis-cli", "-h", "redis", "SET", "k", "v", REDISCLI_AUTH=password)
        == "OK"
    )
    assert (
        stack.client(image, "redis-cli", "-h", "redis", "GET", "k", REDISCLI_AUTH=password) == "v"
    )
    refused = stack.client(image, "redis-cli", "-h", "redis", "GET", "k", REDISCLI_AUTH="wrong")
    assert "WRONGPASS" in refused or "NOAUTH" in refused


def _check_postgres_real(stack: Stack, values: dict[str, str]) -> None:
    image = "pgvector/pgvector:0.8.0-pg17"
    query = ["psql", "-h", "postgres", "-U", values["POSTGRES_USER"], "-d", values["POSTGRES_DB"]]
    answer = stack.client(
        image,
        *query,
        "-tAc",
        "CREATE EXTENSION IF NOT EXISTS vector; SELECT '[1,2]'::vector",
        PGPASSWORD=values["POSTGRES_PASSWORD"],
    )
    assert answer.splitlines()[-1] == "[1,2]"
    refused = stack.client(image, *query, "-tAc", "SELECT 1", PGPASSWORD="wrong")
    assert "password authentication failed" in refused


S3_SCRIPT = """
import os, boto3, botocore
def client(secret):
    return boto3.client("s3", endpoint_url="http://minio:9000", region_name="us-east-1",
        aws_access_key_id=os.environ["KEY"], aws_secret_access_key=secret)
s3 = client(os.environ["SECRET"])
s3.create_bucket(Bucket="swarm")
s3.put_object(Bucket="swarm", Key="k", Body=b"stored")
print(s3.get_object(Bucket="swarm", Key="k")["Body"].read().decode())
try:
    client("wrong").list_buckets()
except botocore.exceptions.ClientError as error:
    print(error.response["Error"]["Code"])
"""


def _check_s3_standin(stack: Stack, values: dict[str, str]) -> None:
    out = stack.client(
        "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z",
        "-c",
        S3_SCRIPT,
        entrypoint="python3",
        KEY=values["AWS_ACCESS_KEY_ID"],
        SECRET=values["AWS_SECRET_ACCESS_KEY"],
    )
    assert out.splitlines()[-2:] == ["stored", "SignatureDoesNotMatch"], out


def _check_meilisearch_standin(stack: Stack, values: dict[str, str]) -> None:
    image = "getmeili/meilisearch:v1.15"
    url = "http://meilisearch:7700/indexes"
    with_key = stack.client(
        image,
        "-c",
        f'curl -s -o /dev/null -w "%{{http_code}}" -H "Authorization: Bearer $KEY" {url}',
        entrypoint="sh",
        KEY=values["MEILI_MASTER_KEY"],
    )
    assert with_key == "200"
    without = stack.client(
        image, "-s", "-o", "/dev/null", "-w", "%{http_code}", url, entrypoint="curl"
    )
    assert without == "401"


JAEGER_AND_SMTP = """
import json, smtplib, urllib.request
with smtplib.SMTP("mailpit", 1025, timeout=30) as smtp:
    smtp.sendmail("app@example.test", ["someone@example.test"], "Subject: on swarm\\n\\nhi")
mails = json.load(urllib.request.urlopen("http://mailpit:8025/api/v1/messages", timeout=30))
print("on swarm" in [m["Subject"] for m in mails["messages"]])
span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
        "name": "checkout", "kind": 2, "startTimeUnixNano": "1", "endTimeUnixNano": "2"}
payload = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name",
    "value": {"stringValue": "shop-on-swarm"}}]}, "scopeSpans": [{"spans": [span]}]}]}
request = urllib.request.Request("http://jaeger:4318/v1/traces", json.dumps(payload).encode(),
                                 {"Content-Type": "application/json"})
urllib.request.urlopen(request, timeout=30)
print("shop-on-swarm" in json.load(urllib.request.urlopen("http://jaeger:16686/api/services"))["data"])
"""


def _check_smtp_and_jaeger_standin(stack: Stack) -> None:
    out = stack.client("getmeili/meilisearch:v1.15", "-c", JAEGER_AND_SMTP, entrypoint="python3")
    tasks = _docker("stack", "ps", "--no-trunc", stack.name, check=False)
    assert out.splitlines()[-2:] == ["True", "True"], f"{out}\n{tasks}"


def _check_secrets_are_files_where_the_image_reads_them(
    stack: Stack, values: dict[str, str]
) -> None:
    """PostgreSQL and MinIO read their secret from /run/secrets; it is in no service spec.

    (Jaeger's /tmp is a tmpfs mount: the short `tmpfs` key would be ignored by Swarm.)
    """
    mounts = _docker(
        "service", "inspect", f"{stack.name}_jaeger",
        "--format", "{{json .Spec.TaskTemplate.ContainerSpec.Mounts}}",
    )  # fmt: skip
    assert {"Type": "tmpfs", "Target": "/tmp"} in json.loads(mounts)
    specs = json.loads(
        _docker("service", "inspect", f"{stack.name}_postgres", f"{stack.name}_minio")
    )
    for spec in specs:
        text = json.dumps(spec)
        assert values["POSTGRES_PASSWORD"] not in text
        assert values["MINIO_ROOT_PASSWORD"] not in text
    env = specs[0]["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
    assert "POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password" in env


def _non_loopback_address() -> str:
    """An IPv4 address of this machine other than 127.0.0.1 (the default route's)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
        address = str(probe.getsockname()[0])
    assert not address.startswith("127."), address
    return address
