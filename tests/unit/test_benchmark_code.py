"""The benchmark's code without running the benchmark: every module imports, the pure pieces
(statistics, tables, the parsers of importtime, `paxx -v`, docker events and stats) give the
right answers on inline inputs, the page is assembled in order, and the package keeps its shape.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest

import paxxbench
from paxxbench import cli, engine, importtime, page, paxxlog, registry, results, stats, workbench
from paxxbench.measure import Measure, Stage
from paxxbench.measures import pytest_plugin, startup, steady_state, synthetic
from paxxbench.results import Section, Target
from paxxbench.runner import Run
from paxxbench.workbench import Bench, Stack

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "benchmarks" / "paxxbench"


def _modules() -> list[str]:
    return sorted(
        info.name for info in pkgutil.walk_packages(paxxbench.__path__, prefix="paxxbench.")
    )


def _run(stderr: str = "", wall: float = 1.0, started_at: float = 0.0) -> Run:
    return Run(["x"], started_at, wall, 0, "", stderr, 2048)


# ----------------------------------------------------------------------------- imports, shape


def test_every_module_imports() -> None:
    names = _modules()
    assert "paxxbench.measures.cold_up" in names and "paxxbench.cli" in names
    for name in names:
        importlib.import_module(name)
    entry = importlib.import_module("bench")
    assert entry.main is cli.main


def test_every_measure_module_is_in_the_registry_once() -> None:
    with_measure = {
        name
        for name in _modules()
        if name.startswith("paxxbench.measures.")
        and isinstance(getattr(importlib.import_module(name), "MEASURE", None), Measure)
    }
    listed = [m.measure.__module__ for m in registry.MEASURES]
    assert sorted(listed) == sorted(with_measure)
    assert len({m.name for m in registry.MEASURES}) == len(registry.MEASURES)


def test_the_measures_run_in_the_order_the_stack_needs() -> None:
    order = sorted(registry.MEASURES, key=lambda m: m.stage)
    assert [m.name for m in order] == [
        "P4 start-up",
        "P5 feature add",
        "P5 synthetic catalog",
        "P1 cold start",
        "P1' cold start on a second engine",
        "P2 no-op up",
        "P3 status",
        "steady state",
        "P4 memory",
        "pytest plugin",
    ]


def _documented_layers() -> list[str]:
    doc = paxxbench.__doc__ or ""
    return re.findall(r"^    (\w+/?)  ", doc, flags=re.MULTILINE)


def _layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] + "/" if parts[1] == "measures" else parts[1]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "paxxbench.measures":
                found |= {f"paxxbench.measures.{alias.name}" for alias in node.names}
            elif node.module.startswith("paxxbench."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("paxxbench.")}
    return found


def test_modules_import_only_what_the_package_docstring_lists_above_them() -> None:
    layers = _documented_layers()
    modules = {name for name in _modules() if name != "paxxbench.measures"}
    assert sorted(layers) == sorted({_layer_of(name) for name in modules})
    wrong = []
    for name in modules:
        path = PACKAGE.joinpath(*name.split(".")[1:]).with_suffix(".py")
        for imported in _imports(path):
            here, there = _layer_of(name), _layer_of(imported)
            if here == there == "measures/":
                continue  # checked for circles below
            if layers.index(there) >= layers.index(here):
                wrong.append(f"{name} imports {imported}")
    assert not wrong


def test_there_are_no_import_circles() -> None:
    graph = {
        name: _imports(PACKAGE.joinpath(*name.split(".")[1:]).with_suffix(".py"))
        for name in _modules()
        if name != "paxxbench.measures"
    }
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join((*path, name))
        if name in done:
            return
        for imported in graph.get(name, set()):
            visit(imported, (*path, name))
        done.add(name)

    for name in graph:
        visit(name, ())


def test_no_module_or_function_is_too_long() -> None:
    too_long = []
    for path in sorted((ROOT / "benchmarks").rglob("*.py")):
        text = path.read_text()
        if text.count("\n") > 400:
            too_long.append(f"{path.name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > 60:
                    too_long.append(f"{path.name}: {node.name}() {length} lines")
    assert not too_long


def test_every_docker_command_is_built_in_the_workbench() -> None:
    """So that each one gets the engine's environment (DOCKER_HOST) from one place."""
    outside = []
    for path in sorted((ROOT / "benchmarks").rglob("*.py")):
        if path == PACKAGE / "workbench.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value == "docker":
                outside.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not outside


# ----------------------------------------------------------------------------- the engine


def test_the_shells_docker_host_reaches_every_command_and_compose_settings_do_not() -> None:
    env = workbench.clean_environment(
        {
            "DOCKER_HOST": "unix:///run/other.sock",
            "COMPOSE_FILE": "x.yaml",
            "PAXX_CATALOG": "/c",
            "PYTHONDONTWRITEBYTECODE": "1",
            "HOME": "/home/u",
        },
        Path("/tmp/b"),
    )
    assert env == {
        "DOCKER_HOST": "unix:///run/other.sock",
        "HOME": "/home/u",
        "PYTHONPYCACHEPREFIX": "/tmp/b/pycache",
        "NO_COLOR": "1",
        "XDG_STATE_HOME": "/tmp/b/state",
    }


@pytest.fixture
def bench():
    made = Bench(repeat=2, rest=1.0)
    yield made
    made.cleanup()


def test_a_stack_on_another_engine_takes_its_docker_host_everywhere(
    bench: Bench, tmp_path: Path
) -> None:
    other = Stack(tmp_path, tmp_path / "state", name="p", docker_host="unix:///run/modern.sock")
    plain = Stack(tmp_path, tmp_path / "state", name="q")
    bench.base_env["DOCKER_CONTEXT"] = "remote"
    assert bench.engine_env(other)["DOCKER_HOST"] == "unix:///run/modern.sock"
    assert "DOCKER_CONTEXT" not in bench.engine_env(other)
    assert bench.engine_env(plain)["DOCKER_CONTEXT"] == "remote"
    assert bench.env(other, EXTRA="1")["DOCKER_HOST"] == "unix:///run/modern.sock"
    assert bench.engine_env(plain).get("DOCKER_HOST") == bench.base_env.get("DOCKER_HOST")
    assert other.label == "label=com.docker.compose.project=p"


def test_a_projects_env_values_are_not_overridden_by_the_shell(
    bench: Bench, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("# comment\nREDIS_URL='redis://x'\nPAXX_REDIS_PORT=20001\n")
    stack = Stack(tmp_path, tmp_path / "state")
    bench.base_env["REDIS_URL"] = "from the shell"
    assert stack.dotenv() == {"REDIS_URL": "redis://x", "PAXX_REDIS_PORT": "20001"}
    env = bench.env(stack)
    assert "REDIS_URL" not in env and env["XDG_STATE_HOME"] == str(tmp_path / "state")


def test_exec_events_are_counted_per_service_until_the_end() -> None:
    line = {"timeNano": 0, "Actor": {"Attributes": {"com.docker.compose.service": "redis"}}}
    events = [
        json.dumps({**line, "timeNano": 101_500_000_000}),
        "not json",
        json.dumps({**line, "timeNano": 102_000_000_000}),
        json.dumps({**line, "timeNano": 109_000_000_000}),  # after `until`
        json.dumps({"timeNano": 101_000_000_000, "Actor": {"Attributes": {}}}),
    ]
    events.append(json.dumps({**line, "timeNano": 100_500_000_000, "Action": "start"}))
    events.append(json.dumps({**line, "timeNano": 103_000_000_000, "Action": "exec_start: sh"}))
    found = engine.exec_times("\n".join(events), since=100.0, until=105.0)
    assert found == {"redis": [1.5, 2.0, 3.0], "?": [1.0]}
    started = engine.exec_times("\n".join(events), since=100.0, until=105.0, action="start")
    assert started == {"redis": [0.5]}


def test_docker_stats_lines_become_cpu_and_mib_per_service() -> None:
    out = "\n".join(
        json.dumps({"Name": name, "CPUPerc": cpu, "MemUsage": mem})
        for name, cpu, mem in [
            ("proj-redis-1", "0.25%", "3.5MiB / 1.9GiB"),
            ("proj-minio-1", "1.50%", "1.5GiB / 1.9GiB"),
            ("proj-mailpit-1", "0.00%", "512KiB / 1.9GiB"),
        ]
    )
    assert steady_state.parse_stats(out, "proj") == {
        "redis": (0.25, 3.5),
        "minio": (1.5, 1536.0),
        "mailpit": (0.0, 0.5),
    }
    assert steady_state.mib("--") == 0.0


# ----------------------------------------------------------------------------- numbers, tables


def test_stats_give_the_median_and_the_range() -> None:
    assert stats.Stats([3.0, 1.0, 2.0]).median == 2.0
    assert stats.Stats([0.1, 0.25, 1.5]).fmt() == "250 ms (100 ms–1.50 s)"
    assert stats.Stats([42.0]).fmt("MB") == "42.0 MB"
    assert stats.Stats([1.0, 2.0]).fmt("%") == "1.50 % (1.00 %–2.00 %)"
    assert stats.Stats([3.0, 5.0]).fmt(" MiB") == "4.0 MiB (3.0 MiB–5.0 MiB)"
    assert stats.walls([_run(wall=0.5), _run(wall=1.5)]).median == 1.0
    assert stats.rss([_run()]).fmt("MB") == "2.0 MB"


def test_a_line_through_points_on_a_line_is_that_line() -> None:
    slope, intercept = stats.fit_line([25, 50, 100], [0.3, 0.55, 1.05])
    assert slope == pytest.approx(0.01) and intercept == pytest.approx(0.05)
    assert stats.fit_line([10], [0.5]) == (0.05, 0.0)


def test_growth_is_judged_by_the_cost_per_added_service() -> None:
    linear = synthetic.growth({25: 0.30, 50: 0.55, 100: 1.05})
    assert linear == (
        "Each added service costs 10.0 ms per service from 25 to 50, 10.0 ms per service from "
        "50 to 100; a straight line through the medians is 50 ms + 10.0 ms per service. Growth "
        "is linear when the cost per added service stays the same from one size to the next, "
        "and worse than linear when it rises: here it is **no worse than linear**."
    )
    assert "**worse than linear**" in synthetic.growth({25: 0.3, 50: 0.55, 100: 1.5})


def test_a_table_is_markdown() -> None:
    assert results.table(["a", "b"], [[1, "x"], ["", 2.5]]) == (
        "| a | b |\n|---|---|\n| 1 | x |\n|  | 2.5 |"
    )


# ----------------------------------------------------------------------------- parsers

IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |   _io
import time:       200 |        300 | io
import time:        50 |         50 |     pydantic._internal
import time:      1000 |       1050 |   pydantic.main
import time:       500 |       1550 | pydantic
not an importtime line
"""


def test_importtime_lines_know_their_parent() -> None:
    assert importtime.parse_importtime(IMPORTTIME) == [
        (1, "_io", "io", 100, 100),
        (0, "io", "", 200, 300),
        (2, "pydantic._internal", "pydantic.main", 50, 50),
        (1, "pydantic.main", "pydantic", 1000, 1050),
        (0, "pydantic", "", 500, 1550),
    ]


def test_importtime_offenders_are_ranked_by_median() -> None:
    slower = IMPORTTIME.replace("1000 |       1050", "3000 |       3050")
    parsed = [importtime.parse_importtime(text) for text in (IMPORTTIME, slower, IMPORTTIME)]
    assert importtime.total_seconds(parsed) == pytest.approx(0.00185)
    assert importtime.top_imports(parsed) == [
        ("pydantic", pytest.approx(0.00155)),
        ("pydantic › pydantic.main", pytest.approx(0.00105)),
        ("io", pytest.approx(0.0003)),
        ("io › _io", pytest.approx(0.0001)),
    ]
    assert importtime.median_packages(parsed) == [
        ("pydantic", pytest.approx(0.00155)),
        ("io", pytest.approx(0.0003)),
    ]
    rows = startup.offenders_table([("a", 0.5)], [("p", 0.25), ("q", 0.125)]).splitlines()
    assert rows[2:] == ["| `a` | 500 ms | `p` | 250 ms |", "|  |  | `q` | 125 ms |"]


VERBOSE_UP = """\
10:00:00.500000 run                            argv=['docker', 'version', '--format', 'x']
10:00:00.520000 run                            argv=['docker', 'image', 'inspect', 'redis:7']
10:00:00.600000 exit                           argv=['docker', 'version', '--format'] code=0
10:00:00.650000 exit                           argv=['docker', 'image', 'inspect'] code=0
10:00:01.000000 compose                        action=up project=p
10:00:01.000100 run                            argv=['docker', 'compose', '--project-name', 'p', '--file', 'up.yaml', 'up', '--detach']
10:00:03.000000 exit                           argv=['docker', 'compose', '--project-name'] code=0
10:00:03.000000 run                            argv=['docker', 'inspect', '--type', 'container']
10:00:03.050000 exit                           argv=['docker', 'inspect', '--type'] code=0
10:00:04.000000 run                            argv=['docker', 'ps', '--all', '--format', '{{json .}}']
10:00:04.100000 exit                           argv=['docker', 'ps', '--all'] code=0
redis    healthy in 2.5 s
postgres healthy in 3.0 s
"""


def test_the_engine_calls_of_a_verbose_run() -> None:
    calls = paxxlog.docker_calls(VERBOSE_UP)
    assert calls == [
        ("docker version --format", pytest.approx(0.1)),
        ("docker image inspect", pytest.approx(0.13)),
        ("docker compose up", pytest.approx(2.0, abs=0.001)),
        ("docker inspect --type", pytest.approx(0.05)),
        ("docker ps --all", pytest.approx(0.1)),
    ]
    assert paxxlog.describe_calls([*calls, ("docker ps --all", None)]) == (
        "1 × `docker version --format`, 100 ms in all; "
        "1 × `docker image inspect`, 130 ms in all; "
        "1 × `docker compose up`, 2.00 s in all; "
        "1 × `docker inspect --type`, 50 ms in all; 2 × `docker ps --all`, 100 ms in all"
    )
    assert paxxlog.healthy_in(VERBOSE_UP) == [("redis", 2.5), ("postgres", 3.0)]
    assert paxxlog.clock("10:00:01.5") == 36001.5 and paxxlog.clock("later") == 0.0


def test_the_phases_of_a_verbose_up() -> None:
    import datetime

    start = datetime.datetime(2025, 1, 1, 10, 0, 0).timestamp()
    phases = paxxlog.up_timeline(_run(VERBOSE_UP, wall=4.5, started_at=start))
    assert [round(seconds, 3) for _, seconds in phases] == [0.5, 0.5, 2.0, 1.0, 0.5]
    assert paxxlog.up_timeline(_run("10:00:00.1 run argv=['docker', 'ps']")) == []


# ----------------------------------------------------------------------------- the page


def _fake(name: str, stage: Stage, ran: list[str]) -> Measure:
    def measure(_bench: Bench, _stack: Stack) -> Section:
        ran.append(name)
        return Section(name, [f"{name} body"], reproduce=[f"# {name}"])

    return Measure(name, stage, measure)


def test_measures_run_stage_by_stage_and_come_back_in_page_order(
    bench: Bench, tmp_path: Path
) -> None:
    ran: list[str] = []
    measures = [_fake("A", Stage.COLD, ran), _fake("B", Stage.STOPPED, ran)]
    measures += [_fake("C", Stage.COLD, ran), _fake("D", Stage.STOPPED, ran)]
    sections = cli.run_measures(bench, Stack(tmp_path, tmp_path), measures)
    assert ran == ["B", "D", "A", "C"]
    assert [s.title for s in sections] == ["A", "B", "C", "D"]


def test_the_page_puts_each_sections_parts_in_their_place() -> None:
    first = Section("P1 · One", ["Body one.", "| t |\n|---|"], reproduce=["# P1", "cmd one"])
    first.targets.append(Target("P1 one", "1 s", "≤ 2 s", True))
    first.notes.append("Why one.")
    second = Section("P2 · Two", ["Body two."], reproduce=["cmd two"])
    second.targets.append(Target("P2 two", "3 s", "≤ 2 s", False))
    text = page.render_page(
        [first, second],
        {"CPUs": "2 × x"},
        [["redis", "`redis:7`", "abc", "-"]],
        page.RunLine("2025-01-01 10:00 UTC", "benchmarks/bench.py --quick", "quick run"),
    )
    assert re.findall(r"^## .*", text, flags=re.MULTILINE) == [
        "## Summary",
        "## Machine",
        "## P1 · One",
        "## P2 · Two",
        "## Reproduce",
    ]
    assert (
        "| target | measured (median) | limit | met |\n|---|---|---|---|\n"
        "| P1 one | 1 s | ≤ 2 s | yes |\n| P2 two | 3 s | ≤ 2 s | **no** |\n\nWhy one.\n\n"
        "## Machine\n\n|  |  |\n|---|---|\n| CPUs | 2 × x |\n"
    ) in text
    assert "## P1 · One\n\nBody one.\n\n| t |\n|---|\n\n## P2 · Two\n\nBody two.\n\n" in text
    assert "```sh\n# P1\ncmd one\ncmd two\n```" in text
    assert "`benchmarks/bench.py --quick` (quick run)" in text
    assert "stand-in label:" not in text


# ----------------------------------------------------------------------------- the command line


def test_quick_and_explicit_options() -> None:
    quick = cli.parse_args(["--quick"])
    assert (quick.repeat, quick.rest) == (2, 20.0)
    full = cli.parse_args([])
    assert (full.repeat, full.rest) == (5, 60.0)
    explicit = cli.parse_args(["--quick", "--repeat", "9", "--rest", "0"])
    assert (explicit.repeat, explicit.rest) == (9, 0.0)


@pytest.mark.parametrize("args", [["--repeat", "0"], ["--repeat", "-1"], ["--rest", "-5"]])
def test_impossible_options_are_refused(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.parse_args(args)
    assert exit_.value.code == 2
    assert "must" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the pytest plugin


def test_the_plugins_timings_leave_out_the_first_and_the_closing_test(tmp_path: Path) -> None:
    rows = [
        ["test_cost[0]", "setup", 0.5, False],
        ["test_cost[0]", "teardown", 0.1, False],
        ["test_cost[1]", "setup", 0.02, False],
        ["test_cost[1]", "teardown", 0.01, False],
        ["test_cost[2]", "setup", 0.03, False],
        ["test_cost[2]", "teardown", 0.2, True],  # closes the session
    ]
    (tmp_path / "gw0.json").write_text(json.dumps(rows))
    values, first = pytest_plugin.per_test(tmp_path)
    assert values == pytest.approx([0.03])
    assert first == pytest.approx(0.6)
    assert list(tmp_path.iterdir()) == []
    assert pytest_plugin.spread([0.010, 0.020, 0.030]) == "20.0 ms (10.0–30.0)"


def test_the_plugins_section_judges_its_targets_and_says_why_not() -> None:
    medians = {
        pytest_plugin.DATABASE: 0.120,
        pytest_plugin.AHEAD: 0.002,
        pytest_plugin.ALTERED: 0.250,
    }
    walls = {
        pytest_plugin.PLUGIN: stats.Stats([6.0, 7.0]),
        pytest_plugin.KEPT_PLUGIN: stats.Stats([5.5]),
        pytest_plugin.TESTCONTAINERS: stats.Stats([10.0, 11.0]),
        pytest_plugin.SHARED: stats.Stats([5.0]),
    }
    section = pytest_plugin.plugin_section([], medians, [], walls, 15)
    assert [(t.measured, t.met) for t in section.targets] == [
        ("5.50 s vs 10.50 s (10.00 s–11.00 s) = 0.52 ×", False),
        ("6.50 s (6.00 s–7.00 s) vs 10.50 s (10.00 s–11.00 s) = 0.62 ×", False),
        ("120.0 ms", False),
    ]
    assert len(section.notes) == 3 and "tests of 100 ms: 2.0 ms" in section.notes[0]
    assert "a new clone of the template (250.0 ms)" in section.notes[0]
    assert "take 0.48 × testcontainers-python's time" in section.notes[1]
    assert "The plugin takes 1.30 × that floor" in section.notes[1]
    assert "it takes 1.10 × the floor and 0.52 × testcontainers-python" in section.notes[1]
    assert "It takes 1.10 × the same tests on one shared database" in section.notes[2]
    walls[pytest_plugin.KEPT_PLUGIN] = stats.Stats([4.5])
    kept_met = pytest_plugin.plugin_section([], medians, [], walls, 15)
    assert [t.met for t in kept_met.targets] == [True, False, False]
    assert len(kept_met.notes) == 2 and "0.43 × testcontainers-python" in kept_met.notes[1]
    fast = {pytest_plugin.DATABASE: 0.040}
    walls[pytest_plugin.PLUGIN] = stats.Stats([4.0])
    met = pytest_plugin.plugin_section([], fast, [], walls, 15)
    assert [t.met for t in met.targets] == [True, True, True] and met.notes == []


def test_the_cold_start_compares_services_from_their_containers_start_and_says_why_not() -> None:
    from paxxbench.measures import cold_up
    from paxxbench.measures.cold_runs import ColdRuns
    from paxxbench.probes import PROBES

    cold = ColdRuns(
        paxx=[
            Run(["x"], 0.0, 5.3, 0, "", "", 2048, 1.5),
            Run(["x"], 0.0, 5.5, 0, "", "", 2048, 1.7),
        ],
        compose_wait=[_run(wall=12.0)],
        compose_detach=[Run(["x"], 0.0, 2.0, 0, "", "", 2048, 0.9)],
        own_ready=[4.5, 4.6],
        paxx_after_ready=[0.05],
    )
    for name in PROBES:
        cold.own_after_start[name] = [1.0, 1.2]  # median 1.1
        cold.paxx_after_start[name] = [1.2, 1.2]  # 100 ms slower
        cold.paxx_execs[name] = [0.0]
    cold.paxx_after_start["postgres"] = [1.6]  # 500 ms slower
    engine = cold_up.Engine("P1", "Docker 20.10 (API 1.41)", False, 1.10)
    assert round(cold_up.lag(cold, "postgres") or 0, 3) == 0.5
    targets = cold_up.targets(cold, engine)
    assert [t.met for t in targets[1:]] == [False, False]
    assert targets[2].measured == "postgres: +500 ms"
    phases = [("start-up", 0.2), ("before Compose", 0.1), ("compose", 2.0)]
    notes = cold_up.why_not(cold, engine, phases)
    assert len(notes) == 2
    assert "It ends +0.85 s after it" in notes[0] and "paxx took 300 ms" in notes[0]
    assert "postgres +500 ms" in notes[1] and "redis" not in notes[1]
    assert "0 processes started in the containers while `paxx up` waited" in notes[1]
    assert (
        "`paxx up` used 1.60 s of CPU" in notes[1] and "alone 0.90 s: the 0.70 s more" in notes[1]
    )
    cold.compose_wait = [_run(wall=4.0), _run(wall=4.4)]  # paxx 5.4 s: 1.29 x
    ratio = cold_up.why_not(cold, engine, phases)[0]
    assert "above 1.10 × `docker compose up -d --wait`" in ratio
    assert "The medians differ by 1.20 s" in ratio and "varied by 0.10 s across 2 runs" in ratio
    assert "ended 0.35 s before the services answered on their published ports" in ratio
    assert "and it ended +0.85 s after that" in ratio and "--repeat 9" not in ratio
    cold.compose_wait = [_run(wall=4.6)]  # after own readiness (4.55 s): only the spread
    assert "--repeat 9" in cold_up.why_not(cold, engine, phases)[0]


def test_a_slow_help_is_set_against_the_interpreters_own_start() -> None:
    runs = {
        "`paxx --help`": [_run(wall=0.213), _run(wall=0.215)],
        startup.PYTHON: [_run(wall=0.169)],
    }
    (note,) = startup.why_help_is_slow(runs)
    assert "It takes 214 ms" in note and "takes 169 ms here" in note
    assert "paxx's own share is 45 ms" in note
    runs["`paxx --help`"] = [_run(wall=0.120)]
    assert startup.why_help_is_slow(runs) == []


def test_the_suite_runs_at_least_five_rounds_unless_quick() -> None:
    assert [pytest_plugin.suite_rounds(r) for r in (1, 2, 3, 5, 9)] == [1, 2, 5, 5, 9]


def test_a_slow_feature_add_is_split_into_imports_and_the_rest() -> None:
    from paxxbench.measures import feature_add

    packages = [("pydantic", 0.2), ("typer", 0.1), ("jinja2", 0.05), ("yaml", 0.01)]
    (note,) = feature_add.why_not(1.12, 0.57, packages)
    assert "It takes 1.12 s, of which 570 ms is imports (pydantic, typer, jinja2 take most)" in note
    assert feature_add.why_not(0.9, 0.5, packages) == []
