#!/usr/bin/env python3
"""paxx's speed and memory, side by side with raw `docker compose` in the same run.

    ./scripts/dev bench              # full run: 5 repetitions per measure, 60 s at rest
    ./scripts/dev bench --quick      # a short run: 2 repetitions, 20 s at rest
    ./scripts/dev bench --repeat 9   # more repetitions

It writes docs/benchmarks.md. Every measure runs in throwaway projects under one temporary
folder, with its own XDG_STATE_HOME; every container, volume and network it creates carries
a Compose project name of its own and is removed at the end (other stacks on the engine are
never touched). All images must already be present: nothing is pulled. DOCKER_HOST (or
DOCKER_CONTEXT) selects the engine, as for docker itself.

The code is the package beside this file, paxxbench/ (its __init__ says where what is).
"""

import sys

from paxxbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
