"""The parts of the page as they are now, and the open pages waiting for them to change.

Background threads publish a part (its HTML) whenever it changes; each open page holds a
queue in the server's event loop that receives (part, html) pairs. `close` ends every stream
the server has open, so that it can stop at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
import traceback
from collections.abc import Callable

#: What a queue receives: a part and its HTML, or None when the server stops.
Item = tuple[str, str] | None


class Hub:
    """The latest HTML of each part, pushed to every open page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: dict[str, str] = {}
        self._queues: dict[asyncio.Queue[Item], tuple[asyncio.AbstractEventLoop, bool]] = {}
        self.closed = threading.Event()

    def publish(self, part: str, html: str) -> None:
        """Set a part; pages that listen get it (unless it did not change)."""
        with self._lock:
            if self._parts.get(part) == html:
                return
            self._parts[part] = html
            for queue, (loop, listens) in self._queues.items():
                if listens:
                    _send(loop, queue, (part, html))

    def parts(self) -> dict[str, str]:
        """Every part as it is now."""
        with self._lock:
            return dict(self._parts)

    def subscribe(self, listens: bool = True) -> asyncio.Queue[Item]:
        """A queue for one stream (called in the event loop).

        With `listens`, it gets every part now and each change from here on; it always gets
        None when the server stops.
        """
        queue: asyncio.Queue[Item] = asyncio.Queue()
        with self._lock:
            if self.closed.is_set():
                queue.put_nowait(None)
                return queue
            self._queues[queue] = (asyncio.get_running_loop(), listens)
            if listens:
                for item in self._parts.items():
                    queue.put_nowait(item)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Item]) -> None:
        """Forget a queue whose stream has ended."""
        with self._lock:
            self._queues.pop(queue, None)

    def close(self) -> None:
        """End every stream: the server is stopping."""
        with self._lock:
            self.closed.set()
            for queue, (loop, _) in self._queues.items():
                _send(loop, queue, None)


def _send(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Item], item: Item) -> None:
    with contextlib.suppress(RuntimeError):  # the loop has already stopped
        loop.call_soon_threadsafe(queue.put_nowait, item)


class Job:
    """`work`, run in its own thread each time it is poked.

    Pokes that come while it runs (a burst of engine events) make one more run, not one each;
    `settle` lets a burst end before the run starts.
    """

    def __init__(self, name: str, work: Callable[[], None], settle: float = 0.05) -> None:
        self.name = name
        self._work = work
        self._settle = settle
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"dashboard-{name}", daemon=True)

    def start(self) -> None:
        """Start the thread; it runs `work` at each poke."""
        self._thread.start()

    def poke(self) -> None:
        """Ask for a run."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the run under way, if any (waiting at most `timeout` seconds)."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            if self._stopping.wait(self._settle):
                return
            self._wake.clear()
            started = time.monotonic()
            try:
                self._work()
            except Exception:  # a bug: say so, and keep the page alive
                sys.stderr.write(f"paxx dashboard: {self.name} failed\n{traceback.format_exc()}")
            # Never more than a few runs a second, whatever the engine sends.
            self._stopping.wait(max(0.0, 0.2 - (time.monotonic() - started)))
