"""Port forwards over SSH, for an engine on another machine.

Such an engine publishes a service's ports on its own loopback, which the app on this machine
cannot reach. One `ssh -N -L` process per project forwards each published port to the same
port on this machine's 127.0.0.1, so the URLs in .env stay valid. It runs in the background
(a session of its own) while the environment is up; its pid is kept in the last-up record.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from paxx_env import log
from paxx_env.engine.target import SshEndpoint
from paxx_env.errors import EngineError

READY_SECONDS = 15.0


def forward_argv(ssh: SshEndpoint, ports: list[int]) -> list[str]:
    """The ssh command that forwards `ports` (loopback to loopback, nothing else)."""
    argv = [
        "ssh",
        "-N",
        "-o", "ExitOnForwardFailure=yes",
        "-o", "ServerAliveInterval=15",
        "-o", "ServerAliveCountMax=3",
        "-o", "BatchMode=yes",
        # A connection of its own, not shared with a master (ControlMaster in the user's
        # config): stopping this process must stop the forwards, and nothing else.
        "-o", "ControlMaster=no",
        "-o", "ControlPath=none",
    ]  # fmt: skip
    if ssh.port:
        argv += ["-p", str(ssh.port)]
    for port in sorted(ports):
        argv += ["-L", f"127.0.0.1:{port}:127.0.0.1:{port}"]
    return [*argv, ssh.destination]


def start_forward(ssh: SshEndpoint, ports: list[int], log_file: Path) -> int:
    """Start the forwards in the background; return the pid once every port answers."""
    argv = forward_argv(ssh, ports)
    log.debug("run", argv=argv)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as output:
        try:
            child = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise EngineError(
                "the ssh command is not installed, so paxx cannot forward the remote ports",
                "install the OpenSSH client (the docker CLI needs it for ssh:// engines too)",
            ) from None
    try:
        if _wait_ready(child, ports):
            return child.pid
    except BaseException:  # Ctrl-C included: no forward is left behind
        stop_forward(child.pid)
        raise
    stop_forward(child.pid)
    reason = _last_line(log_file)
    raise EngineError(
        f"could not forward ports {', '.join(map(str, sorted(ports)))} from {ssh.destination}"
        + (f" ({reason})" if reason else ""),
        f"check that `ssh {ssh.destination}` works without a password and that those ports are "
        f"free here; see {log_file}",
    )


def _wait_ready(child: subprocess.Popen[bytes], ports: list[int]) -> bool:
    """Whether every forwarded port answers before ssh exits or the time is up."""
    deadline = time.monotonic() + READY_SECONDS
    while child.poll() is None and time.monotonic() < deadline:
        if all(_answers(port) for port in ports):
            time.sleep(0.1)  # ssh exits at once when a port could not be bound
            if child.poll() is None:
                return True
        time.sleep(0.05)
    return False


def forward_alive(pid: int, ports: list[int]) -> bool:
    """Whether the forward with this pid still runs (and is the ssh paxx started)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _signal_alive(pid)
    wanted = {f"127.0.0.1:{p}:127.0.0.1:{p}".encode() for p in ports}
    return bool(command) and command[0].endswith(b"ssh") and wanted <= set(command)


def stop_forward(pid: int) -> None:
    """Stop a forward (its whole session); quietly when it is gone already."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + 5
    while _signal_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _signal_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A child of this process that exited is a zombie until reaped.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""
