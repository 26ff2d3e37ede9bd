"""`paxx doctor`: everything paxx depends on, checked one by one."""

from __future__ import annotations

import typer

from paxx_env.commands import common


def doctor() -> None:
    """Check the engine, Compose, health-check support, ports, disk space and generated files.

    Each check prints ok, warn or fail with a fix; the exit code is 1 when any check fails.
    """
    from paxx_env.doctor import FAIL, run_checks
    from paxx_env.paths import find_root

    catalog = common.load_catalog()
    project = common.open_project(catalog) if find_root(common.start()) is not None else None
    failed = False
    for check in run_checks(project, catalog):
        typer.echo(f"{check.status:<5} {check.name:<14} {check.message}")
        if check.fix and check.status != "ok":
            typer.echo(f"{'':<20} fix: {check.fix}")
        failed = failed or check.status == FAIL
    if failed:
        raise typer.Exit(1)
