"""P1: from nothing to all healthy: `paxx up`, `compose up --wait`, and the services themselves."""

from __future__ import annotations

from paxxbench.engine import health_check_costs, wait_docker_healthy
from paxxbench.measure import Measure, Stage
from paxxbench.measures.cold_runs import ColdRuns, cold_runs
from paxxbench.paxxlog import describe_calls, docker_calls, phases_table, up_timeline
from paxxbench.probes import PROBES
from paxxbench.results import Section, Target, table
from paxxbench.runner import Run, log
from paxxbench.stats import Stats, fmt, rss, walls
from paxxbench.workbench import Bench, Stack

NO_START_INTERVAL = (
    "This engine has no health-check `start_interval` (API < 1.44): Docker runs a "
    "container's first health check one interval (10 s) after its start, and "
    "`docker compose up --wait` waits for it, so it ends about 10 s after the last "
    "container started whatever the services do. `paxx up` runs the same checks itself "
    "with `docker exec` while it waits."
)
#: Printed under the summary when a P1 target is not met.
WHY_NOT_MET = (
    "**Why P1 against the services' own readiness is not met.** The budget (0.5 s "
    "over the moment the last service answers, counted from the start of `docker "
    "compose up`) is smaller than what paxx spends before that start: the Python "
    "interpreter and paxx's imports (pydantic for the declaration and catalog, Jinja2, "
    "PyYAML, tomlkit, typer: about 0.4 s on this machine), checking the engine, "
    "rendering and writing the files (about 0.1 s), and python-on-whales, which starts "
    "the containers and loads in the background meanwhile (about 0.3 s of CPU on two "
    "cores). The services also come up later while `paxx up` runs than alone "
    "(postgres by about a second, see *ready during `paxx up`* in the P1 section): "
    "on two cores, paxx's own start and its probes share the CPU with them; the probe "
    "pause grows from 0.1 s to 0.5 s to keep `docker exec` from adding to that."
)
#: Its last sentence, true only of an engine without start_interval.
WHY_NOT_MET_OLD_ENGINE = (
    " Against what a user would otherwise run, `docker compose up -d --wait`, "
    "paxx is more than twice as fast on this engine (it has no health-check "
    "`start_interval`, so Compose waits one 10 s interval)."
)


def measure_cold_up(bench: Bench, stack: Stack) -> Section:
    """P1: the three ways `bench.repeat` times each, then one `paxx -v up` to look inside."""
    section = Section("P1 · Cold start of six services: `paxx up` vs `docker compose up -d --wait`")
    cold = cold_runs(bench, stack)
    log("P1: one more cold `paxx -v up`, for its engine calls and phases")
    verbose = bench.paxx_cmd(stack, "-v", "up", timeout=400)
    wait_docker_healthy(bench, stack)
    exec_costs = health_check_costs(bench, stack, bench.repeat * 2)
    bench.reset(stack)

    if not bench.start_interval:
        section.add(NO_START_INTERVAL)
    section.add(
        f"Each run starts from nothing (`docker compose down --volumes` before it), images "
        f"present; {bench.repeat} runs of each, the order rotated between repetitions. "
        "*Own readiness*: `docker compose up --detach` (no waiting) while the host probes each "
        "service's own protocol every 10 ms, from the moment the command starts; the stack is "
        "ready when the last service answers.",
        overview_table(cold),
        "When each service was ready. *Own readiness* counts from the start of "
        "`docker compose up -d`. *Ready during `paxx up`* is when the service answered the "
        "same host probe (every 50 ms) while `paxx up` ran, counted from the start of "
        "`paxx up`; *healthy in* is what `paxx up` prints, counted from its own call of "
        "`docker compose up`.",
        readiness_table(cold),
        f"`paxx up` exited {cell(cold.paxx_after_ready)} after the last service answered the "
        "host probe in the same run.",
        "How paxx waited: `exec_start` events on each container during the command "
        "(`docker events`) — health checks run by Docker, and by paxx with `docker exec` — "
        "with when the first and the last started (from the start of `paxx up`) and the "
        "median time between two. *One check* is the wall time of the service's health check "
        f"run once with `docker exec` on the running, idle container ({bench.repeat * 2} runs).",
        execs_table(cold, exec_costs),
    )
    section.add(*inside(verbose))
    section.targets += targets(cold)
    if any(t.met is False for t in section.targets):
        section.notes.append(WHY_NOT_MET + ("" if bench.start_interval else WHY_NOT_MET_OLD_ENGINE))
    section.reproduce = [
        "# P1 cold start (before each: docker compose down --volumes --remove-orphans)",
        "paxx up",
        "docker compose up --detach --wait      # .env sets COMPOSE_FILE and COMPOSE_PROJECT_NAME",
        "docker compose up --detach             # + host probes every 10 ms "
        "(benchmarks/paxxbench/probes.py)",
    ]
    return section


def cell(values: list[float], unit: str = "s") -> str:
    """`median (min–max)` of the values, or `-` when there are none."""
    return Stats(values).fmt(unit) if values else "-"


def overview_table(cold: ColdRuns) -> str:
    """Until all ready, each way, against `compose --wait`."""
    paxx, compose, own = walls(cold.paxx), walls(cold.compose_wait), Stats(cold.own_ready)
    return table(
        ["how", "until all ready, median (min–max)", "peak RSS", "vs compose --wait"],
        [
            [
                "`paxx up`",
                paxx.fmt(),
                rss(cold.paxx).fmt("MB"),
                f"{paxx.median / compose.median:.2f} ×",
            ],
            [
                "`docker compose up -d --wait`",
                compose.fmt(),
                rss(cold.compose_wait).fmt("MB"),
                "1.00 ×",
            ],
            [
                "own readiness (`docker compose up -d` + host probes)",
                own.fmt(),
                rss(cold.compose_detach).fmt("MB"),
                f"{own.median / compose.median:.2f} ×",
            ],
            ["… of which `docker compose up -d` itself", walls(cold.compose_detach).fmt(), "", ""],
        ],
    )


def readiness_table(cold: ColdRuns) -> str:
    """When each service was ready: alone, during `paxx up`, and as `paxx up` printed it."""
    return table(
        ["service", "host probe", "own readiness", "ready during `paxx up`", "healthy in"],
        [
            [
                name,
                PROBES[name][0],
                cell(cold.own_per_service[name]),
                cell(cold.paxx_ready[name]),
                cell(cold.paxx_per_service[name]),
            ]
            for name in sorted(PROBES)
        ],
    )


def execs_table(cold: ColdRuns, exec_costs: dict[str, Stats]) -> str:
    """The execs on each container during `paxx up` and `compose --wait`, and one's cost."""
    return table(
        [
            "service",
            "execs, `paxx up`",
            "first",
            "last",
            "every",
            "execs, `compose --wait`",
            "one check by `docker exec`",
        ],
        [
            [
                name,
                cell(cold.paxx_execs[name], ""),
                cell(cold.paxx_first_exec[name]),
                cell(cold.paxx_last_exec[name]),
                cell(cold.paxx_exec_gap[name]),
                cell(cold.compose_execs[name], ""),
                exec_costs[name].fmt() if name in exec_costs else "-",
            ]
            for name in sorted(PROBES)
        ],
    )


def inside(verbose: Run) -> list[str]:
    """The phases and engine calls of one cold `paxx -v up`."""
    paragraphs = []
    phases = up_timeline(verbose)
    if phases:
        paragraphs += [
            f"Where the time of one more cold `paxx -v up` went ({fmt(verbose.wall, 's')} in "
            "all), from the timestamps of its debug log:",
            phases_table(phases),
        ]
    paragraphs.append(
        "Engine calls of that `paxx -v up`, besides the `docker exec` probes: "
        f"{describe_calls(docker_calls(verbose.stderr))}."
    )
    return paragraphs


def targets(cold: ColdRuns) -> list[Target]:
    """P1's targets: against `compose --wait`, and against the services' own readiness."""
    paxx, compose = walls(cold.paxx).median, walls(cold.compose_wait).median
    own = Stats(cold.own_ready).median
    return [
        Target(
            "P1 cold `paxx up` vs `docker compose up -d --wait`",
            f"{paxx:.2f} s vs {compose:.2f} s = {paxx / compose:.2f} ×",
            "≤ 1.10 ×",
            paxx <= 1.10 * compose,
        ),
        Target(
            "P1 cold `paxx up` vs the services' own readiness",
            f"{paxx:.2f} s vs {own:.2f} s = +{paxx - own:.2f} s",
            "≤ +0.5 s",
            paxx <= own + 0.5,
        ),
    ]


MEASURE = Measure("P1 cold start", Stage.COLD, measure_cold_up)
