"""Readiness probes from this machine: does a service answer its own protocol on its host port.

A service file declares its probe as data (`x-paxx.probe`, docs/catalog.md): a protocol, the
host-port variable, and what the protocol needs (an HTTP path, a password variable...). One
attempt is one short connection to 127.0.0.1 with the standard library only: no client
library to import, no `docker exec`, no process on either side, so `paxx up` can ask every
50 ms without taking CPU from the services that are starting.

A plain TCP connect is not a probe: Docker's proxy accepts a connection on a published port
as soon as the container starts, whether or not anything listens inside. Each protocol
therefore waits for the service's own answer.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

HOST = "127.0.0.1"
#: One attempt never takes longer than this (connect, send, first answer).
ATTEMPT_SECONDS = 2.0
#: protocol -> (the fields it needs besides `port`, the fields it may have)
PROTOCOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "http": (("path",), ("status",)),
    "resp": ((), ("password",)),
    "postgres": (("user", "database"), ()),
    "smtp": ((), ()),
}
#: fields that name a .env variable of the service (a secret or a default)
VARIABLE_FIELDS = ("password", "user", "database")


@dataclass(frozen=True)
class ProbeSpec:
    """A service's probe as the catalog declares it; variables are named, not resolved."""

    protocol: str
    #: the .env variable holding the host port
    port: str
    #: http: the path to GET, and the status that means ready
    path: str = ""
    status: int = 200
    #: resp: the variable holding the password (AUTH before PING), if any
    password: str = ""
    #: postgres: the variables holding the user and database of the startup packet
    user: str = ""
    database: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ProbeSpec:
        """The spec from its dict form (state.json, the catalog)."""
        return cls(
            protocol=str(data["protocol"]),
            port=str(data["port"]),
            path=str(data.get("path", "")),
            status=int(str(data.get("status", 200))),
            password=str(data.get("password", "")),
            user=str(data.get("user", "")),
            database=str(data.get("database", "")),
        )

    def to_dict(self) -> dict[str, object]:
        """The dict form, without fields left at their default."""
        default = asdict(ProbeSpec(self.protocol, self.port))
        return {
            k: v for k, v in asdict(self).items() if k in ("protocol", "port") or v != default[k]
        }

    def variables(self) -> list[str]:
        """Every .env variable the probe reads."""
        return [v for v in (self.port, self.password, self.user, self.database) if v]

    def describe(self) -> str:
        """What the probe asks, for messages: `GET /health → 200`, `PING → +PONG`."""
        if self.protocol == "http":
            return f"GET {self.path} → {self.status}"
        if self.protocol == "resp":
            return ("AUTH + " if self.password else "") + "PING → +PONG"
        if self.protocol == "smtp":
            return "greeting → 220"
        return "startup packet → authentication request"


def spec_problem(data: Mapping[str, object], ports: set[str], variables: set[str]) -> str:
    """What is wrong with a declared probe, as `.KEY: why` (or `: why`); "" when nothing.

    `ports` are the service's host-port variables, `variables` its secrets and defaults.
    """
    protocol = data.get("protocol")
    if protocol not in PROTOCOLS:
        return f".protocol: must be one of {', '.join(PROTOCOLS)}"
    needed, optional = PROTOCOLS[str(protocol)]
    for key in sorted(set(data) - {"protocol", "port", *needed, *optional}):
        return f".{key}: not a field of protocol {protocol}"
    for key in ("port", *needed):
        if not isinstance(data.get(key), str) or not data[key]:
            return f": protocol {protocol} needs {key}"
    if data["port"] not in ports:
        return f".port: {data['port']!r} is not one of the service's ports"
    for key in VARIABLE_FIELDS:
        if key in data and data[key] not in variables:
            return f".{key}: {data[key]!r} is not a secret or default of the service"
    if "path" in data and not str(data["path"]).startswith("/"):
        return ".path: must start with /"
    status = data.get("status", 200)
    if not isinstance(status, int) or not 100 <= status <= 599:
        return ".status: must be an HTTP status (100-599)"
    return ""


Attempt = Callable[[], tuple[bool, str]]


def attempt(spec: ProbeSpec, values: Mapping[str, str], host: str = HOST) -> Attempt:
    """One attempt of `spec` with the values of .env: (ready, what the service answered)."""
    port = int(values[spec.port])
    if spec.protocol == "http":
        request = (
            f"GET {spec.path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
        ).encode()
        return _exchange(host, port, request, _http_answer(spec.status))
    if spec.protocol == "resp":
        commands = [[b"AUTH", values[spec.password].encode()]] if spec.password else []
        request = b"".join(_resp_command(c) for c in [*commands, [b"PING"]])
        return _exchange(host, port, request, _resp_answer(len(commands) + 1))
    if spec.protocol == "postgres":
        body = b"user\0%s\0database\0%s\0\0" % (
            values[spec.user].encode(),
            values[spec.database].encode(),
        )
        request = struct.pack("!ii", len(body) + 8, 3 << 16) + body
        return _exchange(host, port, request, _postgres_answer)
    if spec.protocol == "smtp":
        return _exchange(host, port, b"", _smtp_answer)
    raise ValueError(f"unknown probe protocol {spec.protocol!r}")


#: Reads what came back so far: (ready, text for the user), or None to read on.
Reader = Callable[[bytes], tuple[bool, str] | None]


def _exchange(host: str, port: int, request: bytes, read: Reader) -> Attempt:
    def run() -> tuple[bool, str]:
        try:
            with socket.create_connection((host, port), timeout=ATTEMPT_SECONDS) as sock:
                if request:
                    sock.sendall(request)
                answer = b""
                while True:
                    chunk = sock.recv(4096)
                    if not chunk:
                        verdict = read(answer) if answer else None
                        return verdict or (False, _closed(answer))
                    answer += chunk
                    verdict = read(answer)
                    if verdict is not None:
                        return verdict
        except TimeoutError:
            return False, f"no answer within {ATTEMPT_SECONDS:g} s"
        except OSError as exc:
            return False, exc.strerror or str(exc)

    return run


def _closed(answer: bytes) -> str:
    if not answer:
        return "connection closed without an answer"
    return f"unexpected answer {answer[:60]!r}"


def _http_answer(status: int) -> Reader:
    def read(answer: bytes) -> tuple[bool, str] | None:
        line, found, _ = answer.partition(b"\r\n")
        if not found:
            return None
        parts = line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            return False, f"not an HTTP answer: {line[:60]!r}"
        return int(parts[1]) == status, f"HTTP {line.decode('latin-1').partition(' ')[2]}"

    return read


def _resp_command(words: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)


def _resp_answer(replies: int) -> Reader:
    """Ready when the last of `replies` simple replies is +PONG (not -LOADING, -NOAUTH...)."""

    def read(answer: bytes) -> tuple[bool, str] | None:
        lines = answer.split(b"\r\n")
        if len(lines) <= replies:
            return None
        failed = [line for line in lines[:replies] if not line.startswith(b"+")]
        last = lines[replies - 1]
        text = (failed[0] if failed else last).decode("utf-8", "replace")
        return last == b"+PONG" and not failed, text

    return read


def _smtp_answer(answer: bytes) -> tuple[bool, str] | None:
    """The server speaks first: ready on its 220 greeting (421 and others: not ready)."""
    line, found, _ = answer.partition(b"\r\n")
    if not found:
        return None
    return line[:4] in (b"220 ", b"220-"), line.decode("utf-8", "replace")


def _postgres_answer(answer: bytes) -> tuple[bool, str] | None:
    """An authentication request ('R') means the server takes connections, as pg_isready says.

    While it starts, recovers or shuts down it answers an error ('E') instead; during a first
    initialization it does not listen on TCP at all.
    """
    kind = answer[:1]
    if kind == b"R":
        return True, "authentication request"
    if kind == b"E":
        if len(answer) < 5 or len(answer) < struct.unpack("!i", answer[1:5])[0] + 1:
            return None
        fields = {f[:1]: f[1:] for f in answer[5:].split(b"\0") if f}
        return False, fields.get(b"M", b"error").decode("utf-8", "replace")
    return False, f"unexpected answer {answer[:20]!r}"
