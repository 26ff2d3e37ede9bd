"""The shape of a measure family: what it runs, when in the run, and what it gives the page."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from paxxbench.results import Section
from paxxbench.workbench import Bench, Stack


class Stage(enum.IntEnum):
    """When a measure runs. Stages run in this order; within one, in the registry's order."""

    #: before the shared stack was ever started (start-up, file writing: own projects)
    STOPPED = 1
    #: starts the shared stack from nothing itself, and leaves it removed
    COLD = 2
    #: needs the shared stack running and healthy; the runner brings it up first if not
    RUNNING = 3
    #: needs it running, and changes it in a way the RUNNING measures would notice
    LAST = 4


@dataclass(frozen=True)
class Measure:
    """One family of measures: one module of paxxbench.measures, one line of the registry."""

    #: what the progress log says while it runs
    name: str
    stage: Stage
    #: runs the measure on the workbench and the shared six-service stack; its section
    measure: Callable[[Bench, Stack], Section]
