"""P3: `paxx status` against `docker compose ps --format json` on the running stack."""

from __future__ import annotations

from paxxbench.measure import Measure, Stage
from paxxbench.paxxlog import describe_calls, docker_calls
from paxxbench.results import Section, Target, table
from paxxbench.runner import Run
from paxxbench.stats import fmt, rss, walls
from paxxbench.workbench import Bench, Stack


def measure_status(bench: Bench, stack: Stack) -> Section:
    """P3: both commands interleaved, then one `paxx -v status` for its engine calls."""
    section = Section("P3 · `paxx status` vs `docker compose ps --format json`")
    bench.paxx_cmd(stack, "status")  # warm-up
    bench.compose(stack, "ps", "--format", "json")
    paxx: list[Run] = []
    compose: list[Run] = []
    for _ in range(bench.repeat * 2):
        paxx.append(bench.paxx_cmd(stack, "status"))
        compose.append(bench.compose(stack, "ps", "--format", "json"))
    verbose = bench.paxx_cmd(stack, "-v", "status")
    ratio = walls(paxx).median / walls(compose).median
    section.add(
        f"The six services running; {bench.repeat * 2} runs each, interleaved, after one "
        "warm-up run.",
        table(
            ["command", "wall time, median (min–max)", "peak RSS", "ratio"],
            [
                ["`paxx status`", walls(paxx).fmt(), rss(paxx).fmt("MB"), f"{ratio:.2f} ×"],
                [
                    "`docker compose ps --format json`",
                    walls(compose).fmt(),
                    rss(compose).fmt("MB"),
                    "1.00 ×",
                ],
            ],
        ),
        f"Engine calls of `paxx -v status`: {describe_calls(docker_calls(verbose.stderr))}.",
    )
    section.targets.append(
        Target(
            "P3 `paxx status` vs `docker compose ps --format json`",
            f"{fmt(walls(paxx).median, 's')} vs {fmt(walls(compose).median, 's')} = {ratio:.2f} ×",
            "≤ 1.3 ×",
            ratio <= 1.3,
        )
    )
    section.reproduce = ["# P3", "paxx status", "docker compose ps --format json"]
    return section


MEASURE = Measure("P3 status", Stage.RUNNING, measure_status)
