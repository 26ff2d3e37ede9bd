"""The pytest plugin: what each per-test slice costs, and a suite against the usual ways.

On the running stack, pytest runs in folders of the stack's project (the plugin finds the
project with --paxx-project):

- per fixture, N tests that ask only for it: each test's setup + teardown time, recorded by
  a conftest hook; the first test (which opens the session) apart;
- spans: how long after a span ends the query API returns it;
- a suite of 50 database tests + 50 Redis tests, three ways: the plugin, testcontainers-python
  (TESTCONTAINERS_RYUK_DISABLED=true; its containers carry this run's label and are removed)
  and one shared database with truncation on the stack's own services.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from paxxbench.measure import Measure, Stage
from paxxbench.measures import plugin_suites as suites
from paxxbench.results import Section, Target, table
from paxxbench.runner import BenchError, Run, log, run
from paxxbench.stats import Stats, fmt
from paxxbench.workbench import Bench, Stack

#: The targets: the suite against testcontainers, and one test's own database.
SUITE_LIMIT = 0.5
#: The suite's rounds when --repeat is 3 or more: its runs vary by a second on a busy machine.
SUITE_ROUNDS = 5
DATABASE_LIMIT_S = 0.050
DATABASE = "`paxx_db_url`, the test writes a row"
AHEAD = "`paxx_db_url`, tests of 100 ms that write a row"
KEPT = "`paxx_db_url`, never connected to (kept for the next test)"
ALTERED = "`paxx_db_url`, the test adds a column (dropped, a new clone)"
KEPT_WRITE = "`paxx_db_url` with `--paxx-reuse-db`, the test writes a row (a run after the first)"
#: The rows run with more pytest arguments; each gets one untimed run before.
ARGS = {KEPT_WRITE: ["--paxx-reuse-db"]}
WRITE = "asyncio.run(write(paxx_db_url))"
OTHERS = [
    "paxx_redis_url",
    "paxx_s3_bucket",
    "paxx_mailbox",
    "paxx_search_index",
    "paxx_spans",
    "paxx_settings",
]
#: label -> (the fixture, the test's body)
COSTS = {
    "no fixture": ("", "pass"),
    DATABASE: ("paxx_db_url", WRITE),
    **{f"`{name}`": (name, "pass") for name in OTHERS},
    AHEAD: ("paxx_db_url", f"time.sleep(0.1); {WRITE}"),
    KEPT: ("paxx_db_url", "pass"),
    ALTERED: ("paxx_db_url", "asyncio.run(alter(paxx_db_url))"),
    KEPT_WRITE: ("paxx_db_url", WRITE),
}
TESTCONTAINERS = "testcontainers-python"
SHARED = "one shared database, truncation"
PLUGIN = "the plugin"
KEPT_PLUGIN = "the plugin, template kept (`--paxx-reuse-db`)"


def pytest_in(bench: Bench, stack: Stack, folder: Path, *args: str, **env: str) -> Run:
    """`python -m pytest ARGS` in `folder`, with the stack's state folder."""
    argv = [bench.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    return run(argv, folder, bench.env(stack, **env), timeout=1800)


def spread(values: list[float]) -> str:
    """`median (p10–p90)` in milliseconds."""
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    return f"{statistics.median(values) * 1000:.1f} ms ({at(0.1):.1f}–{at(0.9):.1f})"


def per_test(times: Path) -> tuple[list[float], float]:
    """Each test's setup + teardown from the timing files; and the first test's apart.

    The last test's teardown also closes the session, so that test is left out.
    """
    summed: dict[str, float] = {}
    last = ""
    for path in sorted(times.glob("*.json")):
        for name, _phase, seconds, closes in json.loads(path.read_text()):
            summed[name] = summed.get(name, 0.0) + float(seconds)
            last = name if closes else last
        path.unlink()
    first = summed.pop("test_cost[0]")
    summed.pop(last, None)
    return list(summed.values()), first


def measure_costs(
    bench: Bench, stack: Stack, count: int
) -> tuple[list[list[str]], dict[str, float]]:
    """Per fixture, `count` tests that ask only for it: rows for the page, and medians."""
    folder, times = stack.folder / "plugin-costs", stack.folder / "plugin-times"
    folder.mkdir()
    times.mkdir()
    (folder / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (folder / "conftest.py").write_text(suites.TIMING + suites.PREPARE)
    rows, medians = [], {}
    for label, (fixture, body) in COSTS.items():
        (folder / "test_cost.py").write_text(suites.cost_tests(fixture, body, count))
        args = [f"--paxx-project={stack.folder}", *ARGS.get(label, [])]
        if label in ARGS:
            pytest_in(bench, stack, folder, *args, BENCH_TIMES=str(times))
            per_test(times)  # the untimed run: its files go
        pytest_in(bench, stack, folder, *args, BENCH_TIMES=str(times))
        values, first = per_test(times)
        medians[label] = statistics.median(values)
        rows.append([label, spread(values), fmt(first, "s")])
        log(f"  {label}: {spread(values)}, the first {fmt(first, 's')}")
    return rows, medians


def measure_spans(bench: Bench, stack: Stack, count: int) -> list[list[str]]:
    """From a span's end to the query's answer: flushed, and on the 50 ms schedule."""
    folder, out = stack.folder / "plugin-spans", stack.folder / "plugin-span-results"
    folder.mkdir()
    out.mkdir()
    (folder / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (folder / "test_spans.py").write_text(suites.SPANS)
    pytest_in(
        bench,
        stack,
        folder,
        f"--paxx-project={stack.folder}",
        BENCH_OUT=str(out),
        BENCH_SPANS=str(count * 2),
    )
    found = [json.loads(p.read_text()) for p in sorted(out.glob("span-*.json"))]
    rows = []
    for kind, label in (
        ("flushed", "`force_flush()`, then the query"),
        ("batch", "no flush: the batch schedule (50 ms), then the query"),
    ):
        rows.append([label, spread([f["latency"] for f in found if f["kind"] == kind])])
    memory = [f["in_memory"] for f in found if f["in_memory"] is not None]
    rows.append(["an in-process exporter (`InMemorySpanExporter`), for comparison", spread(memory)])
    return rows


def suite_folders(stack: Stack) -> dict[str, tuple[Path, list[str]]]:
    """The suite's folder for each way of running it, and the extra pytest arguments."""
    plugin = [f"--paxx-project={stack.folder}"]
    off = ["-p", "no:paxx"]
    ways = {
        PLUGIN: (suites.WITH_PLUGIN, plugin),
        KEPT_PLUGIN: (suites.WITH_PLUGIN, [*plugin, "--paxx-reuse-db"]),
        TESTCONTAINERS: (suites.WITH_TESTCONTAINERS, off),
        SHARED: (suites.WITH_SHARED, off),
        f"{PLUGIN}, -n 2": (suites.WITH_PLUGIN, [*plugin, "-n", "2"]),
        f"{TESTCONTAINERS}, -n 2": (suites.WITH_TESTCONTAINERS, [*off, "-n", "2"]),
    }
    folders = {}
    for index, (name, (conftest, args)) in enumerate(ways.items()):
        folder = stack.folder / f"plugin-suite-{index}"
        folder.mkdir()
        (folder / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
        (folder / "conftest.py").write_text(conftest)
        (folder / "test_db.py").write_text(suites.SUITE_DB)
        (folder / "test_redis.py").write_text(suites.SUITE_REDIS)
        folders[name] = (folder, args)
    return folders


def suite_rounds(repeat: int) -> int:
    """Rounds of the suite: at least SUITE_ROUNDS (a run is a few seconds), fewer for --quick."""
    return repeat if repeat < 3 else max(SUITE_ROUNDS, repeat)


def measure_suites(bench: Bench, stack: Stack) -> dict[str, Stats]:
    """The 50 + 50 suite each way, suite_rounds times, the ways rotated between rounds."""
    variables = bench.paxx_cmd(stack, "env", "--format", "json", "--show-secrets").stdout
    env = {
        "BENCH_TOKEN": bench.token,
        "BENCH_VARIABLES": json.dumps(json.loads(variables)),
        "TESTCONTAINERS_RYUK_DISABLED": "true",
    }
    folders = suite_folders(stack)
    names = list(folders)
    # The kept template's first run makes it (as a new template each run does); the rounds
    # measure the runs after it, as a project with paxx_reuse_db = true has them.
    folder, args = folders[KEPT_PLUGIN]
    pytest_in(bench, stack, folder, *args, **env)
    walls: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(suite_rounds(bench.repeat)):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            folder, args = folders[name]
            try:
                result = pytest_in(bench, stack, folder, *args, **env)
            finally:
                remove_labelled(bench)
            if "100 passed" not in result.stdout:
                raise BenchError(f"{name}: {result.stdout[-500:]}")
            walls[name].append(result.wall)
            log(f"  {name}: {result.wall:.2f} s")
    return {name: Stats(values) for name, values in walls.items()}


def remove_labelled(bench: Bench) -> None:
    """The containers of testcontainers (none are left when its sessions end cleanly)."""
    label = f"label=paxx-bench={bench.token}"
    found = bench.docker("ps", "-aq", "--filter", label).stdout.split()
    if found:
        bench.docker("rm", "--force", "--volumes", *found, check=False)


def measure_plugin(bench: Bench, stack: Stack) -> Section:
    """The whole family: costs, spans, the suite; the section with its targets."""
    count = 15 if bench.repeat < 3 else 40
    log(f"  each slice, {count} tests per fixture")
    costs, medians = measure_costs(bench, stack, count)
    spans = measure_spans(bench, stack, count)
    walls = measure_suites(bench, stack)
    return plugin_section(costs, medians, spans, walls, count)


def plugin_section(
    costs: list[list[str]],
    medians: dict[str, float],
    spans: list[list[str]],
    walls: dict[str, Stats],
    count: int,
) -> Section:
    """The page's section: the suite, the slices, the spans; its targets and notes."""
    section = Section("The pytest plugin")
    plugin, kept, containers = walls[PLUGIN], walls[KEPT_PLUGIN], walls[TESTCONTAINERS]
    ratio, kept_ratio = plugin.median / containers.median, kept.median / containers.median
    database = medians[DATABASE]
    section.targets = [
        Target(
            "pytest plugin, template kept (`--paxx-reuse-db`): 50 database + 50 Redis tests "
            "vs testcontainers-python",
            f"{kept.fmt()} vs {containers.fmt()} = {kept_ratio:.2f} ×",
            f"≤ {SUITE_LIMIT} ×",
            kept_ratio <= SUITE_LIMIT,
        ),
        Target(
            "pytest plugin, a new template: 50 database + 50 Redis tests vs testcontainers-python",
            f"{plugin.fmt()} vs {containers.fmt()} = {ratio:.2f} ×",
            f"≤ {SUITE_LIMIT} ×",
            ratio <= SUITE_LIMIT,
        ),
        Target(
            "pytest plugin: one test's own database (`paxx_db_url`, setup + teardown)",
            f"{database * 1000:.1f} ms",
            f"≤ {DATABASE_LIMIT_S * 1000:.0f} ms",
            database <= DATABASE_LIMIT_S,
        ),
    ]
    section.notes = why_not(ratio, database, medians, walls)
    section.add(*suite_text(walls, containers.median))
    section.add(*costs_text(costs, count))
    section.add(*spans_text(spans))
    section.reproduce = [
        "# the pytest plugin: pytest in folders of the stack's project (see its section)",
        "python -m pytest -q --paxx-project=STACK            # each fixture; spans; the suite",
        "python -m pytest -q --paxx-project=STACK --paxx-reuse-db   # the suite, template kept",
        "TESTCONTAINERS_RYUK_DISABLED=true python -m pytest -q -p no:paxx   # testcontainers",
    ]
    return section


def suite_text(walls: dict[str, Stats], containers: float) -> list[str]:
    """The suite's paragraph and table."""
    rounds = len(next(iter(walls.values())).values)
    return [
        "### A suite: 50 database tests + 50 Redis tests",
        "Each database test connects (asyncpg), inserts a row and counts the rows (1); each "
        "Redis test checks its database is empty, sets a key and increments a counter (1). "
        f"Wall time of the whole `python -m pytest` process, {rounds} rounds; the ways "
        "alternate between rounds. "
        "*The plugin*: `paxx_db_url` and `paxx_redis_url` on the stack, which is up (as after "
        "`paxx up`); each run makes the template, prepares it and drops it at its end. *The "
        "plugin, template kept*: the same with `--paxx-reuse-db`, after one untimed run that "
        "made the kept template: each round takes the spare databases the round before kept, "
        "and runs no preparation. *testcontainers-python*: a `PostgresContainer` and a "
        "`RedisContainer` "
        f"(`{suites.PG_IMAGE}` and `{suites.REDIS_IMAGE}`, the stack's images) started by "
        "session fixtures, `TRUNCATE` and `FLUSHDB` before each test; with `-n 2` each worker "
        "starts its own. *One shared database*: a database on the stack's PostgreSQL made once "
        "per session, `TRUNCATE` before each test, and one Redis database flushed before each "
        "test (the plugin off): no isolation between workers, the floor.",
        table(
            ["how", "wall time, median (min–max)", "vs testcontainers-python"],
            [[name, s.fmt(), f"{s.median / containers:.2f} ×"] for name, s in walls.items()],
        ),
    ]


def costs_text(rows: list[list[str]], count: int) -> list[str]:
    """The per-slice paragraph and table."""
    return [
        "### What each slice costs a test",
        f"For each fixture, {count} tests that ask only for it and do nothing else, in a pytest "
        "run of their own: the time of each test's setup plus teardown, as a conftest hook "
        "measures it around pytest's own, given as median (10th–90th percentile). The first "
        "test opens the session (finds the project, sees it is up, makes the template or the "
        "lease, loads the client library): its time is apart, and the last test, whose "
        "teardown closes the session, is left out. The row with `--paxx-reuse-db` is the run "
        "after an untimed one that kept the template and its spares.",
        table(["fixture", "each test: setup + teardown", "the first test"], rows),
    ]


def spans_text(rows: list[list[str]]) -> list[str]:
    """The spans paragraph and table."""
    return [
        "### `paxx_spans`: from a span's end to the query's answer",
        "A test makes a tracer provider from the environment `paxx_settings` set (OTLP over "
        "HTTP to the stack's Jaeger), ends one span, and asks `paxx_spans` every 5 ms until the "
        "span is there. The plugin reads what the app exported; an in-process exporter would "
        "have the span at once, but only from a tracer provider the plugin can reach, in its "
        "own process.",
        table(["how the span leaves", "span end → in the query, median (p10–p90)"], rows),
    ]


def why_not(
    ratio: float, database: float, medians: dict[str, float], walls: dict[str, Stats]
) -> list[str]:
    """Why a target is missed, from this run's numbers."""
    notes = []
    if database > DATABASE_LIMIT_S:
        notes.append(
            "**Why one test's database takes more than "
            f"{DATABASE_LIMIT_S * 1000:.0f} ms (pytest plugin).** A test that only wrote rows "
            "hands its database back to be emptied in the background while two others wait "
            "ready; back-to-back tests shorter than an emptying wait for it (tests of 100 ms: "
            f"{medians.get(AHEAD, 0.0) * 1000:.1f} ms). A test that changes the schema costs "
            f"a new clone of the template ({medians.get(ALTERED, 0.0) * 1000:.1f} ms)."
        )
    containers = walls[TESTCONTAINERS].median
    floor = walls[SHARED].median
    kept = walls[KEPT_PLUGIN].median
    if ratio > SUITE_LIMIT:
        notes.append(
            "**Why the suite with a new template is not at half of testcontainers-python's "
            "time (pytest plugin).** The same tests on one shared database with truncation, "
            f"no isolation at all, take {floor / containers:.2f} × testcontainers-python's "
            f"time here. The plugin takes {walls[PLUGIN].median / floor:.2f} × that floor: "
            "its first test makes the template, runs the preparation hook and makes the first "
            "clone (see the first test's time below), and the session's end drops the "
            "databases it made. With the template kept (`--paxx-reuse-db`, as pytest-django's "
            f"`--reuse-db`) it takes {kept / floor:.2f} × the floor and {kept / containers:.2f} "
            "× testcontainers-python: that is what closes it, for the runs after the first, "
            "since only running the user's hook tells what it makes."
        )
    if kept / containers > SUITE_LIMIT:
        notes.append(
            "**Why the suite with the template kept is not at half of testcontainers-python's "
            f"time (pytest plugin).** It takes {kept / floor:.2f} × the same tests on one "
            f"shared database with truncation, which take {floor / containers:.2f} × "
            "testcontainers-python's time here: the tests' own work (a connection each, as "
            "in every way) is most of it. What would close it: per-test work below a "
            "truncation's, which the emptying after each test already is (see the slices)."
        )
    return notes


MEASURE = Measure("pytest plugin", Stage.LAST, measure_plugin)
