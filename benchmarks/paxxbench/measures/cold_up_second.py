"""P1': the cold start again, on a second engine (`--second-engine`), side by side in one run.

Docker Engine 25 and later run a health check every `start_interval` until it passes, so
`docker compose up --wait` is quick there too: paxx's lead over it is measured on such an
engine as well as on the run's own. The stack is a second throwaway project on that engine,
with the same features; its images must be present there.
"""

from __future__ import annotations

from paxxbench.machine import engine_label, has_start_interval, images
from paxxbench.measure import Measure, Stage
from paxxbench.measures.cold_up import Engine, cold_section
from paxxbench.results import Section, table
from paxxbench.runner import BenchError
from paxxbench.workbench import STACK_FEATURES, Bench, Stack


def measure_cold_up_second(bench: Bench, _stack: Stack) -> Section:
    """P1 on the second engine, when the run names one."""
    if not bench.second_engine:
        section = Section("P1' · Cold start on a second engine")
        section.add(
            "Not measured in this run: `--second-engine DOCKER_HOST` names the engine "
            "(for instance one with a health-check `start_interval`, Docker ≥ 25)."
        )
        return section
    stack = bench.new_stack("second", STACK_FEATURES, docker_host=bench.second_engine)
    label = engine_label(bench, stack)
    rows = images(bench, stack)
    missing = [row[1] for row in rows if row[2] == ""]
    if missing:
        raise BenchError(
            f"images not present on {bench.second_engine} (pull them first): {', '.join(missing)}"
        )
    engine = Engine("P1'", label, has_start_interval(label), 1.00)
    section = cold_section(bench, stack, engine)
    section.add(
        f"The engine of this section: `DOCKER_HOST={bench.second_engine}`, {label}, with "
        "these images:",
        table(["service", "image", "image id", "stand-in label"], rows),
    )
    section.reproduce.insert(1, f"export DOCKER_HOST={bench.second_engine}")
    return section


MEASURE = Measure("P1' cold start on a second engine", Stage.COLD, measure_cold_up_second)
