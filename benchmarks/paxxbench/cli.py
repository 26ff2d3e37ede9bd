"""The command line: set up the workbench and the stack, run every measure, write the page."""

from __future__ import annotations

import argparse
import datetime
import os
import signal
import sys

from paxxbench.checkout import OUTPUT, ROOT, all_features, describe_source, source_state
from paxxbench.engine import ensure_running
from paxxbench.machine import has_start_interval, images, machine
from paxxbench.measure import Measure, Stage
from paxxbench.page import RunLine, render_page
from paxxbench.registry import MEASURES
from paxxbench.results import Section
from paxxbench.runner import BenchError, log, run
from paxxbench.workbench import STACK_FEATURES, Bench, Stack

EPILOG = """\
Every docker and docker compose command (and paxx itself) runs with the shell's DOCKER_HOST
and DOCKER_CONTEXT, so `DOCKER_HOST=unix:///path/to/other.sock ./scripts/dev bench` measures
another engine; its images must be present there too.
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options, with --quick's defaults filled in."""
    parser = argparse.ArgumentParser(
        description="Benchmark paxx against raw docker compose; writes docs/benchmarks.md.",
        epilog=EPILOG,
    )
    parser.add_argument(
        "--repeat", type=int, help="repetitions per measure (default 5; 2 with --quick)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short run: 2 repetitions, 20 s at rest"
    )
    parser.add_argument(
        "--rest", type=float, help="seconds to watch the stack at rest (default 60)"
    )
    parser.add_argument(
        "--second-engine",
        metavar="DOCKER_HOST",
        default="",
        help="also measure the cold start (P1') on this engine, e.g. "
        "unix:///run/offline-hub/docker-modern.sock; its images must be present",
    )
    parser.add_argument(
        "--wait-idle",
        metavar="PERCENT",
        type=float,
        help="before each timed cold start, wait until the CPUs were this idle over 3 s "
        "(a shared machine); the page shows the idle share of every run either way",
    )
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 2 if args.quick else 5
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.rest is None:
        args.rest = 20.0 if args.quick else 60.0
    if args.rest < 0:
        parser.error("--rest must not be negative")
    if args.wait_idle is not None and not 0 < args.wait_idle < 100:
        parser.error("--wait-idle must be a percentage between 0 and 100")
    return args


def _interrupt(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when the page was written, 1 when a command failed, 130 on ^C."""
    args = parse_args(argv)
    bench = Bench(args.repeat, args.rest)
    bench.second_engine = args.second_engine
    bench.wait_idle = args.wait_idle
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        run_line = RunLine(
            date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            command=" ".join(["benchmarks/bench.py", *(sys.argv[1:] if argv is None else argv)]),
            mode=f"{'quick run' if args.quick else 'full run'}, {args.repeat} repetitions",
        )
        sections = run_bench(bench, run_line)
        for target in [t for s in sections for t in s.targets]:
            verdict = {True: "met", False: "NOT met", None: "-"}[target.met]
            print(f"{verdict:8} {target.name}: {target.measured} (limit {target.limit})")
        return 0
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        log("cleaning up")
        bench.cleanup()


def run_bench(bench: Bench, run_line: RunLine) -> list[Section]:
    """Set up the stack, run every measure, write the page; the page's sections."""
    load_before = os.getloadavg()
    source_before = source_state()
    others = len(bench.docker("ps", "-q").stdout.split())
    stack = bench.new_stack("stack", STACK_FEATURES)
    log(f"project {stack.name} in {stack.folder}; {bench.repeat} repetitions")
    facts = machine(bench, stack)
    bench.engine_label = f"Docker {facts['Docker Engine']}"
    bench.start_interval = has_start_interval(bench.engine_label)
    image_rows = images(bench, stack)
    missing = [row[1] for row in image_rows if row[2] == ""]
    if missing:
        raise BenchError(f"images not present (pull them first): {', '.join(missing)}")

    warm_up(bench)
    sections = run_measures(bench, stack, MEASURES)
    load_after = os.getloadavg()
    facts["load average (1 min), start / end"] = f"{load_before[0]:.2f} / {load_after[0]:.2f}"
    facts["other containers running on the engine"] = str(others)
    facts["paxx source"] = describe_source(source_before, source_state())
    OUTPUT.write_text(render_page(sections, facts, image_rows, run_line))
    log(f"wrote {OUTPUT.relative_to(ROOT)}")
    return sections


def warm_up(bench: Bench) -> None:
    """Fill the bytecode cache and the page cache: each kind of paxx command once, untimed."""
    scratch = bench.new_project("warm-up")
    bench.paxx_cmd(scratch, "feature", "add", *all_features())
    bench.paxx_cmd(scratch, "status")
    bench.paxx_cmd(scratch, "--help")
    run([bench.python, "-c", "import structlog"], scratch.folder, bench.env())


def run_measures(bench: Bench, stack: Stack, measures: list[Measure]) -> list[Section]:
    """Run the measures stage by stage; their sections in the order of `measures`."""
    sections: dict[int, Section] = {}
    for index in sorted(range(len(measures)), key=lambda i: measures[i].stage):
        measure = measures[index]
        log(measure.name)
        if measure.stage >= Stage.RUNNING:
            ensure_running(bench, stack)
        sections[index] = measure.measure(bench, stack)
    return [sections[index] for index in range(len(measures))]
