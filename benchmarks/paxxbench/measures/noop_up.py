"""P2: `paxx up` when everything is already healthy, against a no-op `compose up -d --wait`."""

from __future__ import annotations

from paxxbench.measure import Measure, Stage
from paxxbench.paxxlog import describe_calls, docker_calls, phases_table, up_timeline
from paxxbench.results import Section, Target, table
from paxxbench.runner import Run
from paxxbench.stats import fmt, rss, walls
from paxxbench.workbench import Bench, Stack


def measure_noop_up(bench: Bench, stack: Stack) -> Section:
    """P2: both commands interleaved on the running stack, then one `paxx -v up`."""
    section = Section("P2 · `paxx up` when everything is already healthy")
    bench.paxx_cmd(stack, "up")  # warm-up
    bench.compose(stack, "up", "--detach", "--wait")
    paxx: list[Run] = []
    compose: list[Run] = []
    for _ in range(bench.repeat):
        paxx.append(bench.paxx_cmd(stack, "up"))
        compose.append(bench.compose(stack, "up", "--detach", "--wait"))
    verbose = bench.paxx_cmd(stack, "-v", "up")
    ratio = walls(paxx).median / walls(compose).median
    section.add(
        f"The stack running and healthy (Docker says so too); {bench.repeat} runs each, "
        "interleaved, after one warm-up run.",
        table(
            ["command", "wall time, median (min–max)", "peak RSS", "ratio"],
            [
                ["`paxx up`", walls(paxx).fmt(), rss(paxx).fmt("MB"), f"{ratio:.2f} ×"],
                [
                    "`docker compose up -d --wait`",
                    walls(compose).fmt(),
                    rss(compose).fmt("MB"),
                    "1.00 ×",
                ],
            ],
        ),
        f"Engine calls of `paxx -v up` here: {describe_calls(docker_calls(verbose.stderr))}.",
    )
    phases = up_timeline(verbose)
    if phases:
        section.add(
            f"Where the time of that `paxx -v up` went ({fmt(verbose.wall, 's')} in all):",
            phases_table(phases),
        )
    section.targets.append(
        Target(
            "P2 no-op `paxx up` vs no-op `docker compose up -d --wait`",
            f"{walls(paxx).median:.2f} s vs {walls(compose).median:.2f} s = {ratio:.2f} ×",
            "≤ 1.2 ×",
            ratio <= 1.2,
        )
    )
    section.reproduce = [
        "# P2 everything already healthy",
        "paxx up",
        "docker compose up --detach --wait",
    ]
    return section


MEASURE = Measure("P2 no-op up", Stage.RUNNING, measure_noop_up)
