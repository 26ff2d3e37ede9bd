"""Readiness probes, run from the host: has a service started answering its protocol.

Each probe makes one short attempt and returns True once the service answers the way a
client needs. They use the standard library only, so the benchmark measures the services and
not a client library's import or connection pool.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

ATTEMPT_TIMEOUT = 1.0
Probe = Callable[[], bool]


def redis_ready(port: int, password: str) -> Probe:
    """AUTH with the password, then PING: ready on +PONG (not -LOADING or -NOAUTH)."""
    secret = password.encode()
    request = b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n*1\r\n$4\r\nPING\r\n" % (len(secret), secret)

    def probe() -> bool:
        with socket.create_connection(("127.0.0.1", port), ATTEMPT_TIMEOUT) as sock:
            sock.settimeout(ATTEMPT_TIMEOUT)
            sock.sendall(request)
            answer = b""
            while answer.count(b"\r\n") < 2:
                chunk = sock.recv(256)
                if not chunk:
                    return False
                answer += chunk
            return answer.splitlines()[1] == b"+PONG"

    return probe


def postgres_ready(port: int, user: str, database: str) -> Probe:
    """Send a protocol 3.0 startup packet over TCP: ready when the server asks for auth.

    This is what pg_isready checks. While the server starts, recovers or runs its first-time
    initialization (socket only, no TCP) it refuses or answers with an error instead.
    """
    body = b"user\0" + user.encode() + b"\0database\0" + database.encode() + b"\0\0"
    packet = struct.pack("!ii", len(body) + 8, 3 << 16) + body

    def probe() -> bool:
        with socket.create_connection(("127.0.0.1", port), ATTEMPT_TIMEOUT) as sock:
            sock.settimeout(ATTEMPT_TIMEOUT)
            sock.sendall(packet)
            return sock.recv(1)[:1] == b"R"

    return probe


def smtp_ready(port: int) -> Probe:
    """Connect and wait for the server's greeting: ready on 220."""

    def probe() -> bool:
        with socket.create_connection(("127.0.0.1", port), ATTEMPT_TIMEOUT) as sock:
            sock.settimeout(ATTEMPT_TIMEOUT)
            return sock.recv(4)[:3] == b"220"

    return probe


def http_ready(port: int, path: str) -> Probe:
    """GET http://127.0.0.1:PORT/PATH: ready on status 200."""

    def probe() -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=ATTEMPT_TIMEOUT)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            return response.status == 200
        finally:
            connection.close()

    return probe


#: How each of the six benchmarked services (the default providers) is probed, from the
#: values in the project's .env.
#: (description shown on the page, factory)
PROBES: dict[str, tuple[str, Callable[[Mapping[str, str]], Probe]]] = {
    "valkey": (
        "AUTH + PING over RESP → +PONG",
        lambda env: redis_ready(int(env["PAXX_VALKEY_PORT"]), env["VALKEY_PASSWORD"]),
    ),
    "postgres": (
        "TCP startup packet → authentication request (as pg_isready)",
        lambda env: postgres_ready(
            int(env["PAXX_POSTGRES_PORT"]), env["POSTGRES_USER"], env["POSTGRES_DB"]
        ),
    ),
    "rustfs": (
        "GET /health on the S3 port → 200",
        lambda env: http_ready(int(env["PAXX_RUSTFS_PORT"]), "/health"),
    ),
    "mailpit": (
        "SMTP greeting → 220 (its web UI answers earlier)",
        lambda env: smtp_ready(int(env["PAXX_MAILPIT_SMTP_PORT"])),
    ),
    "meilisearch": (
        "GET /health → 200",
        lambda env: http_ready(int(env["PAXX_MEILISEARCH_PORT"]), "/health"),
    ),
    "jaeger": (
        "GET /api/services on the UI port → 200",
        lambda env: http_ready(int(env["PAXX_JAEGER_UI_PORT"]), "/api/services"),
    ),
}


@dataclass
class Watcher:
    """Probes every service in its own thread, every `interval` seconds, from `started`."""

    probes: dict[str, Probe]
    started: float
    interval: float = 0.01
    deadline: float = 300.0

    def __post_init__(self) -> None:
        self.ready_at: dict[str, float] = {}
        self.attempts: dict[str, int] = {}
        self._threads = [
            threading.Thread(target=self._watch, args=(name, probe), daemon=True)
            for name, probe in self.probes.items()
        ]
        for thread in self._threads:
            thread.start()

    def _watch(self, name: str, probe: Probe) -> None:
        attempts = 0
        while time.perf_counter() - self.started < self.deadline:
            attempts += 1
            try:
                ok = probe()
            except (OSError, http.client.HTTPException, IndexError):
                ok = False
            if ok:
                self.ready_at[name] = time.perf_counter() - self.started
                break
            time.sleep(self.interval)
        self.attempts[name] = attempts

    def join(self) -> dict[str, float]:
        """Wait for every probe to succeed (or give up); seconds from `started` to ready."""
        for thread in self._threads:
            thread.join()
        return dict(self.ready_at)
