"""An engine on another machine, through an ssh:// Docker context, with ports forwarded.

"Another machine" is built on this one: the laptop is a network namespace of its own (its own
127.0.0.1), joined to this host by a veth pair; an OpenSSH server on the host's end of it logs
the throwaway key in with DOCKER_HOST pointing at the modern engine. So the engine publishes
ports on the host's loopback, which the laptop cannot reach, exactly as with a remote engine:
paxx must forward them over SSH for the app (here: boto3, run in the laptop's namespace) to
reach the services at the addresses in .env.

The ssh client is the system's; a wrapper first on PATH gives it the test's config file
(host key, identity, connection sharing), as a user's ~/.ssh/config would.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import PYPROJECT, Result
from live.conftest import env_of

MODERN_SOCKET = "/run/offline-hub/docker-modern.sock"


def _missing() -> str:
    if os.geteuid() != 0:
        return "needs root (network namespaces, sshd)"
    for tool in ("ip", "/usr/sbin/sshd", "ssh-keygen"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install iproute2 openssh-server)"
    probe = subprocess.run(
        ["docker", "-H", f"unix://{MODERN_SOCKET}", "version", "--format", "{{.Server.Version}}"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return "the modern engine is not running (../shared/offline-hub/modern-engine up)"
    return ""


@dataclass
class Remote:
    """A laptop namespace whose Docker context `remote` is the modern engine over SSH."""

    namespace: str
    folder: Path
    host_ip: str
    port: int

    def env(self, **extra: str) -> dict[str, str]:
        environment = {
            k: v for k, v in os.environ.items() if k not in {"DOCKER_HOST", "DOCKER_CONTEXT"}
        }
        environment["PATH"] = f"{self.folder / 'bin'}:{environment['PATH']}"
        environment["DOCKER_CONFIG"] = str(self.folder / "docker")
        return {**environment, **extra}

    def run(
        self, *argv: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.namespace, *argv],
            capture_output=True,
            text=True,
            env=env or self.env(),
            timeout=600,
        )

    def paxx(self, root: Path, *args: str, **extra: str) -> Result:
        done = self.run(
            sys.executable, "-m", "paxx_env", "-C", str(root), *args, env=self.env(**extra)
        )
        return Result(done.returncode, done.stdout, done.stderr)


def _sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    problem = _missing()
    if problem:
        if os.environ.get("PAXX_REQUIRE_LIVE"):
            pytest.fail(f"remote engine test cannot run: {problem}")
        pytest.skip(problem)
    folder = tmp_path_factory.mktemp("remote")
    tag = secrets.token_hex(3)
    namespace, host_link, ns_link = f"paxx-{tag}", f"pxh{tag}", f"pxl{tag}"
    octet = int(tag[:2], 16)
    host_ip, laptop_ip = f"10.213.{octet}.1", f"10.213.{octet}.2"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _sh("ip", "netns", "add", namespace)
    sshd: subprocess.Popen[bytes] | None = None
    try:
        _sh("ip", "link", "add", host_link, "type", "veth", "peer", "name", ns_link)
        _sh("ip", "link", "set", ns_link, "netns", namespace)
        _sh("ip", "addr", "add", f"{host_ip}/30", "dev", host_link)
        _sh("ip", "link", "set", host_link, "up")
        for command in (
            ["ip", "addr", "add", f"{laptop_ip}/30", "dev", ns_link],
            ["ip", "link", "set", ns_link, "up"],
            ["ip", "link", "set", "lo", "up"],
        ):
            _sh("ip", "netns", "exec", namespace, *command)
        sshd = _start_sshd(folder, host_ip, port)
        remote = Remote(namespace, folder, host_ip, port)
        created = remote.run(
            "docker", "context", "create", "remote", "--docker", f"host=ssh://root@{host_ip}:{port}"
        )
        assert created.returncode == 0, created.stderr
        yield remote
    finally:
        if sshd is not None:
            sshd.send_signal(signal.SIGTERM)
            sshd.wait(timeout=10)
        subprocess.run(["ip", "link", "del", host_link], capture_output=True)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


def _start_sshd(folder: Path, host_ip: str, port: int) -> subprocess.Popen[bytes]:
    """An OpenSSH server on the host's end of the link, for one throwaway key."""
    (folder / "bin").mkdir()
    _sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "host_key"))
    _sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "id_ed25519"))
    public = (folder / "id_ed25519.pub").read_text().strip()
    (folder / "authorized_keys").write_text(
        f'environment="DOCKER_HOST=unix://{MODERN_SOCKET}" {public}\n'
    )
    (folder / "sshd_config").write_text(
        textwrap.dedent(f"""\
            Port {port}
            ListenAddress {host_ip}
            HostKey {folder}/host_key
            AuthorizedKeysFile {folder}/authorized_keys
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitUserEnvironment yes
            UsePAM no
            UseDNS no
            StrictModes no
            AllowTcpForwarding yes
            PidFile {folder}/sshd.pid
            """)
    )
    (folder / "ssh_config").write_text(
        textwrap.dedent(f"""\
            Host {host_ip}
              IdentityFile {folder}/id_ed25519
              IdentitiesOnly yes
              StrictHostKeyChecking no
              UserKnownHostsFile /dev/null
              LogLevel ERROR
              ControlMaster auto
              ControlPath {folder}/cm-%C
              ControlPersist 60
            """)
    )
    wrapper = folder / "bin" / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F {folder}/ssh_config "$@"\n')
    wrapper.chmod(0o755)
    Path("/run/sshd").mkdir(exist_ok=True)
    sshd = subprocess.Popen(
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(folder / "sshd_config")],
        stderr=open(folder / "sshd.log", "wb"),  # noqa: SIM115 (lives as long as sshd)
    )
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex((host_ip, port)) == 0:
                return sshd
        if sshd.poll() is not None:
            raise AssertionError((folder / "sshd.log").read_text())
        subprocess.run(["sleep", "0.05"])
    raise AssertionError("sshd did not listen within 5 s")


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT.format(name=f"remote-{secrets.token_hex(3)}"))
    return root


S3_ROUND_TRIP = """\
import sys, boto3, urllib.request
values = dict(line.split("=", 1) for line in sys.stdin.read().splitlines())
s3 = boto3.client(
    "s3",
    endpoint_url=values["AWS_ENDPOINT_URL_S3"],
    aws_access_key_id=values["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=values["AWS_SECRET_ACCESS_KEY"],
    region_name="us-east-1",
)
s3.create_bucket(Bucket="remote-test")
s3.put_object(Bucket="remote-test", Key="hello.txt", Body=b"over ssh")
assert s3.get_object(Bucket="remote-test", Key="hello.txt")["Body"].read() == b"over ssh"
url = s3.generate_presigned_url(
    "get_object", Params={"Bucket": "remote-test", "Key": "hello.txt"}, ExpiresIn=60
)
assert urllib.request.urlopen(url).read() == b"over ssh"
print("round trip ok")
"""


def test_ssh_context_up_forwards_ports_and_down_stops_them(remote: Remote, tmp_path: Path) -> None:
    root = _project(tmp_path)
    try:
        _up_round_trip_and_down(remote, root)
    finally:
        # Whatever failed above, nothing of the test stays on the engine (a second `down`
        # finds nothing to do).
        remote.paxx(root, "--context", "remote", "down", "--volumes", "--yes")


def _up_round_trip_and_down(remote: Remote, root: Path) -> None:
    added = remote.paxx(root, "feature", "add", "storage")
    assert added.code == 0, added.output
    up = remote.paxx(root, "--context", "remote", "up", "--timeout", "120")
    assert up.code == 0, up.output
    assert "context remote" in up.out and "ports forwarded over SSH" in up.out

    # A later command, in a shell without --context, talks to the same engine.
    status = json.loads(remote.paxx(root, "status", "--json").out)
    assert status["engine"]["context"] == "remote"
    assert status["engine"]["endpoint"] == f"ssh://root@{remote.host_ip}:{remote.port}"
    assert status["engine"]["forward_running"] is True
    (service,) = status["services"]
    assert (service["state"], service["health"]) == ("running", "healthy")
    port = int(env_of(root)["PAXX_RUSTFS_PORT"])
    assert port in status["engine"]["forwarded_ports"]

    # The app in the laptop's namespace reaches S3 at the URL in .env, unchanged.
    values = "\n".join(f"{k}={v}" for k, v in env_of(root).items())
    done = subprocess.run(
        ["ip", "netns", "exec", remote.namespace, sys.executable, "-c", S3_ROUND_TRIP],
        input=values,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "round trip ok"

    # The engine published the ports on its own loopback only.
    published = subprocess.run(
        ["docker", "-H", f"unix://{MODERN_SOCKET}", "ps", "--filter",
         f"label=com.docker.compose.project={env_of(root)['COMPOSE_PROJECT_NAME']}",
         "--format", "{{.Ports}}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert published.strip() and all(
        part.strip().startswith("127.0.0.1:")
        for part in published.replace("\n", ",").split(",")
        if part.strip()
    ), published

    # Another engine, chosen explicitly, is refused instead of silently used.
    other = remote.paxx(root, "status", DOCKER_HOST="unix:///var/run/docker.sock")
    assert other.code == 2
    assert other.err.splitlines()[0] == (
        f"paxx: error: this project's environment runs on context remote "
        f"(ssh://root@{remote.host_ip}:{remote.port}), not on unix:///var/run/docker.sock"
    )

    pid = json.loads((root / ".paxx/local/last-up.json").read_text())["forward"]["pid"]
    down = remote.paxx(root, "down", "--volumes", "--yes")
    assert down.code == 0, down.output
    assert not Path(f"/proc/{pid}").exists(), "the forward outlived `paxx down`"
    left = subprocess.run(
        ["docker", "-H", f"unix://{MODERN_SOCKET}", "ps", "-aq", "--filter",
         f"label=com.docker.compose.project={env_of(root)['COMPOSE_PROJECT_NAME']}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert left == ""
    assert not (root / ".paxx/local/last-up.json").exists()
