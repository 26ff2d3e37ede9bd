"""P4: how fast paxx starts (`--help`, `--version`), and where its imports spend the time."""

from __future__ import annotations

from paxxbench.importtime import median_packages, parse_importtime, top_imports, total_seconds
from paxxbench.measure import Measure, Stage
from paxxbench.results import Section, Target, table
from paxxbench.runner import Run, run
from paxxbench.stats import fmt, rss, walls
from paxxbench.workbench import Bench, Stack

#: The row of the CLI framework's own import time.
TYPER = "`python -c 'import typer'` (CLI framework floor)"
#: The row of the interpreter's own start.
PYTHON = "`python -c pass` (interpreter floor)"


def measure_startup(bench: Bench, stack: Stack) -> Section:
    """P4: `paxx --help` and `--version`, interpreter floors, import-time offenders."""
    section = Section("P4 · Start-up: `paxx --help`, `paxx --version`")
    commands = {
        "`paxx --help`": [bench.paxx, "--help"],
        "`paxx --version`": [bench.paxx, "--version"],
        PYTHON: [bench.python, "-c", "pass"],
        TYPER: [bench.python, "-c", "import typer"],
    }
    # paxx started containers through python-on-whales until its import was measured on the
    # path of a cold `paxx up`; the row stays where it is installed, for the record.
    whales = [bench.python, "-c", "import python_on_whales"]
    if run(whales, stack.folder, bench.env(), check=False).returncode == 0:
        commands["`python -c 'import python_on_whales'` (no longer used)"] = whales
    env = bench.env(stack)
    for argv in commands.values():  # warm-up: bytecode cache, page cache
        run(argv, stack.folder, env)
    runs: dict[str, list[Run]] = {label: [] for label in commands}
    for _ in range(bench.repeat * 2):
        for label, argv in commands.items():
            runs[label].append(run(argv, stack.folder, env))
    rows = [[label, walls(r).fmt(), rss(r).fmt("MB")] for label, r in runs.items()]
    section.add(
        f"{bench.repeat * 2} runs each, interleaved, after one warm-up run.",
        table(["command", "wall time, median (min–max)", "peak RSS"], rows),
    )
    for label in ("`paxx --help`", "`paxx --version`"):
        median = walls(runs[label]).median
        section.targets.append(
            Target(f"P4 {label} wall time", fmt(median, "s"), "≤ 150 ms", median <= 0.150)
        )
    section.notes += why_help_is_slow(runs)
    section.add(*import_offenders(bench, stack))
    section.reproduce = [
        "# P4",
        "paxx --help; paxx --version",
        "python -X importtime -m paxx_env --help   # also --version, status",
    ]
    return section


def why_help_is_slow(runs: dict[str, list[Run]]) -> list[str]:
    """Why `paxx --help` misses 150 ms, from the interpreter's own start measured beside it."""
    help_, floor = walls(runs["`paxx --help`"]).median, walls(runs[PYTHON]).median
    if help_ <= 0.150:
        return []
    return [
        "**Why `paxx --help` takes more than 150 ms (P4).** It takes "
        f"{fmt(help_, 's')}; `python -c pass` alone takes {fmt(floor, 's')} here, so paxx's "
        f"own share is {fmt(help_ - floor, 's')}. On a terminal 80 columns wide or wider (and "
        "when piped, as here) --help prints the text commands/helptext.py keeps, without "
        "importing typer; the import-time table below shows what it loads."
    ]


def import_offenders(bench: Bench, stack: Stack) -> list[str]:
    """P4: what `-X importtime` says the start-up of --help, --version and status spends."""
    runs = min(bench.repeat, 3)
    paragraphs = [
        f"Import time by `python -X importtime -m paxx_env …` (median of {runs} runs; "
        "importtime's own bookkeeping inflates the totals a little). *Imports* lists the "
        "imports started by the program (`paxx_env.commands.app` is imported by `main()`, "
        "others inside the commands) and, as `parent › module`, the imports those start, each with "
        "everything it pulls in; *package* sums each top-level package's own time."
    ]
    for args in (["--help"], ["--version"], ["status"]):
        parsed = [
            parse_importtime(
                run(
                    [bench.python, "-X", "importtime", "-m", "paxx_env", *args],
                    stack.folder,
                    bench.env(stack),
                ).stderr
            )
            for _ in range(runs)
        ]
        paragraphs += [
            f"`paxx {' '.join(args)}`: {fmt(total_seconds(parsed), 's')} of imports in all.",
            offenders_table(top_imports(parsed)[:10], median_packages(parsed)[:8]),
        ]
    return paragraphs


def offenders_table(top: list[tuple[str, float]], packages: list[tuple[str, float]]) -> str:
    """The slowest imports and the slowest packages side by side, as long as the longer list."""
    rows = []
    for i in range(max(len(top), len(packages))):
        module, cumulative = top[i] if i < len(top) else ("", 0.0)
        package, own = packages[i] if i < len(packages) else ("", 0.0)
        rows.append(
            [
                f"`{module}`" if module else "",
                fmt(cumulative, "s") if module else "",
                f"`{package}`" if package else "",
                fmt(own, "s") if package else "",
            ]
        )
    return table(["import", "cumulative", "package", "own time"], rows)


MEASURE = Measure("P4 start-up", Stage.STOPPED, measure_startup)
