"""The websocket module paxx generates: two app instances sharing rooms through Redis or Valkey
(the real programs, each in turn), each a FastAPI app with the module's lifespan, endpoint
dependency and ConnectionManager.

The same scenario runs twice: over Starlette's TestClient (each app in its own thread and event
loop, WebSockets in memory; needs nothing beyond the test dependencies), and over TCP with both
apps served by uvicorn on loopback ports and clients from the `websockets` library (uvicorn needs
that library to serve WebSockets at all, so that run is skipped where it is not installed).
"""

# No `from __future__ import annotations`: FastAPI must see the route annotations as objects.

import asyncio
import contextlib
import functools
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, Protocol

import httpx
import pytest
import redis.asyncio as redis
import uvicorn
from fastapi import Depends, FastAPI, WebSocket, WebSocketDisconnect
from redis import exceptions as redis_exceptions
from starlette import testclient

from live.conftest import App, providers_of

PROVIDERS = pytest.mark.parametrize("provider", providers_of("websocket"))

#: Long enough for a duplicate to come back through Redis (it takes well under 10 ms here).
SETTLE = 1.0
RECEIVE_TIMEOUT = 10.0


@contextlib.asynccontextmanager
async def lifespan_with(ws: Any, settings: Any, web: FastAPI) -> AsyncIterator[None]:
    """The module's lifespan, with settings other than those of the environment."""
    async with ws.open_manager(settings) as manager:
        web.state.websockets = manager
        yield


def chat_app(ws: Any, settings: Any = None) -> FastAPI:
    """One app instance: the module's lifespan, a WebSocket endpoint and an HTTP route."""
    lifespan = ws.websocket_lifespan
    if settings is not None:
        lifespan = functools.partial(lifespan_with, ws, settings)
    web = FastAPI(lifespan=lifespan)
    Manager = ws.ConnectionManager

    @web.websocket("/ws/{client}")
    async def endpoint(
        websocket: WebSocket, client: str, manager: Annotated[Manager, Depends(ws.get_manager)]
    ) -> None:
        await manager.connect(websocket, client_id=client)
        try:
            while True:
                command = await manager.receive_json(websocket)
                if "join" in command:
                    await manager.join(websocket, command["join"])
                    await manager.send(websocket, {"joined": command["join"]})
                elif "leave" in command:
                    await manager.leave(websocket, command["leave"])
                    await manager.send(websocket, {"left": command["leave"]})
                elif "say" in command:
                    exclude = websocket if command.get("others") else None
                    message = {"room": command["say"], "text": command["text"]}
                    await manager.broadcast(command["say"], message, exclude=exclude)
                elif "tell" in command:
                    message = {"to": command["tell"], "text": command["text"]}
                    await manager.send_personal(command["tell"], message)
                elif "sync" in command:
                    await manager.send(websocket, {"synced": command["sync"]})
        except WebSocketDisconnect:
            pass
        finally:
            await manager.disconnect(websocket)

    @web.post("/rooms/{room}")
    async def post(
        room: str, body: dict[str, str], manager: Annotated[Manager, Depends(ws.get_manager)]
    ) -> dict[str, int]:
        await manager.broadcast(room, {"room": room, "text": body["text"]})
        return {"members_here": len(manager.local_members(room))}

    return web


class Connection(Protocol):
    async def send(self, data: dict[str, Any]) -> None: ...
    async def receive(self) -> Any: ...
    async def close(self) -> None: ...


class Instance:
    """A running app instance: its manager, a way to open a WebSocket and to POST."""

    def __init__(
        self,
        web: FastAPI,
        connect: Callable[[str], Awaitable[Connection]],
        post: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self.web = web
        self.connect = connect
        self.post = post

    @property
    def manager(self) -> Any:
        return self.web.state.websockets


class Peer:
    """A client: sends commands, and keeps the texts of every message it was sent."""

    def __init__(self, name: str, connection: Connection) -> None:
        self.name = name
        self.connection = connection
        self.texts: list[str] = []
        self._syncs = 0

    async def request(self, command: dict[str, Any], reply: dict[str, Any]) -> None:
        """Send a command and read until its reply, keeping what arrives before it."""
        await self.connection.send(command)
        while (message := await self.connection.receive()) != reply:
            self.texts.append(message["text"])

    async def join(self, room: str) -> None:
        await self.request({"join": room}, {"joined": room})

    async def leave(self, room: str) -> None:
        await self.request({"leave": room}, {"left": room})

    async def sync(self) -> None:
        """Everything sent to this client before now has arrived (one socket is in order)."""
        self._syncs += 1
        await self.request({"sync": self._syncs}, {"synced": self._syncs})

    async def say(self, room: str, text: str, others: bool = False) -> None:
        await self.connection.send({"say": room, "text": text, "others": others})
        await self.sync()  # the endpoint handled the command: delivered here, published

    async def tell(self, client: str, text: str) -> None:
        await self.connection.send({"tell": client, "text": text})
        await self.sync()

    async def take(self) -> Counter[str]:
        """What arrived since the last take, after waiting long enough for any duplicate."""
        await asyncio.sleep(SETTLE)
        await self.sync()
        texts, self.texts = self.texts, []
        return Counter(texts)


def once(*texts: str) -> Counter[str]:
    return Counter(texts)


async def numsub(client: redis.Redis, channel: str) -> int:
    [(_, count)] = await client.pubsub_numsub(channel)
    return int(count)


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + RECEIVE_TIMEOUT
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def scenario(app: App, ws: Any, a: Instance, b: Instance) -> None:
    assert a.manager.instance_id != b.manager.instance_id
    client = redis.Redis.from_url(app.env["REDIS_URL"])
    opened: list[Connection] = []

    async def peer(instance: Instance, name: str) -> Peer:
        opened.append(connection := await instance.connect(name))
        return Peer(name, connection)

    try:
        a1, a2 = await peer(a, "a1"), await peer(a, "a2")
        b1, b2 = await peer(b, "b1"), await peer(b, "b2")
        for member in (a1, a2, b1):
            await member.join("lobby")
        await b2.join("kitchen")
        # one subscription per instance (not per client), so one copy of each message each
        assert await numsub(client, "ws:room:lobby") == 2

        # room broadcasts from both instances, from HTTP routes, from a process with no clients
        await a1.say("lobby", "a1 to lobby")
        await b1.say("lobby", "b1 to lobby")
        await a2.say("lobby", "a2 to the others", others=True)
        await a.post("lobby", "http on a")
        await b.post("lobby", "http on b")
        async with ws.open_manager() as script:
            await script.broadcast("lobby", {"room": "lobby", "text": "script to lobby"})
            await script.send_personal("b2", {"to": "b2", "text": "script to b2"})
        # personal messages, across instances and within one
        await a1.tell("b2", "a1 to b2")
        await b1.tell("a2", "b1 to a2")
        await a2.tell("a1", "a2 to a1")

        lobby = ["a1 to lobby", "b1 to lobby", "http on a", "http on b", "script to lobby"]
        assert await a1.take() == once(*lobby, "a2 to the others", "a2 to a1")
        assert await a2.take() == once(*lobby, "b1 to a2")
        assert await b1.take() == once(*lobby, "a2 to the others")
        assert await b2.take() == once("script to b2", "a1 to b2")

        # leaving a room, and disconnecting, stop delivery
        await b1.leave("lobby")
        await a2.connection.close()

        async def a2_unsubscribed() -> bool:  # instance a handled a2's disconnect
            return await numsub(client, "ws:client:a2") == 0

        async def b_left_lobby() -> bool:  # instance b has no member in the lobby now
            return await numsub(client, "ws:room:lobby") == 1

        await eventually(a2_unsubscribed, "a2's disconnect did not reach instance a")
        await eventually(b_left_lobby, "instance b is still subscribed to the lobby")
        await b2.say("lobby", "b2 to lobby")
        await a1.say("lobby", "a1 to lobby again")
        await b1.tell("a2", "b1 to a2 again")
        assert await a1.take() == once("b2 to lobby", "a1 to lobby again")
        assert await b1.take() == once()
        assert await b2.take() == once()

    finally:
        for connection in opened:  # open WebSockets would keep the apps from shutting down
            with contextlib.suppress(Exception):
                await connection.close()
        await client.aclose()


@PROVIDERS
async def test_websocket_real_two_instances_exactly_once_testclient(
    app_with: Callable[..., App],
    provider: str,
) -> None:
    app = app_with("websocket", provider=provider)
    ws = app.module("websocket")
    with contextlib.ExitStack() as stack:

        def start() -> Instance:
            web = chat_app(ws)
            http = stack.enter_context(
                testclient.TestClient(web)
            )  # runs the lifespan in its own loop

            async def connect(name: str) -> Connection:
                session = await asyncio.to_thread(http.websocket_connect(f"/ws/{name}").__enter__)
                return InMemoryConnection(session)

            async def post(room: str, text: str) -> None:
                response = await asyncio.to_thread(http.post, f"/rooms/{room}", json={"text": text})
                response.raise_for_status()

            return Instance(web, connect, post)

        await scenario(app, ws, start(), start())


class InMemoryConnection:
    """A TestClient WebSocket session; its blocking calls run in a thread, with a time limit."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def send(self, data: dict[str, Any]) -> None:
        await asyncio.to_thread(self.session.send_json, data)

    async def receive(self) -> Any:
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            return await asyncio.to_thread(self.session.receive_json)

    async def close(self) -> None:
        await asyncio.to_thread(self.session.__exit__, None, None, None)


@PROVIDERS
async def test_websocket_real_two_uvicorn_instances_exactly_once_over_tcp(
    app_with: Callable[..., App],
    provider: str,
) -> None:
    client_lib = pytest.importorskip(
        "websockets.asyncio.client",
        reason="the websockets library is not installed: uvicorn cannot serve WebSockets",
    )
    app = app_with("websocket", provider=provider)
    ws = app.module("websocket")
    async with contextlib.AsyncExitStack() as stack:

        async def start() -> Instance:
            web = chat_app(ws)
            port = await stack.enter_async_context(serve(web))

            async def connect(name: str) -> Connection:
                connection = await client_lib.connect(f"ws://127.0.0.1:{port}/ws/{name}")
                return WebsocketsConnection(connection)

            async def post(room: str, text: str) -> None:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                    (await http.post(f"/rooms/{room}", json={"text": text})).raise_for_status()

            return Instance(web, connect, post)

        await scenario(app, ws, await start(), await start())


@contextlib.asynccontextmanager
async def serve(web: FastAPI) -> AsyncIterator[int]:
    """Serve the app with uvicorn on a free loopback port, in this event loop; the port."""
    config = uvicorn.Config(
        web, host="127.0.0.1", port=0, ws="websockets-sansio", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            while not server.started:
                assert not task.done(), "uvicorn did not start"
                await asyncio.sleep(0.02)
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


class WebsocketsConnection:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def send(self, data: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(data))

    async def receive(self) -> Any:
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            return json.loads(await self.connection.recv())

    async def close(self) -> None:
        await self.connection.close()


# --- Faults and load -------------------------------------------------------------------------


class Blackhole:
    """A TCP proxy to Redis whose open connections can go silent: they stay open and carry
    nothing either way, as a connection whose peer vanished (a half-open connection), while
    new connections reach Redis. The engine cannot make that: stopping Redis closes the
    socket, and pausing it (App.paused) silences the new connections too, so nothing could
    resume. The test puts this narrow seam between the manager and the real Redis."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.silent: list[dict[str, bool]] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    def cut(self) -> None:
        """Silence every connection open now; new ones go through as before."""
        for state in self.silent:
            state["silent"] = True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.port)
        state = {"silent": False}
        self.silent.append(state)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                if not state["silent"]:
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(
            pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True
        )


async def arrives(connection: Connection, publish: Callable[[int], Awaitable[None]]) -> float:
    """Publish again and again until the connection gets one of the messages; seconds taken."""
    started = time.monotonic()
    for attempt in range(200):
        await publish(attempt)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.1):
                message = await connection.receive()
                assert message["text"].startswith("attempt"), message
                return time.monotonic() - started
    raise AssertionError("no message reached the room's member on the other side of the fault")


@pytest.mark.parametrize("fault", ["client-kill", "half-open"])
async def test_websocket_real_delivery_resumes_after_the_pubsub_connection_is_lost(
    app_with: Callable[..., App], fault: str
) -> None:
    client_lib = pytest.importorskip("websockets.asyncio.client", reason="uvicorn needs it")
    app = app_with("websocket")
    ws = app.module("websocket")
    url = app.env["REDIS_URL"]
    admin = redis.Redis.from_url(url)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    async with contextlib.AsyncExitStack() as stack:
        blackhole = Blackhole(port)
        proxy_port = await stack.enter_async_context(blackhole)
        proxied = url.replace(f":{port}/", f":{proxy_port}/")
        settings = ws.WebsocketSettings(redis_url=proxied, websocket_keepalive=0.5)
        web_port = await stack.enter_async_context(serve(chat_app(ws, settings)))
        raw = await client_lib.connect(f"ws://127.0.0.1:{web_port}/ws/b1")
        member = WebsocketsConnection(raw)
        stack.push_async_callback(member.close)
        await member.send({"join": "lobby"})
        assert await member.receive() == {"joined": "lobby"}
        publisher = await stack.enter_async_context(ws.open_manager())

        async def publish(attempt: int) -> None:
            await publisher.broadcast("lobby", {"text": f"attempt {attempt}"})

        await arrives(member, publish)
        if fault == "client-kill":  # Redis closes the connection: the listener hears of it
            assert await admin.client_kill_filter(_type="pubsub") >= 1
        else:  # nothing closes: only a PING that gets no answer tells
            blackhole.cut()
        await admin.aclose()
        assert await arrives(member, publish) < 15


async def test_websocket_real_a_client_that_never_reads_holds_up_no_one(
    app_with: Callable[..., App],
) -> None:
    client_lib = pytest.importorskip("websockets.asyncio.client", reason="uvicorn needs it")
    app = app_with("websocket")
    ws = app.module("websocket")
    # A long send timeout: were a slow client awaited, everyone would wait this long.
    settings = ws.WebsocketSettings(websocket_send_timeout=60, websocket_outbox_size=64)
    async with contextlib.AsyncExitStack() as stack:
        web = chat_app(ws, settings)
        port = await stack.enter_async_context(serve(web))
        url = f"ws://127.0.0.1:{port}/ws"
        # max_queue=1: the client library stops reading, so the server's socket buffer fills;
        # no compression, which would shrink the flood's repeated text to almost nothing.
        slow = await client_lib.connect(f"{url}/slow", max_queue=1, compression=None)
        stack.push_async_callback(slow.close)
        await slow.send(json.dumps({"join": "flood"}))
        fast = WebsocketsConnection(await client_lib.connect(f"{url}/fast"))
        stack.push_async_callback(fast.close)
        publisher = await stack.enter_async_context(ws.open_manager())
        # 24 MB, more than the socket buffers on both ends hold, from another instance
        for n in range(3000):
            await publisher.broadcast("flood", {"n": n, "pad": "x" * 8000})
        started = time.monotonic()
        await fast.send({"join": "calm"})  # its subscription is confirmed by the listener
        assert await fast.receive() == {"joined": "calm"}
        await publisher.broadcast("calm", {"text": "still here"})
        assert await fast.receive() == {"text": "still here"}
        assert time.monotonic() - started < 5, "the slow client held the others up"

        async def slow_dropped() -> bool:
            return not web.state.websockets.local_members("flood")

        await eventually(slow_dropped, "the client that reads nothing is still a member")


async def test_websocket_real_foreign_origins_and_oversized_messages_are_refused(
    app_with: Callable[..., App],
) -> None:
    app = app_with("websocket")
    ws = app.module("websocket")
    settings = ws.WebsocketSettings(
        websocket_allowed_origins=["https://app.example"], websocket_max_message_bytes=1000
    )
    with testclient.TestClient(chat_app(ws, settings)) as http:
        evil = {"origin": "https://evil.example"}
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            http.websocket_connect("/ws/x", headers=evil),
        ):
            pass
        assert refused.value.code == 1008
        for origin in ("https://app.example", "http://testserver", None):
            headers = {"origin": origin} if origin else {}
            with http.websocket_connect("/ws/y", headers=headers) as session:
                session.send_json({"sync": 1})
                assert session.receive_json() == {"synced": 1}
        with http.websocket_connect("/ws/z") as session:
            session.send_json({"sync": "x" * 2000})
            with pytest.raises(WebSocketDisconnect) as closed:
                session.receive_json()
            assert closed.value.code == 1009


async def test_websocket_real_publish_to_a_paused_server_fails_within_the_redis_timeout(
    app_with: Callable[..., App],
) -> None:
    """Redis frozen (`docker pause`): it takes connections and answers nothing. A broadcast
    fails after WEBSOCKET_REDIS_TIMEOUT instead of waiting for ever, and works again after."""
    app = app_with("websocket")
    ws = app.module("websocket")
    assert ws.WebsocketSettings().websocket_redis_timeout == 5.0  # the default
    settings = ws.WebsocketSettings(websocket_redis_timeout=1.0)
    async with ws.open_manager(settings) as publisher:
        await publisher.broadcast("lobby", {"text": "before"})
        with app.paused():
            for attempt in range(2):  # on the pooled connection, then on a new one
                started = time.monotonic()
                # the outer bound only turns a hang into a failure; the module's timeout acts
                async with asyncio.timeout(20):
                    with pytest.raises(redis_exceptions.TimeoutError, match="Timeout reading"):
                        await publisher.broadcast("lobby", {"text": f"frozen {attempt}"})
                assert time.monotonic() - started < 5
            async with asyncio.timeout(20):
                with pytest.raises(redis_exceptions.TimeoutError):
                    async with ws.open_manager(settings):  # connecting, AUTH unanswered
                        pass
        async with asyncio.timeout(20):
            await publisher.broadcast("lobby", {"text": "after"})


async def test_websocket_real_a_subscriber_quiet_for_longer_than_the_redis_timeout_keeps_it(
    app_with: Callable[..., App],
) -> None:
    """The socket timeout bounds a command's answer, not a quiet subscription: a member
    whose instance heard nothing for many timeouts gets the next message on the same
    pub/sub connection, which was never dropped."""
    client_lib = pytest.importorskip("websockets.asyncio.client", reason="uvicorn needs it")
    app = app_with("websocket")
    ws = app.module("websocket")
    # No PING for 4 s: the listener's reads wait 4 s each, eight times the socket timeout.
    settings = ws.WebsocketSettings(websocket_redis_timeout=0.5, websocket_keepalive=4.0)
    admin = redis.Redis.from_url(app.env["REDIS_URL"])
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(admin.aclose)
        web_port = await stack.enter_async_context(serve(chat_app(ws, settings)))
        member = WebsocketsConnection(await client_lib.connect(f"ws://127.0.0.1:{web_port}/ws/m"))
        stack.push_async_callback(member.close)
        await member.send({"join": "lobby"})
        assert await member.receive() == {"joined": "lobby"}
        before = {c["id"] for c in await admin.client_list(_type="pubsub")}
        assert len(before) == 1

        await asyncio.sleep(3.0)  # quiet: six socket timeouts, less than one keepalive
        publisher = await stack.enter_async_context(ws.open_manager(settings))
        await publisher.broadcast("lobby", {"text": "after the quiet"})
        assert await member.receive() == {"text": "after the quiet"}
        # the member's instance still listens on the connection it had: none was remade
        after = {c["id"] for c in await admin.client_list(_type="pubsub")}
        assert before <= after, "the quiet pub/sub connection was dropped and made again"
