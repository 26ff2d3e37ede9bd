"""Faults paxx must survive without losing or tearing a file (no Docker needed)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Runner, make_project, run_cli, tmpfs, tree_checksum
from paxx_env import envblock
from paxx_env.fsio import exclusive_lock
from paxx_env.paths import project_lock_path

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from paxx_env.fsio import Change, apply_changes

    root = Path(sys.argv[1])
    contents = [b"A" * 400_000 + b"end-A", b"B" * 700_000 + b"end-B"]
    i = 0
    print("ready", flush=True)
    while True:
        data = contents[i % 2]
        apply_changes(root, {f"f{n}.txt": Change(data) for n in range(4)})
        i += 1
    """
)


def test_a_writer_killed_at_random_points_never_leaves_a_torn_file(tmp_path: Path) -> None:
    valid = {b"A" * 400_000 + b"end-A", b"B" * 700_000 + b"end-B", b"original"}
    for n in range(4):
        (tmp_path / f"f{n}.txt").write_bytes(b"original")
    rng = random.Random(7)
    for _ in range(25):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0, 0.05))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        for n in range(4):
            assert (tmp_path / f"f{n}.txt").read_bytes() in valid, "a torn file"
    # The next write removes what a killed writer left behind.
    from paxx_env.fsio import Change, apply_changes

    apply_changes(tmp_path, {f"f{n}.txt": Change(b"final") for n in range(4)})
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"f{n}.txt" for n in range(4)]


def test_a_second_command_on_the_same_project_waits_and_says_so(project: Path) -> None:
    with exclusive_lock(project_lock_path(project)):
        second = subprocess.Popen(
            [sys.executable, "-m", "paxx_env", "-C", str(project), "feature", "add", "cache"],
            stderr=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        assert second.stderr is not None
        line = second.stderr.readline()
        assert (
            line
            == f"waiting for another paxx command on this project (pid {os.getpid()}) to finish...\n"
        )
        time.sleep(0.3)
        assert second.poll() is None, "it waits while the lock is held"
        assert not (project / ".env").exists()
    assert second.wait(timeout=60) == 0
    assert (project / ".env").exists()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs, for a full or read-only disk."""
    with tmpfs(tmp_path / "disk", "size=512k") as mount:
        yield mount


def test_a_full_disk_is_a_clear_error_and_nothing_is_half_written(
    small_disk: Path, paxx: Runner
) -> None:
    root = make_project(small_disk / "app", "app")
    filler = small_disk / "filler"
    free = shutil.disk_usage(small_disk).free
    filler.write_bytes(b"x" * (free - 12_000))
    before = tree_checksum(root)
    result = paxx(root, "feature", "add", "cache", "db", "storage", "email", "search", "tracing")
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0].startswith("paxx: error: no space left on the device while writing ")
    assert lines[0].endswith("; nothing was changed")
    assert lines[1] == "  fix: free some disk space and run the command again"
    assert tree_checksum(root) == before


def test_a_read_only_project_is_a_clear_error(small_disk: Path, paxx: Runner) -> None:
    root = make_project(small_disk / "app", "app")
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    before = tree_checksum(root)
    result = paxx(root, "feature", "add", "cache")
    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0].startswith("paxx: error: cannot write ")
    assert lines[0].endswith("(Read-only file system); nothing was changed")
    assert (
        lines[1]
        == "  fix: make the project folder writable for your user and run the command again"
    )
    assert tree_checksum(root) == before


def test_without_docker_installed_engine_commands_fail_in_two_lines(
    project: Path, tmp_path: Path
) -> None:
    # A PATH with python but no docker: the narrow seam for a machine without Docker.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    assert run_cli(project, "feature", "add", "cache").code == 0
    result = run_cli(project, "up", env={"PATH": str(bin_dir)})
    assert result.code == 1
    assert result.err.splitlines() == [
        "paxx: error: the docker command is not installed",
        "  fix: install Docker Engine with the Compose v2 plugin: https://docs.docker.com/engine/install/",
    ]


def test_a_taken_preferred_port_is_named_when_paxx_picks_another(
    tmp_path: Path, paxx: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from paxx_env.paths import catalog_root

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        catalog = tmp_path / "catalog"
        shutil.copytree(catalog_root() / "profiles" / "cache", catalog / "profiles" / "cache")
        (catalog / "services").mkdir()
        shutil.copy(catalog_root() / "services" / "redis.yaml", catalog / "services")
        valkey = (catalog_root() / "services" / "valkey.yaml").read_text()
        (catalog / "services" / "valkey.yaml").write_text(
            valkey.replace("PAXX_VALKEY_PORT: 6379", f"PAXX_VALKEY_PORT: {port}")
        )
        monkeypatch.setenv("PAXX_CATALOG", str(catalog))
        root = make_project(tmp_path / "app", "app")
        result = paxx(root, "feature", "add", "cache")
    assert result.code == 0, result.output
    program = Path("/proc/self/comm").read_text().strip()
    chosen = envblock.read_env((root / ".env").read_text()).block["PAXX_VALKEY_PORT"]
    assert int(chosen) > port
    assert [line for line in result.out.splitlines() if "note" in line] == [
        f"     note  PAXX_VALKEY_PORT: port {port} is taken by pid {os.getpid()} ({program}), "
        f"so paxx chose {chosen} (kept in .env)"
    ]
