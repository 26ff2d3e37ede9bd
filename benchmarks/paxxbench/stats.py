"""Repeated measurements: their median and spread, and how the page writes a number."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from paxxbench.runner import Run

MB = 1024  # ru_maxrss and GNU time's %M are in KiB on Linux


@dataclass
class Stats:
    """Repeated measurements of one quantity."""

    values: list[float]

    @property
    def median(self) -> float:
        """The median of the values."""
        return statistics.median(self.values)

    def fmt(self, unit: str = "s") -> str:
        """`median (min–max)`, or just the value when there is one."""
        mid = fmt(self.median, unit)
        if len(self.values) < 2:
            return mid
        return f"{mid} ({fmt(min(self.values), unit)}–{fmt(max(self.values), unit)})"


def fmt(value: float, unit: str) -> str:
    """One value: seconds as ms below one second, MB and % with fixed decimals."""
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "%":
        return f"{value:.2f} %"
    return f"{value:.1f}{unit}"


def rss(runs: Sequence[Run]) -> Stats:
    """The peak RSS of each run, in MB."""
    return Stats([r.maxrss_kb / MB for r in runs])


def cpu(runs: Sequence[Run]) -> Stats:
    """The CPU time (user + system) of each run and the children it waited for, in seconds."""
    return Stats([r.cpu for r in runs])


def walls(runs: Sequence[Run]) -> Stats:
    """The wall-clock time of each run, in seconds."""
    return Stats([r.wall for r in runs])


def fit_line(xs: Sequence[int], ys: Sequence[float]) -> tuple[float, float]:
    """The least-squares line through the points: (slope, intercept)."""
    if len(xs) < 2:
        return (ys[0] / xs[0] if xs else 0.0), 0.0
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    return slope, mean_y - slope * mean_x
