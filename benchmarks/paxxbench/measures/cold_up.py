"""P1: from nothing to all healthy: `paxx up`, `compose up --wait`, and the services themselves."""

from __future__ import annotations

from dataclasses import dataclass

from paxxbench.engine import health_check_costs, wait_docker_healthy
from paxxbench.importtime import median_packages, parse_importtime, top_imports, total_seconds
from paxxbench.measure import Measure, Stage
from paxxbench.measures.cold_runs import ColdRuns, cold_runs
from paxxbench.measures.startup import offenders_table
from paxxbench.paxxlog import describe_calls, docker_calls, phases_table, up_timeline
from paxxbench.probes import PROBES
from paxxbench.results import Section, Target, table
from paxxbench.runner import Run, log, run
from paxxbench.stats import Stats, cpu, fmt, rss, walls
from paxxbench.workbench import Bench, Stack

NO_START_INTERVAL = (
    "This engine has no health-check `start_interval` (API < 1.44): Docker runs a "
    "container's first health check one interval (10 s) after its start, and "
    "`docker compose up --wait` waits for it, so it ends about 10 s after the last "
    "container started whatever the services do."
)
START_INTERVAL = (
    "This engine has a health-check `start_interval`: paxx's per-machine overlay sets it to "
    "0.5 s, so Docker runs each container's check every 0.5 s until it passes, and "
    "`docker compose up --wait` ends at the first check that passes after the service is "
    "ready. Each of those checks is a process started in the container (`exec_start` below), "
    "for `paxx up` too: the services start beside them either way."
)


@dataclass(frozen=True)
class Engine:
    """The engine a P1 section measures: its name for targets and titles."""

    #: "P1" or "P1'"
    name: str
    #: "Docker 20.10.24 (API 1.41)"
    label: str
    start_interval: bool
    #: the limit of `paxx up` against `compose up --wait`
    ratio_limit: float


def measure_cold_up(bench: Bench, stack: Stack) -> Section:
    """P1 on the engine of the run."""
    return cold_section(bench, stack, Engine("P1", bench.engine_label, bench.start_interval, 1.10))


def cold_section(bench: Bench, stack: Stack, engine: Engine) -> Section:
    """The three ways `bench.repeat` times each, then one `paxx -v up` and one importtime."""
    section = Section(
        f"{engine.name} · Cold start of six services on {engine.label}: "
        "`paxx up` vs `docker compose up -d --wait`"
    )
    cold = cold_runs(bench, stack)
    log(f"{engine.name}: one more cold `paxx -v up`, for its engine calls and phases")
    verbose = bench.paxx_cmd(stack, "-v", "up", timeout=400)
    wait_docker_healthy(bench, stack)
    exec_costs = health_check_costs(bench, stack, bench.repeat * 2)
    bench.reset(stack)
    imports = cold_imports(bench, stack)
    section.add(START_INTERVAL if engine.start_interval else NO_START_INTERVAL)
    section.add(
        runs_text(bench, cold),
        overview_table(cold),
        "When each service was ready. *Own readiness* counts from the start of "
        "`docker compose up -d`. *Ready during `paxx up`* is when the service answered the "
        "same host probe (every 50 ms) while `paxx up` ran, counted from the start of "
        "`paxx up`, so it holds paxx's own start before it calls Compose. *Slower* compares "
        "the time from the service's container start (its `start` event in `docker events`) "
        "until it answered: during `paxx up` minus alone, medians; what paxx's waiting costs "
        "the service itself. *Healthy in* is what `paxx up` prints, counted from its own call "
        "of `docker compose up`.",
        readiness_table(cold),
        f"`paxx up` exited {cell(cold.paxx_after_ready)} after the last service answered the "
        f"host probe in the same run. Docker itself said every service healthy "
        f"{cell(cold.docker_after)} after `paxx up` returned (polled every 0.5 s): until then "
        "`docker ps` says `health: starting` while `paxx status` says `healthy`."
        + (
            f" After {cold.docker_never} run(s) Docker did not say so within 90 s."
            if cold.docker_never
            else ""
        ),
        "What ran in the containers while each command waited: `exec_start` events "
        "(`docker events`) — Docker's own health checks, and any `docker exec` — with when the "
        "first and the last started (from the start of the command) and the median time "
        "between two. *One check* is the wall time of the service's health check run once "
        f"with `docker exec` on the running, idle container ({bench.repeat * 2} runs).",
        execs_table(cold, exec_costs),
    )
    section.add(*inside(verbose), *imports)
    section.targets += targets(cold, engine)
    section.notes += why_not(cold, engine, up_timeline(verbose))
    section.reproduce = [
        f"# {engine.name} cold start (before each: docker compose down --volumes --remove-orphans)",
        "paxx up",
        "docker compose up --detach --wait      # .env sets COMPOSE_FILE and COMPOSE_PROJECT_NAME",
        "docker compose up --detach             # + host probes every 10 ms "
        "(benchmarks/paxxbench/probes.py)",
        "python -X importtime -m paxx_env up",
    ]
    return section


def runs_text(bench: Bench, cold: ColdRuns) -> str:
    """How the cold runs were made, and what each column holds."""
    return (
        f"Each run starts from nothing (`docker compose down --volumes` before it), images "
        f"present; {bench.repeat} runs of each, the order rotated between repetitions. "
        "*Own readiness*: `docker compose up --detach` (no waiting) while the host probes each "
        "service's own protocol every 10 ms, from the moment the command starts; the stack is "
        "ready when the last service answers. The files are the same for all three; `paxx up` "
        "finds them as its last sync left them, so it starts without rendering. *CPU*: user + "
        "system seconds of the command and of every command it ran (Compose included; for own "
        "readiness, of `docker compose up -d` alone: the host probes run in the benchmark). "
        f"CPU idle just before each run: {cell(cold.idle, '%')}."
    )


def cell(values: list[float], unit: str = "s") -> str:
    """`median (min–max)` of the values, or `-` when there are none."""
    if not values:
        return "-"
    if unit == "%":
        return f"{Stats(values).median:.0f} % ({min(values):.0f}–{max(values):.0f} %)"
    return Stats(values).fmt(unit)


def overview_table(cold: ColdRuns) -> str:
    """Until all ready, each way, against `compose --wait`."""
    paxx, compose, own = walls(cold.paxx), walls(cold.compose_wait), Stats(cold.own_ready)
    return table(
        ["how", "until all ready, median (min–max)", "peak RSS", "CPU", "vs compose --wait"],
        [
            [
                "`paxx up`",
                paxx.fmt(),
                rss(cold.paxx).fmt("MB"),
                cpu(cold.paxx).fmt(),
                f"{paxx.median / compose.median:.2f} ×",
            ],
            [
                "`docker compose up -d --wait`",
                compose.fmt(),
                rss(cold.compose_wait).fmt("MB"),
                cpu(cold.compose_wait).fmt(),
                "1.00 ×",
            ],
            [
                "own readiness (`docker compose up -d` + host probes)",
                own.fmt(),
                rss(cold.compose_detach).fmt("MB"),
                cpu(cold.compose_detach).fmt(),
                f"{own.median / compose.median:.2f} ×",
            ],
            [
                "… of which `docker compose up -d` itself",
                walls(cold.compose_detach).fmt(),
                "",
                "",
                "",
            ],
        ],
    )


def lag(cold: ColdRuns, name: str) -> float | None:
    """From its container's start until it answered: median during `paxx up` minus alone."""
    if not cold.paxx_after_start[name] or not cold.own_after_start[name]:
        return None
    return Stats(cold.paxx_after_start[name]).median - Stats(cold.own_after_start[name]).median


def readiness_table(cold: ColdRuns) -> str:
    """When each service was ready: alone, during `paxx up`, and as `paxx up` printed it."""
    rows = []
    for name in sorted(PROBES):
        later = lag(cold, name)
        rows.append(
            [
                name,
                PROBES[name][0],
                cell(cold.own_per_service[name]),
                cell(cold.paxx_ready[name]),
                "-" if later is None else f"{later * 1000:+.0f} ms",
                cell(cold.paxx_per_service[name]),
            ]
        )
    return table(
        [
            "service",
            "host probe",
            "own readiness",
            "ready during `paxx up`",
            "slower, from its container's start",
            "healthy in",
        ],
        rows,
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
            "all), from the timestamps of its debug log (`-v` goes through the full command "
            "line, so typer and structlog load first):",
            phases_table(phases),
        ]
    paragraphs.append(
        f"Engine calls of that `paxx -v up`: {describe_calls(docker_calls(verbose.stderr))}."
    )
    return paragraphs


def cold_imports(bench: Bench, stack: Stack) -> list[str]:
    """`python -X importtime -m paxx_env up` from nothing: what the quick start imports."""
    timed = run(
        [bench.python, "-X", "importtime", "-m", "paxx_env", "up"],
        stack.folder,
        bench.env(stack),
        timeout=400,
    )
    bench.reset(stack)
    parsed = [parse_importtime(timed.stderr)]
    loaded = {name.split(".")[0] for _, name, _, _, _ in parsed[0]}
    heavy = sorted(loaded & {"pydantic", "jinja2", "yaml", "tomlkit", "typer", "python_on_whales"})
    return [
        "What a cold `paxx up` imports (`python -X importtime -m paxx_env up`, one run from "
        f"nothing): {fmt(total_seconds(parsed), 's')} of imports in all; "
        + (
            f"of the heavy packages, {', '.join(f'`{h}`' for h in heavy)}."
            if heavy
            else "none of pydantic, Jinja2, PyYAML, tomlkit, typer or python-on-whales."
        ),
        offenders_table(top_imports(parsed)[:10], median_packages(parsed)[:8]),
    ]


def targets(cold: ColdRuns, engine: Engine) -> list[Target]:
    """Against `compose --wait`, against the services' own readiness, and per service."""
    paxx, compose = walls(cold.paxx).median, walls(cold.compose_wait).median
    own = Stats(cold.own_ready).median
    lags = {name: lag(cold, name) for name in sorted(PROBES)}
    known = {name: value for name, value in lags.items() if value is not None}
    slowest = max(known, key=lambda name: known[name]) if known else ""
    return [
        Target(
            f"{engine.name} cold `paxx up` vs `docker compose up -d --wait`, {engine.label}",
            f"{paxx:.2f} s vs {compose:.2f} s = {paxx / compose:.2f} ×",
            f"≤ {engine.ratio_limit:.2f} ×",
            paxx <= engine.ratio_limit * compose,
        ),
        Target(
            f"{engine.name} cold `paxx up` vs the services' own readiness, {engine.label}",
            f"{paxx:.2f} s vs {own:.2f} s = {paxx - own:+.2f} s",
            "≤ +0.5 s",
            paxx <= own + 0.5,
        ),
        Target(
            f"{engine.name} ready during `paxx up` vs own readiness, from the container's "
            f"start, slowest service, {engine.label}",
            f"{slowest}: {known[slowest] * 1000:+.0f} ms" if slowest else "-",
            "≤ +200 ms",
            known[slowest] <= 0.2 if slowest else None,
        ),
    ]


def ratio_note(cold: ColdRuns, engine: Engine, paxx: float, own: float, compose: float) -> str:
    """Why cold `paxx up` is above its limit against `docker compose up -d --wait`."""
    spread = max(cold.own_ready) - min(cold.own_ready)
    note = (
        f"**Why cold `paxx up` is above {engine.ratio_limit:.2f} × `docker compose up -d "
        f"--wait` ({engine.name}, {engine.label}).** The medians differ by "
        f"{paxx - compose:.2f} s; the stack's own readiness alone varied by {spread:.2f} s "
        f"across {len(cold.own_ready)} runs (the slowest service decides it). Fastest "
        f"runs: `paxx up` {min(r.wall for r in cold.paxx):.2f} s, `compose --wait` "
        f"{min(r.wall for r in cold.compose_wait):.2f} s."
    )
    if compose < own:
        return note + (
            f" `docker compose up -d --wait` ended {own - compose:.2f} s before the services "
            "answered on their published ports (own readiness): Docker's check runs inside "
            "the container and passes before the port on the host answers, and --wait ends "
            "on it. `paxx up` ends when every service answers from the host, as the app "
            f"will reach it, and it ended {paxx - own:+.2f} s after that. What would close "
            "it: declaring a service ready on Docker's check inside the container, which "
            "paxx does not do, since the app would then still find the port closed."
        )
    return note + (
        " More repetitions (`--repeat 9`) would tell a difference of this size from the spread."
    )


def why_not(cold: ColdRuns, engine: Engine, phases: list[tuple[str, float]]) -> list[str]:
    """Why a P1 target against the services' own readiness is missed, from the run's numbers."""
    notes = []
    paxx, own = walls(cold.paxx).median, Stats(cold.own_ready).median
    compose = walls(cold.compose_wait).median
    if paxx > engine.ratio_limit * compose:
        notes.append(ratio_note(cold, engine, paxx, own, compose))
    before = sum(seconds for _, seconds in phases[:2])
    if paxx > own + 0.5:
        notes.append(
            f"**Why cold `paxx up` ends more than 0.5 s after the services' own readiness "
            f"({engine.name}, {engine.label}).** It ends {paxx - own:+.2f} s after it. Before "
            f"it calls Compose, paxx took {before * 1000:.0f} ms in the `paxx -v up` run "
            "(see the phases below; `-v` goes through the full command line, which a plain "
            "`paxx up` skips when nothing changed: its imports are below too); `docker "
            f"compose up -d` itself took {walls(cold.compose_detach).fmt()} alone; `paxx up` "
            f"exited {cell(cold.paxx_after_ready)} after the last service answered. The rest "
            "is the services answering later during `paxx up` than alone (*slower* in the table "
            "below). What would close it: a start that does not spend CPU beside the starting "
            "services (see the CPU column and the next note), and Compose called sooner."
        )
    lags = {name: lag(cold, name) for name in sorted(PROBES)}
    known = {name: value for name, value in lags.items() if value is not None}
    slow = {name: value for name, value in known.items() if value > 0.2}
    if slow:
        listed = ", ".join(f"{name} {value * 1000:+.0f} ms" for name, value in slow.items())
        execs = sum(Stats(cold.paxx_execs[name]).median for name in PROBES)
        notes.append(
            f"**Why services answer more than 0.2 s later during `paxx up` than alone "
            f"({engine.name}, {engine.label}).** From their containers' start: {listed}. "
            f"{execs:.0f} processes started in the containers while `paxx up` waited (the "
            "execs table: Docker's own health checks; paxx runs none). `paxx up` used "
            f"{cpu(cold.paxx).median:.2f} s of CPU with the commands it ran, `docker compose "
            f"up -d` alone {cpu(cold.compose_detach).median:.2f} s: the "
            f"{cpu(cold.paxx).median - cpu(cold.compose_detach).median:.2f} s more (paxx's "
            "start, host probes, the docker commands it runs besides Compose's up, among them "
            "`docker compose version`, three processes, and the progress display) run beside the "
            "starting services on this machine's two cores. What would close it: fewer, later "
            "probes (traded against noticing readiness later) and a Compose version check "
            "that is not a process of its own on every cold start."
        )
    return notes


MEASURE = Measure("P1 cold start", Stage.COLD, measure_cold_up)
