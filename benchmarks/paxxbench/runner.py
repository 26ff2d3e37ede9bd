"""Running one command: its wall-clock time, its peak memory, its output; and the progress log."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class BenchError(Exception):
    """A command the benchmark depends on failed."""


@dataclass
class Run:
    """One command, timed from before it is started until it has exited."""

    argv: list[str]
    started_at: float  # time.time() at the start
    wall: float
    returncode: int
    stdout: str
    stderr: str
    maxrss_kb: int  # the largest process of the command's tree (/usr/bin/time -f %M)
    #: CPU seconds (user + system) of the command and every child it waited for
    cpu: float = 0.0


#: A child forked from this script starts with this script's RSS as its high-water mark
#: (Linux keeps the pre-exec peak), so the peak RSS of a command comes from GNU time, which
#: forks the command from its own small process. Without it, wait4() gives an upper bound.
TIME = "/usr/bin/time"
EXACT_RSS = Path(TIME).exists()


def run(
    argv: Sequence[str],
    cwd: Path,
    env: dict[str, str],
    *,
    timeout: float = 600.0,
    check: bool = True,
) -> Run:
    """Run a command: wall-clock time around the whole of it, and its peak RSS."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as peak,
    ):
        wrapped = [TIME, "-f", "%M", "-o", peak.name, *argv] if EXACT_RSS else list(argv)
        started_at = time.time()
        started = time.perf_counter()
        child = subprocess.Popen(
            wrapped,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group, so a timeout stops all of it
        )
        status, usage = _wait(child.pid, timeout)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = Run(
            list(argv),
            started_at,
            wall,
            child.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            peak_kb(peak.read()) if EXACT_RSS else usage.ru_maxrss,
            usage.ru_utime + usage.ru_stime,
        )
    if check and result.returncode != 0:
        tail = (result.stderr.strip() or result.stdout.strip())[-2000:]
        raise BenchError(f"`{' '.join(argv)}` exited {result.returncode}:\n{tail}")
    return result


def _wait(pid: int, timeout: float) -> tuple[int, resource.struct_rusage]:
    """Wait for the child's exit; stop its whole process group after `timeout` seconds."""
    killer = threading.Timer(timeout, _kill_group, (pid,))
    killer.start()
    try:
        _, status, usage = os.wait4(pid, 0)
    except BaseException:
        _kill_group(pid)
        os.wait4(pid, 0)
        raise
    finally:
        killer.cancel()
    return status, usage


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def peak_kb(report: str) -> int:
    """The %M value GNU time wrote (after a note when the command failed)."""
    try:
        return int(report.split()[-1])
    except (IndexError, ValueError):
        return 0


def log(message: str) -> None:
    """One progress line on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
