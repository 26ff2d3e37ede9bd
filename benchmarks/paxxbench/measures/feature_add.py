"""P5: `paxx feature add` of every feature of the catalog, in a fresh project."""

from __future__ import annotations

from paxxbench.checkout import all_features
from paxxbench.importtime import median_packages, parse_importtime, total_seconds
from paxxbench.measure import Measure, Stage
from paxxbench.results import Section, Target, table
from paxxbench.runner import Run, run
from paxxbench.stats import Stats, fmt, rss, walls
from paxxbench.workbench import Bench, Stack


def measure_feature_add(bench: Bench, _stack: Stack) -> Section:
    """P5: all features at once, and one after another (each in a fresh project)."""
    features = all_features()
    section = Section(f"P5 · `paxx feature add` of all {len(features)} features")
    together: list[Run] = []
    one_by_one: list[float] = []
    for _ in range(bench.repeat):
        fresh = bench.new_project("features")
        together.append(bench.paxx_cmd(fresh, "feature", "add", *features))
        fresh = bench.new_project("features")
        one_by_one.append(
            sum(bench.paxx_cmd(fresh, "feature", "add", name).wall for name in features)
        )
    section.add(
        f"Each run in a fresh project with a fresh XDG_STATE_HOME ({bench.repeat} runs). "
        f"Features: {', '.join(features)}.",
        table(
            ["command", "wall time, median (min–max)", "peak RSS"],
            [
                [
                    f"`paxx feature add {' '.join(features)}`",
                    walls(together).fmt(),
                    rss(together).fmt("MB"),
                ],
                [
                    f"{len(features)} × `paxx feature add NAME`, one after another (sum)",
                    Stats(one_by_one).fmt(),
                    "",
                ],
            ],
        ),
    )
    median = walls(together).median
    imports, packages = import_share(bench, features)
    section.add(
        f"Of a run, {fmt(imports, 's')} is imports (`python -X importtime`, one more run in a "
        "fresh project); the packages that take most: "
        + ", ".join(f"{name} {fmt(seconds, 's')}" for name, seconds in packages)
        + ". The rest is reading the catalog, rendering and writing the files."
    )
    section.notes += why_not(median, imports, packages)
    section.targets.append(
        Target(
            f"P5 `paxx feature add` of all {len(features)} features",
            fmt(median, "s"),
            "≤ 1 s",
            median <= 1.0,
        )
    )
    section.reproduce = [
        "# P5 (fresh project and XDG_STATE_HOME each time)",
        "paxx feature add " + " ".join(features),
    ]
    return section


def import_share(bench: Bench, features: list[str]) -> tuple[float, list[tuple[str, float]]]:
    """The import time of one `feature add` of every feature, and its five largest packages."""
    fresh = bench.new_project("features")
    argv = [bench.python, "-X", "importtime", "-m", "paxx_env", "feature", "add", *features]
    parsed = [parse_importtime(run(argv, fresh.folder, bench.env(fresh)).stderr)]
    return total_seconds(parsed), median_packages(parsed)[:5]


def why_not(median: float, imports: float, packages: list[tuple[str, float]]) -> list[str]:
    """Why P5 is above 1 s, from this run's numbers."""
    if median <= 1.0:
        return []
    largest = ", ".join(name for name, _ in packages[:3])
    return [
        f"**Why `paxx feature add` of every feature takes more than 1 s (P5).** It takes "
        f"{fmt(median, 's')}, of which {fmt(imports, 's')} is imports ({largest} take "
        "most); the rest reads the catalog, renders the files (the client modules are Jinja2 "
        "templates, compiled on every run) and writes them. What would close it: fewer "
        "imports on this path, and compiled templates kept between runs."
    ]


MEASURE = Measure("P5 feature add", Stage.STOPPED, measure_feature_add)
