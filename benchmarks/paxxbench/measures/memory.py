"""P4: the peak memory of paxx's own Python process, for every command measured."""

from __future__ import annotations

from paxxbench.checkout import all_features
from paxxbench.measure import Measure, Stage
from paxxbench.results import Section, Target, table
from paxxbench.runner import run
from paxxbench.stats import MB
from paxxbench.workbench import Bench, Stack

#: Prints the Python process's own peak RSS (KiB) to $BENCH_RSS_FILE when paxx exits; the rest
#: is what the `paxx` console script does.
RSS_SHIM = """\
import atexit, os, resource, sys
def _report():
    with open(os.environ["BENCH_RSS_FILE"], "w") as out:
        out.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
atexit.register(_report)
from paxx_env.__main__ import main
sys.argv[0] = "paxx"
sys.exit(main())
"""


def own_peak_rss(bench: Bench, stack: Stack, *args: str) -> tuple[float, float]:
    """Peak RSS of paxx's own Python process, and of the command's whole tree (MB)."""
    report = bench.tmp / "rss.txt"
    result = run(
        [bench.python, "-c", RSS_SHIM, *args],
        stack.folder,
        bench.env(stack, BENCH_RSS_FILE=str(report)),
    )
    return int(report.read_text()) / MB, result.maxrss_kb / MB


def measure_memory(bench: Bench, stack: Stack) -> Section:
    """P4: peak RSS of paxx's own Python process, for every command measured."""
    section = Section("P4 · Peak memory")
    features = all_features()
    measured = {
        "`paxx --help`": own_peak_rss(bench, stack, "--help"),
        "`paxx --version`": own_peak_rss(bench, stack, "--version"),
        "`paxx status`": own_peak_rss(bench, stack, "status"),
        "`paxx up` (already healthy)": own_peak_rss(bench, stack, "up"),
        f"`paxx feature add` ({len(features)} features, fresh project)": own_peak_rss(
            bench, bench.new_project("memory"), "feature", "add", *features
        ),
    }
    bench.reset(stack)
    measured["`paxx up` (cold)"] = own_peak_rss(bench, stack, "up")
    rows = [[label, f"{own:.1f} MB", f"{tree:.1f} MB"] for label, (own, tree) in measured.items()]
    worst = max(own for own, _ in measured.values())
    section.add(
        "One run of each command through a two-line shim that does what the `paxx` script does "
        "and reports the Python process's own peak (`getrusage(RUSAGE_SELF)`). The second "
        "column is the whole command's peak as `/usr/bin/time -f %M` reports it: the largest "
        "process of the tree, which for commands that run `docker compose` is that child.",
        table(["command", "paxx process, peak RSS", "command tree, peak RSS"], rows),
    )
    section.targets.append(
        Target(
            "P4 peak RSS of paxx's own process, every command",
            f"{worst:.1f} MB at most",
            "≤ 60 MB",
            worst <= 60,
        )
    )
    return section


MEASURE = Measure("P4 memory", Stage.LAST, measure_memory)
