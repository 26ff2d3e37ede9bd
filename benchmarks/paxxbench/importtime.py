"""Reading `python -X importtime`: which imports a start-up spends its time on."""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict

#: depth, module, the module that imported it ("" at depth 0), own µs, cumulative µs
Import = tuple[int, str, str, int, int]


def parse_importtime(stderr: str) -> list[Import]:
    """Each line of `-X importtime`, with the module that imported it.

    importtime prints a module's imports before the module itself, so a module's parent is
    the next line one level up.
    """
    lines = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, self_us, cumulative, name = re.split(r"[:|]", line, maxsplit=3)
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        lines.append((depth, name.strip(), int(self_us), int(cumulative)))
    found: list[Import] = []
    parents: dict[int, str] = {}
    for depth, name, own, cumulative in reversed(lines):
        parents[depth] = name
        found.append((depth, name, parents.get(depth - 1, "") if depth else "", own, cumulative))
    return found[::-1]


def total_seconds(parsed: list[list[Import]]) -> float:
    """The median over runs of the time spent in all imports (the sum of own times)."""
    return statistics.median(sum(own for _, _, _, own, _ in p) for p in parsed) / 1e6


def top_imports(parsed: list[list[Import]]) -> list[tuple[str, float]]:
    """Imports at depth 0 and 1 by median cumulative time (seconds), largest first."""
    per_module: dict[str, list[int]] = defaultdict(list)
    for entries in parsed:
        for depth, name, parent, _, cumulative in entries:
            if depth <= 1:
                per_module[f"{parent} › {name}" if parent else name].append(cumulative)
    ranked = [(name, statistics.median(v) / 1e6) for name, v in per_module.items()]
    return sorted(ranked, key=lambda item: -item[1])


def median_packages(parsed: list[list[Import]]) -> list[tuple[str, float]]:
    """Top-level packages by the median sum of their modules' own time (seconds)."""
    per_package: dict[str, list[float]] = defaultdict(list)
    for entries in parsed:
        sums: Counter[str] = Counter()
        for _, name, _, own, _ in entries:
            sums[name.split(".")[0].lstrip("_") or name] += own
        for package, total in sums.items():
            per_package[package].append(total)
    ranked = [(name, statistics.median(v) / 1e6) for name, v in per_package.items()]
    return sorted(ranked, key=lambda item: -item[1])
