"""Host ports: whether one is free on the loopback interface, who holds it, picking a free one."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable, Iterable
from pathlib import Path

LOOPBACK = "127.0.0.1"


def port_is_free(port: int) -> bool:
    """Whether a listener could bind LOOPBACK:port right now (as docker-proxy will)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR ignores connections in TIME_WAIT but still fails on a listener.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def pick_port(
    preferred: int, taken: set[int], is_free: Callable[[int], bool] = port_is_free
) -> int:
    """The preferred port, or the next one above it that is free and not in `taken`."""
    candidates: list[int] = [*range(preferred, 65536), *range(1024, preferred)]
    for port in candidates:
        if port not in taken and is_free(port):
            return port
    raise OSError(errno.EADDRINUSE, "no free port on the loopback interface")


def describe_holder(port: int) -> str:
    """Name the process listening on `port`, as "pid 812 (postgres)", or "" if unknown.

    Reads /proc (Linux); a process of another user may stay anonymous.
    """
    return describe_holders([port]).get(port, "")


def describe_holders(ports: Iterable[int]) -> dict[int, str]:
    """Port -> the process listening on it, for each of `ports` whose holder is found.

    One pass over every process's open files, however many ports: it is the costly part.
    """
    wanted = {inode: port for port in set(ports) for inode in _listening_inodes(port)}
    found: dict[int, str] = {}
    if not wanted:
        return found
    try:
        pids = [p for p in Path("/proc").iterdir() if p.name.isdigit()]
    except OSError:
        return found
    for pid_dir in pids:
        try:
            for fd in (pid_dir / "fd").iterdir():
                target = os.readlink(fd)
                port = wanted.get(target[8:-1]) if target.startswith("socket:[") else None
                if port is not None and port not in found:
                    program = (pid_dir / "comm").read_text().strip()
                    found[port] = f"pid {pid_dir.name} ({program})"
        except OSError:
            continue
        if len(found) == len(set(wanted.values())):
            break
    return found


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes
