"""P5: `paxx feature add` over synthetic catalogs of 25, 50 and 100 services, and its growth."""

from __future__ import annotations

import itertools
from pathlib import Path

from paxxbench.measure import Measure, Stage
from paxxbench.results import Section, table
from paxxbench.runner import Run, run
from paxxbench.stats import fit_line, rss, walls
from paxxbench.workbench import Bench, Stack

SIZES = [25, 50, 100]

SYNTHETIC_SERVICE = """\
image: redis:7.4.2-alpine
command: ["redis-server", "--requirepass", "${{{key}_PASSWORD}}"]
environment:
  REDISCLI_AUTH: ${{{key}_PASSWORD}}
ports:
  - "127.0.0.1:${{PAXX_{key}_PORT}}:6379"
volumes:
  - "{name}-data:/data"
healthcheck:
  test: ["CMD-SHELL", "redis-cli ping | grep -q PONG"]
x-paxx:
  summary: Synthetic service {number}
  secrets: [{key}_PASSWORD]
  defaults:
    {key}_DB: "0"
  ports:
    PAXX_{key}_PORT: {port}
  urls:
    redis: "redis://127.0.0.1:{{{{ PAXX_{key}_PORT }}}}"
  exports:
    {key}_URL: "redis://:{{{{ {key}_PASSWORD | urlquote }}}}@127.0.0.1:{{{{ PAXX_{key}_PORT }}}}/0"
    {key}_DATABASE: "{{{{ {key}_DB }}}}"
"""
SYNTHETIC_PROFILE = """\
summary = "Synthetic feature {number}"
dependencies = ["synthetic-client-{number:03d}>=1.0"]

[env]
F{number:03d}_ENABLED = "true"

[providers.{name}]
services = ["{name}"]

[[files]]
template = "client.py.j2"
target = "f{number:03d}.py"
"""
SYNTHETIC_TEMPLATE = '''\
"""Client {{{{ features | length }}}} of {{{{ app_name }}}}, feature {feature}."""

import os

{{% for name in features %}}
# enabled together with {{{{ name }}}}
{{% endfor %}}
URL = os.environ["{key}_URL"]
PACKAGE = "{{{{ package }}}}"
'''


def write_synthetic_catalog(folder: Path, count: int) -> list[str]:
    """A catalog of `count` services (svcNNN), each with one feature (fNNN); its features."""
    features = []
    for number in range(count):
        name, feature, key = f"svc{number:03d}", f"f{number:03d}", f"SVC{number:03d}"
        (folder / "services").mkdir(parents=True, exist_ok=True)
        (folder / "services" / f"{name}.yaml").write_text(
            SYNTHETIC_SERVICE.format(key=key, name=name, number=number, port=30000 + number)
        )
        templates = folder / "profiles" / feature / "templates"
        templates.mkdir(parents=True)
        (templates.parent / "profile.toml").write_text(
            SYNTHETIC_PROFILE.format(name=name, number=number)
        )
        (templates / "client.py.j2").write_text(SYNTHETIC_TEMPLATE.format(feature=feature, key=key))
        features.append(feature)
    return features


def measure_synthetic_catalog(bench: Bench, _stack: Stack) -> Section:
    """P5: feature add of every feature of each synthetic catalog, the sizes interleaved."""
    section = Section("P5 · A synthetic catalog: 25, 50, 100 services")
    catalogs = {size: bench.tmp / f"catalog-{size}" for size in SIZES}
    features = {size: write_synthetic_catalog(catalogs[size], size) for size in SIZES}
    runs: dict[int, list[Run]] = {size: [] for size in SIZES}
    for _ in range(bench.repeat):
        for size in SIZES:  # interleaved, so that a change of load hits every size alike
            fresh = bench.new_project(f"synthetic{size}")
            runs[size].append(
                run(
                    [bench.paxx, "feature", "add", *features[size]],
                    fresh.folder,
                    bench.env(fresh, PAXX_CATALOG=str(catalogs[size])),
                )
            )
    rows = [
        [
            size,
            walls(runs[size]).fmt(),
            f"{walls(runs[size]).median / size * 1000:.1f} ms",
            rss(runs[size]).fmt("MB"),
        ]
        for size in SIZES
    ]
    section.add(
        "A temporary catalog folder with `services/svcNNN.yaml` (a Redis-like service with a "
        "port, a secret, a default, a volume, a URL and an export) and `profiles/fNNN/` (one "
        "service, one dependency, one `[env]` value, one rendered client module); "
        "`PAXX_CATALOG` points at it and `paxx feature add f000 … fNNN` enables every feature "
        f"at once in a fresh project ({bench.repeat} runs per size, the sizes interleaved).",
        table(["services", "wall time, median (min–max)", "per service", "peak RSS"], rows),
        growth({size: walls(runs[size]).median for size in SIZES}),
    )
    section.reproduce = ["PAXX_CATALOG=/tmp/catalog-100 paxx feature add f000 f001 … f099"]
    return section


def growth(medians: dict[int, float]) -> str:
    """How the time grows with the catalog's size, from the median time of each size."""
    sizes = sorted(medians)
    slope, intercept = fit_line(sizes, [medians[size] for size in sizes])
    marginal = [(medians[b] - medians[a]) / (b - a) for a, b in itertools.pairwise(sizes)]
    steps = [
        f"{cost * 1000:.1f} ms per service from {a} to {b}"
        for cost, (a, b) in zip(marginal, itertools.pairwise(sizes), strict=True)
    ]
    # within the noise (15 %), a rising cost per added service means worse than linear
    verdict = (
        "no worse than linear"
        if all(later <= 1.15 * earlier for earlier, later in itertools.pairwise(marginal))
        else "worse than linear"
    )
    return (
        f"Each added service costs {', '.join(steps)}; a straight line through the medians "
        f"is {intercept * 1000:.0f} ms + {slope * 1000:.1f} ms per service. Growth is linear "
        "when the cost per added service stays the same from one size to the next, and "
        f"worse than linear when it rises: here it is **{verdict}**."
    )


MEASURE = Measure("P5 synthetic catalog", Stage.STOPPED, measure_synthetic_catalog)
