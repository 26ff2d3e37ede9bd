"""Host probes against small servers on this machine's loopback, speaking scripted answers.

Each server is a real listening socket in a thread: the probe connects, sends its request and
reads the answer exactly as it does against a service. What each server answers is the one
thing scripted (a loading Redis, a PostgreSQL in recovery, an HTTP 503, an answer cut in
two, a connection closed at once): states a real service passes through too briefly to
catch on demand. tests/live/test_hostprobe_live.py runs the probes against the services.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator

import pytest

from paxx_env import hostprobe
from paxx_env.hostprobe import ProbeSpec, attempt

#: (what the probe sent) -> the chunks to answer with, sent one by one
Script = Callable[[bytes], list[bytes]]


class Server:
    """A one-thread TCP server on 127.0.0.1 that answers each connection from a script."""

    def __init__(self, script: Script, reads: bool = True) -> None:
        self.script = script
        #: whether the client speaks first (SMTP: the server does)
        self.reads = reads
        self.received: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                data = b""
                try:
                    while self.reads and not data.endswith((b"\r\n\r\n", b"\0\0", b"PING\r\n")):
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                except TimeoutError:
                    pass
                self.received.append(data)
                for chunk in self.script(data):
                    conn.sendall(chunk)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(script: Script, reads: bool = True) -> Server:
        servers.append(Server(script, reads))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def answers(*chunks: bytes) -> Script:
    return lambda _request: list(chunks)


HTTP = ProbeSpec("http", "PORT", path="/health")
RESP = ProbeSpec("resp", "PORT", password="PASSWORD")
POSTGRES = ProbeSpec("postgres", "PORT", user="USER", database="DB")


def probe(spec: ProbeSpec, port: int) -> tuple[bool, str]:
    values = {"PORT": str(port), "PASSWORD": "s3cret", "USER": "app", "DB": "appdb"}
    return attempt(spec, values)()


def test_http_ready_on_the_expected_status_and_the_request_is_a_plain_get(serve) -> None:
    server = serve(answers(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    assert probe(HTTP, server.port) == (True, "HTTP 200 OK")
    assert server.received[0].startswith(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1:")


def test_http_another_status_is_not_ready_and_says_which(serve) -> None:
    server = serve(answers(b"HTTP/1.0 503 Service Unavailable\r\n\r\n"))
    assert probe(HTTP, server.port) == (False, "HTTP 503 Service Unavailable")
    custom = ProbeSpec("http", "PORT", path="/", status=204)
    other = serve(answers(b"HTTP/1.1 204 No Content\r\n\r\n"))
    assert probe(custom, other.port) == (True, "HTTP 204 No Content")


def test_http_a_status_line_in_two_pieces_is_read_whole(serve) -> None:
    server = serve(answers(b"HTTP/1.1 2", b"00 OK\r\n\r\n"))
    assert probe(HTTP, server.port) == (True, "HTTP 200 OK")


def test_http_something_else_than_http_is_not_ready(serve) -> None:
    server = serve(answers(b"220 smtp ready\r\n"))
    ready, answer = probe(HTTP, server.port)
    assert not ready and answer.startswith("not an HTTP answer")


def test_a_connection_closed_without_an_answer_is_not_ready(serve) -> None:
    # What Docker's proxy does on a published port while nothing listens in the container.
    server = serve(answers())
    for spec in (HTTP, RESP, POSTGRES):
        assert probe(spec, server.port) == (False, "connection closed without an answer")


def test_nothing_listening_is_not_ready() -> None:
    with socket.create_server(("127.0.0.1", 0)) as held:
        port = held.getsockname()[1]
    ready, answer = probe(HTTP, port)
    assert not ready and "refused" in answer.lower()


def test_an_answer_that_never_comes_is_not_ready_after_the_attempt_time(
    serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hostprobe, "ATTEMPT_SECONDS", 0.2)
    hang = threading.Event()
    server = serve(lambda _request: [b""] if hang.wait(3) else [])
    assert probe(HTTP, server.port) == (False, "no answer within 0.2 s")
    hang.set()


def test_resp_authenticates_then_pings_and_is_ready_on_pong(serve) -> None:
    server = serve(answers(b"+OK\r\n", b"+PONG\r\n"))
    assert probe(RESP, server.port) == (True, "+PONG")
    assert server.received[0] == (b"*2\r\n$4\r\nAUTH\r\n$6\r\ns3cret\r\n*1\r\n$4\r\nPING\r\n")


def test_resp_without_a_password_only_pings(serve) -> None:
    server = serve(answers(b"+PONG\r\n"))
    assert probe(ProbeSpec("resp", "PORT"), server.port) == (True, "+PONG")
    assert server.received[0] == b"*1\r\n$4\r\nPING\r\n"


@pytest.mark.parametrize(
    ("replies", "shown"),
    [
        (b"+OK\r\n-LOADING Redis is loading the dataset in memory\r\n", "-LOADING Redis is"),
        (
            b"-WRONGPASS invalid username-password pair\r\n-NOAUTH Authentication required.\r\n",
            "-WRONGPASS invalid",
        ),
    ],
)
def test_resp_loading_or_a_wrong_password_is_not_ready(serve, replies: bytes, shown: str) -> None:
    server = serve(answers(replies))
    ready, answer = probe(RESP, server.port)
    assert not ready and answer.startswith(shown)


def postgres_error(code: str, message: str) -> bytes:
    body = b"SFATAL\0C" + code.encode() + b"\0M" + message.encode() + b"\0\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


def test_postgres_ready_on_an_authentication_request(serve) -> None:
    server = serve(answers(b"R" + struct.pack("!ii", 12, 10) + b"SCRAM-SHA-256\0\0"))
    assert probe(POSTGRES, server.port) == (True, "authentication request")
    body = b"user\0app\0database\0appdb\0\0"
    assert server.received[0] == struct.pack("!ii", len(body) + 8, 196608) + body


def test_postgres_starting_up_is_not_ready_and_says_so(serve) -> None:
    error = postgres_error("57P03", "the database system is starting up")
    server = serve(answers(error[:7], error[7:]))
    assert probe(POSTGRES, server.port) == (False, "the database system is starting up")


def test_a_spec_round_trips_through_its_dict_form() -> None:
    for spec in (HTTP, RESP, POSTGRES, ProbeSpec("http", "P", path="/", status=204)):
        assert ProbeSpec.from_dict(spec.to_dict()) == spec
    assert HTTP.to_dict() == {"protocol": "http", "port": "PORT", "path": "/health"}
    assert RESP.variables() == ["PORT", "PASSWORD"]


SMTP = ProbeSpec("smtp", "PORT")


def test_smtp_waits_for_the_greeting_and_sends_nothing(serve) -> None:
    server = serve(answers(b"220 mailpit ESMTP ", b"Service ready\r\n"), reads=False)
    assert probe(SMTP, server.port) == (True, "220 mailpit ESMTP Service ready")
    assert server.received == [b""]


def test_smtp_a_server_that_turns_clients_away_is_not_ready(serve) -> None:
    server = serve(answers(b"421 Service not available, closing channel\r\n"), reads=False)
    assert probe(SMTP, server.port) == (False, "421 Service not available, closing channel")
