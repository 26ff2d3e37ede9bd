"""What the numbers ran on: the machine, the engine, Compose, paxx, and the stack's images."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
from pathlib import Path
from typing import Any

from paxxbench.runner import run
from paxxbench.workbench import Bench, Stack


def engine_label(bench: Bench, stack: Stack) -> str:
    """The stack's engine as the page names it: `Docker 20.10.24 (API 1.41)`."""
    version: dict[str, Any] = json.loads(
        bench.docker("version", "--format", "{{json .}}", stack=stack).stdout
    )
    server = version.get("Server") or {}
    return f"Docker {server.get('Version', '?')} (API {server.get('ApiVersion', '?')})"


def machine(bench: Bench, stack: Stack) -> dict[str, str]:
    """The Machine table: CPU, memory, kernel, the stack's engine and Compose, paxx, Python."""
    os_name = _os_name()
    return {
        "CPUs": f"{os.cpu_count()} × {_cpu_model()}".rstrip(" ×"),
        "memory": _memory(),
        "kernel": f"{platform.system()} {platform.release()}"
        + (f" ({os_name})" if os_name else ""),
        "Docker Engine": engine_label(bench, stack).removeprefix("Docker "),
        "Docker Compose": bench.docker("compose", "version", "--short", stack=stack).stdout.strip(),
        "paxx": run([bench.paxx, "--version"], stack.folder, bench.env(stack))
        .stdout.strip()
        .removeprefix("paxx "),
        "Python": platform.python_version(),
    }


def has_start_interval(label: str) -> bool:
    """Whether an engine (as engine_label names it) takes a health check's start_interval."""
    api = re.findall(r"\d+", label.partition("API ")[2])
    return tuple(int(part) for part in api[:2]) >= (1, 44)


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return ""


def _memory() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return ""


def _os_name() -> str:
    with contextlib.suppress(OSError):
        return platform.freedesktop_os_release().get("PRETTY_NAME", "")
    return ""


def images(bench: Bench, stack: Stack) -> list[list[str]]:
    """The image of each service: reference, id, and whether the engine holds a stand-in."""
    rows = []
    for path in sorted((stack.folder / ".paxx" / "services").glob("*.yaml")):
        match = re.search(r"^\s+image: (\S+)", path.read_text(), re.MULTILINE)
        if not match:
            continue
        inspected = bench.docker(
            "image",
            "inspect",
            "--format",
            "{{.Id}} {{json .Config.Labels}}",
            match[1],
            stack=stack,
            check=False,
        ).stdout.strip()
        image_id, _, labels_json = inspected.partition(" ")
        labels = json.loads(labels_json or "null") or {}
        standin = next((v for k, v in labels.items() if k.endswith(".standin")), "")
        rows.append(
            [path.stem, f"`{match[1]}`", image_id.removeprefix("sha256:")[:12], standin or "-"]
        )
    return rows
