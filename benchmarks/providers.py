#!/usr/bin/env python3
"""Providers side by side: time from `paxx up` to healthy, and image size, per provider.

    .venv/bin/python benchmarks/providers.py              # 5 cold starts per provider
    .venv/bin/python benchmarks/providers.py --repeat 9

For each feature with a choice of provider, a throwaway project per provider; the providers'
cold starts (no container, no volume) are interleaved, so load on the machine hits them alike.
"healthy in" is what `paxx up` reports for the service: from its start until its own health
check passes, with paxx's probes. Prints a Markdown table; the images must be present (the
images of the offline hub here are stand-ins, labelled `offline-hub.upstream`).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from paxx_env.catalog import load_catalog  # noqa: E402

HEALTHY = re.compile(r"^(?P<service>\S+)\s+healthy in (?P<seconds>[0-9.]+) s$", re.MULTILINE)


def paxx(root: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "paxx_env", "-C", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise SystemExit(f"paxx {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done


def image_facts(image: str) -> tuple[str, str]:
    """(size in MB, 'stand-in' or 'upstream') of a local image."""
    out = subprocess.run(
        [
            "docker",
            "image",
            "inspect",
            "--format",
            '{{.Size}} {{index .Config.Labels "offline-hub.upstream"}}',
            image,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return f"{int(out[0]) / 1e6:.0f}", "stand-in" if len(out) > 1 else "upstream"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    catalog = load_catalog()
    choices = [(n, f) for n, f in sorted(catalog.features.items()) if f.profile.has_choice]
    with tempfile.TemporaryDirectory(prefix="paxx-providers-") as folder:
        env = {**os.environ, "XDG_STATE_HOME": f"{folder}/state"}
        projects = {}
        seen: set[str] = set()
        for feature, spec in choices:
            for provider, given in spec.profile.providers.items():
                # One project per service: cache, tasks and websocket share theirs; search in
                # postgres runs none of its own.
                if not given.services or set(given.services) <= seen:
                    continue
                seen.update(given.services)
                root = Path(folder) / f"bench-{feature}-{provider}"
                root.mkdir()
                (root / "pyproject.toml").write_text(
                    f'[project]\nname = "bench-{feature}-{provider}"\nversion = "0"\n'
                )
                paxx(root, "feature", "add", feature, "--provider", provider, env=env)
                projects[(feature, provider)] = root
        times: dict[tuple[str, str], list[float]] = {key: [] for key in projects}
        try:
            for _ in range(options.repeat):
                for key, root in projects.items():
                    paxx(root, "down", "--volumes", "--yes", env=env)
                    up = paxx(root, "up", "--timeout", "300", env=env)
                    times[key] += [float(m["seconds"]) for m in HEALTHY.finditer(up.stderr)]
        finally:
            for root in projects.values():
                paxx(root, "down", "--volumes", "--yes", env=env)
    load = os.getloadavg()[0]
    print(f"{options.repeat} cold starts each, interleaved; load average at the end {load:.1f}\n")
    print("| feature | provider | image | size (MB) | image is | healthy in, median (min–max) |")
    print("|---|---|---|---|---|---|")
    for (feature, provider), seconds in times.items():
        (service,) = catalog.provider(feature, provider).services
        image = catalog.services[service].image
        size, kind = image_facts(image)
        print(
            f"| {feature} | {provider} | `{image}` | {size} | {kind} | "
            f"{statistics.median(seconds):.1f} s ({min(seconds):.1f}–{max(seconds):.1f}) |"
        )


if __name__ == "__main__":
    main()
