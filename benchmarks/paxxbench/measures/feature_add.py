"""P5: `paxx feature add` of every feature of the catalog, in a fresh project."""

from __future__ import annotations

from paxxbench.checkout import all_features
from paxxbench.measure import Measure, Stage
from paxxbench.results import Section, Target, table
from paxxbench.runner import Run
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


MEASURE = Measure("P5 feature add", Stage.STOPPED, measure_feature_add)
