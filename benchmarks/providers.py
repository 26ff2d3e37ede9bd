#!/usr/bin/env python3
"""Providers side by side: time from `paxx up` to healthy, and image size, per provider.

    .venv/bin/python benchmarks/providers.py              # 5 cold starts per provider
    .venv/bin/python benchmarks/providers.py --repeat 9

One throwaway project per service that a feature's providers run (cache, tasks and
websocket share theirs; search in PostgreSQL runs none of its own). The cold starts (no
container, no volume) are interleaved, so load on the machine hits every provider alike.
"healthy in" is what `paxx up` reports: from the service's start until its own health check
passes, with paxx's probes. Prints a Markdown table. The images must be present; those the
offline hub serves are stand-ins (labelled `offline-hub.upstream`), and the table says so.
It uses the benchmark's workbench (paxxbench), so DOCKER_HOST selects the engine as there.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics

from paxx_env.catalog import load_catalog
from paxxbench.workbench import Bench, Stack

HEALTHY = re.compile(r"^(?P<service>\S+)\s+healthy in (?P<seconds>[0-9.]+) s$", re.MULTILINE)


def provider_stacks(bench: Bench) -> dict[tuple[str, str, str], Stack]:
    """(feature, provider, service) -> a project running that provider, its ports moved."""
    catalog = load_catalog()
    stacks: dict[tuple[str, str, str], Stack] = {}
    for feature, spec in sorted(catalog.features.items()):
        for provider, given in spec.profile.providers.items():
            if not spec.profile.has_choice or len(given.services) != 1:
                continue
            (service,) = given.services
            if any(key[2] == service for key in stacks):
                continue
            stack = bench.new_project(f"{feature}-{provider}")
            bench.stacks.append(stack)
            bench.paxx_cmd(stack, "feature", "add", feature, "--provider", provider)
            bench.move_ports(stack)
            bench.paxx_cmd(stack, "feature", "add", feature)  # re-derives URLs from them
            stack.name = stack.dotenv()["COMPOSE_PROJECT_NAME"]
            stacks[(feature, provider, service)] = stack
    return stacks


def image_facts(bench: Bench, image: str) -> tuple[str, str]:
    """(size in MB, 'stand-in' or 'upstream') of a local image."""
    template = '{{.Size}} {{index .Config.Labels "offline-hub.upstream"}}'
    out = bench.docker("image", "inspect", "--format", template, image).stdout.split()
    return f"{int(out[0]) / 1e6:.0f}", "stand-in" if len(out) > 1 else "upstream"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    catalog = load_catalog()
    bench = Bench(options.repeat)
    try:
        stacks = provider_stacks(bench)
        times: dict[tuple[str, str, str], list[float]] = {key: [] for key in stacks}
        for _ in range(options.repeat):
            for key, stack in stacks.items():
                bench.reset(stack)
                up = bench.paxx_cmd(stack, "up", "--timeout", "300")
                times[key] += [float(m["seconds"]) for m in HEALTHY.finditer(up.stderr)]
        images = {key: image_facts(bench, catalog.services[key[2]].image) for key in stacks}
    finally:
        bench.cleanup()
    load = os.getloadavg()[0]
    print(f"{options.repeat} cold starts each, interleaved; load average at the end {load:.1f}\n")
    print("| feature | provider | image | size (MB) | image is | healthy in, median (min–max) |")
    print("|---|---|---|---|---|---|")
    for key, seconds in times.items():
        feature, provider, service = key
        size, kind = images[key]
        print(
            f"| {feature} | {provider} | `{catalog.services[service].image}` | {size} | {kind} | "
            f"{statistics.median(seconds):.1f} s ({min(seconds):.1f}–{max(seconds):.1f}) |"
        )


if __name__ == "__main__":
    main()
