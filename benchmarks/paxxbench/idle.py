"""How busy the machine is right now: the share of CPU time spent idle, from /proc/stat.

On a shared machine a cold start measured while others' test suites run says more about
them than about paxx. The load average reacts slowly (a one-minute decay); the idle share
over the last few seconds says whether the CPUs are free now. `--wait-idle` makes each
timed cold start wait for it, and the page shows what each run started with.
"""

from __future__ import annotations

import time
from pathlib import Path

from paxxbench.runner import log

STAT = Path("/proc/stat")
#: over how many seconds the idle share is taken
WINDOW = 3.0
#: give up waiting after this long, and measure anyway (the page shows the idle share)
PATIENCE = 1800.0


def _idle_and_total() -> tuple[int, int]:
    fields = [int(v) for v in STAT.read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return idle, sum(fields[:8])


def idle_share(seconds: float = WINDOW) -> float:
    """The percentage of CPU time all CPUs spent idle over the next `seconds`."""
    try:
        idle_before, total_before = _idle_and_total()
        time.sleep(seconds)
        idle_after, total_after = _idle_and_total()
    except (OSError, ValueError, IndexError):
        return float("nan")
    total = total_after - total_before
    return 100.0 * (idle_after - idle_before) / total if total else float("nan")


def wait_until_idle(percent: float | None) -> float:
    """Wait until the CPUs were at least `percent` % idle over WINDOW; return the share seen.

    With `percent` None, measure once and do not wait.
    """
    started = time.monotonic()
    share = idle_share()
    while percent is not None and not share >= percent:
        if time.monotonic() - started > PATIENCE:
            log(f"CPUs still {share:.0f} % idle after {PATIENCE:.0f} s; measuring anyway")
            break
        log(f"waiting for idle CPUs: {share:.0f} % idle, want {percent:.0f} %")
        time.sleep(10)
        share = idle_share()
    return share
