"""`paxx dashboard`: serve the page on 127.0.0.1 until Ctrl-C.

The server is uvicorn on a socket paxx binds itself (a free port unless one is asked for),
so the URL printed is right before the first request. Ctrl-C (or SIGTERM) ends every open
stream at once, stops the threads and the `docker` commands they read, and closes the port.
"""

from __future__ import annotations

import errno
import secrets
import signal
import socket
import threading
import webbrowser
from pathlib import Path
from types import FrameType
from typing import TextIO

import uvicorn

from paxx_env.catalog import Catalog
from paxx_env.dashboard.app import create_app
from paxx_env.dashboard.board import Board
from paxx_env.errors import PaxxError, UsageError

HOST = "127.0.0.1"


class Stopped(Exception):
    """A signal asked the dashboard to stop."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise Stopped(signum)


class _Server(uvicorn.Server):
    """uvicorn, ending the page's streams as soon as a signal asks it to stop.

    Without that, uvicorn would wait for the open event streams, which never end by
    themselves, until its graceful-shutdown timeout.
    """

    def __init__(self, config: uvicorn.Config, board: Board) -> None:
        super().__init__(config)
        self.board = board

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Stop serving (uvicorn) and end every stream (the board)."""
        self.board.hub.close()
        super().handle_exit(sig, frame)


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:`port` (0: a free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A port a stopped dashboard used can be taken again at once (its closed connections
    # linger in TIME_WAIT); one that something listens on stays refused.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} on {HOST} is taken",
                "choose another with --port, or leave --port out to get a free one",
            ) from None
        raise PaxxError(f"cannot listen on {HOST}:{port} ({exc.strerror})") from None
    sock.listen(64)
    return sock


def serve(root: Path, catalog: Catalog, port: int, open_browser: bool, out: TextIO) -> int:
    """Serve the dashboard of the project at `root`; the exit code once stopped."""
    handlers = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    sock = bind(port)
    board = Board(root, catalog)
    code = 0
    try:
        board.start()
        port = sock.getsockname()[1]
        token = secrets.token_urlsafe(24)
        app = create_app(board, token, port)
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", ws="none"
        )
        url = f"http://{HOST}:{port}/?token={token}"
        out.write(f"paxx dashboard of {board.project or root.name}: {url}\n")
        out.write("Ctrl-C stops it.\n")
        out.flush()
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        _Server(config, board).run(sockets=[sock])
    except Stopped as stopped:  # uvicorn passes on the signal it handled, once it has stopped
        code = 128 + stopped.signum
    finally:
        board.stop()
        sock.close()
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    return code
