"""Every measure family, in the order of their sections on the page.

They run stage by stage (see paxxbench.measure.Stage), in this order within a stage. A new
family is one module in paxxbench/measures/ with a `MEASURE`, and its line here (with its
import).
"""

from __future__ import annotations

from paxxbench.measure import Measure
from paxxbench.measures import (
    cold_up,
    cold_up_second,
    feature_add,
    memory,
    noop_up,
    pytest_plugin,
    startup,
    status,
    steady_state,
    synthetic,
)

MEASURES: list[Measure] = [
    cold_up.MEASURE,
    cold_up_second.MEASURE,
    noop_up.MEASURE,
    status.MEASURE,
    startup.MEASURE,
    memory.MEASURE,
    feature_add.MEASURE,
    synthetic.MEASURE,
    steady_state.MEASURE,
    pytest_plugin.MEASURE,
]
