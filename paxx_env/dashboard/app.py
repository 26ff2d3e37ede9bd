"""The dashboard's HTTP side: the page, its live parts, logs, and the buttons.

    GET  /                    the page
    GET  /events              server-sent events: each part of the page as it changes
    GET  /logs/SERVICE        server-sent events: the service's last lines, then each new one
    GET  /status.json         the status report, as `paxx status --json` prints it
    POST /up, /down           the buttons (/down with volumes=1 needs confirm=PROJECT)
    POST /restart/SERVICE     stop one service and bring it up again
    POST /variables/KEY       a secret variable's cell, shown (reveal=1) or masked
    GET  /static/...          the page's script and style (htmx, vendored)

Every request passes guard.Guard first.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from paxx_env import lifecycle
from paxx_env.dashboard import views
from paxx_env.dashboard.board import Board
from paxx_env.dashboard.guard import Guard
from paxx_env.dashboard.hub import Hub, Item
from paxx_env.engine.docker import DockerStream
from paxx_env.errors import PaxxError

STATIC = Path(__file__).parent / "static"
#: A comment line this often keeps idle streams open through anything in between.
KEEPALIVE = 15.0
#: Log lines sent at once, at most, and how many the pane starts with by default.
LOG_BATCH = 500
DEFAULT_TAIL = 200
MAX_TAIL = 5000
BUSY = "another action is running: wait until it has finished"


def create_app(board: Board, token: str, port: int) -> Starlette:
    """The Starlette app serving `board`, guarded by `token`, on 127.0.0.1:`port`."""
    answer = Endpoints(board, token)
    routes = [
        Route("/", answer.page),
        Route("/events", answer.events),
        Route("/logs/{service}", answer.logs),
        Route("/status.json", answer.status),
        Route("/up", answer.up, methods=["POST"]),
        Route("/down", answer.down, methods=["POST"]),
        Route("/restart/{service}", answer.restart, methods=["POST"]),
        Route("/variables/{key}", answer.reveal, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(Guard, token=token, port=port)])


class Endpoints:
    """One method per route."""

    def __init__(self, board: Board, token: str) -> None:
        self.board = board
        self.token = token

    async def page(self, request: Request) -> Response:
        """The whole page, with every part as it is now."""
        board = self.board
        parts = board.hub.parts()
        return HTMLResponse(views.page(parts, self.token, board.project, board.services))

    async def events(self, request: Request) -> Response:
        """Each part now, then every change."""
        return _event_stream(_parts(self.board.hub))

    async def logs(self, request: Request) -> Response:
        """A service's last lines, then each new one; or the two lines saying why not."""
        service = request.path_params["service"]
        try:
            tail = min(max(int(request.query_params.get("tail", DEFAULT_TAIL)), 0), MAX_TAIL)
        except ValueError:
            tail = DEFAULT_TAIL
        try:
            stream = await run_in_threadpool(lifecycle.follow_logs, self.board.root, service, tail)
        except PaxxError as error:
            return _event_stream(_one("problem", f"{error.message}\n{error.hint}"))
        return _event_stream(_log_lines(self.board, stream))

    async def status(self, request: Request) -> Response:
        """The last status report, as `paxx status --json` prints it."""
        if self.board.report is None:
            return Response("{}", status_code=503, media_type="application/json")
        return Response(self.board.report.to_json(), media_type="application/json")

    async def up(self, request: Request) -> Response:
        """Start `paxx up`."""
        return _started(self.board.actions.up(), "paxx up")

    async def down(self, request: Request) -> Response:
        """Start `paxx down`; deleting the data needs the project name typed."""
        form = await _form(request)
        volumes = form.get("volumes") == "1"
        project = self.board.project
        if volumes and (not project or form.get("confirm") != project):
            return _notice(400, f"type {project or 'the project name'} to delete its data")
        title = "paxx down --volumes" if volumes else "paxx down"
        return _started(self.board.actions.down(volumes), title)

    async def restart(self, request: Request) -> Response:
        """Start the restart of one service."""
        service = request.path_params["service"]
        if service not in self.board.services:
            return _notice(404, f"{service} is not a service of this project")
        return _started(self.board.actions.restart(service), f"restart {service}")

    async def reveal(self, request: Request) -> Response:
        """A secret variable's cell, shown or masked again."""
        form = await _form(request)
        try:
            cell = await run_in_threadpool(
                self.board.reveal, request.path_params["key"], form.get("reveal") == "1"
            )
        except PaxxError as error:
            return _notice(409, error.message)
        if cell is None:
            return _notice(404, "no such variable")
        return HTMLResponse(cell)


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form (htmx posts those), first value of each field."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {key: values[0] for key, values in parse_qs(body).items()}


def _started(started: bool, title: str) -> Response:
    if not started:
        return _notice(409, BUSY)
    return _notice(202, f"{title} started")


def _notice(status: int, text: str) -> Response:
    tone = "ok" if status < 400 else "bad"
    return HTMLResponse(views.render("notice.html", tone=tone, text=text), status_code=status)


def _event_stream(body: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream")


def event(name: str, data: str) -> str:
    """One server-sent event: every line of `data` on its own `data:` line."""
    lines = "".join(f"data: {line}\n" for line in data.replace("\r", "").split("\n"))
    return f"event: {name}\n{lines}\n"


async def _one(name: str, data: str) -> AsyncIterator[str]:
    yield event(name, data)


async def _parts(hub: Hub) -> AsyncIterator[str]:
    """Every part now, then each change, until the server stops."""
    queue = hub.subscribe()
    try:
        yield "retry: 1000\n\n"
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), KEEPALIVE)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if item is None:
                return
            yield event(*item)
    finally:
        hub.unsubscribe(queue)


async def _log_lines(board: Board, stream: DockerStream) -> AsyncIterator[str]:
    """A service's log lines, secrets masked, in batches, until it ends or the page goes."""
    queue = board.hub.subscribe(listens=False)
    loop = asyncio.get_running_loop()

    def pump() -> None:
        with contextlib.suppress(RuntimeError):  # the server stopped first
            for line in stream:
                loop.call_soon_threadsafe(queue.put_nowait, ("line", line))
            loop.call_soon_threadsafe(queue.put_nowait, ("end", ""))

    reader = threading.Thread(target=pump, name="dashboard-logs", daemon=True)
    reader.start()
    try:
        while True:
            batch, done = _take(await queue.get(), queue)
            if batch:
                yield event("lines", board.mask("\n".join(batch)))
            if done:
                yield event("end", "the log stream ended")
                return
    finally:
        board.hub.unsubscribe(queue)
        stream.close()


def _take(first: Item, queue: asyncio.Queue[Item]) -> tuple[list[str], bool]:
    """The lines waiting in `queue` (up to LOG_BATCH), and whether the stream is over."""
    batch: list[str] = []
    item = first
    while True:
        if item is None or item[0] == "end":
            return batch, True
        batch.append(item[1])
        if queue.empty() or len(batch) >= LOG_BATCH:
            return batch, False
        item = queue.get_nowait()
