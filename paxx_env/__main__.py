"""Entry point of the `paxx` command (and `python -m paxx_env`).

`paxx --version`, `paxx [-C DIR] status [--json]` and a `paxx [-C DIR] up` that has nothing
to do are answered here without building the typer app or loading the catalog: they are the
commands people and scripts run most, and typer with its pydantic adapters costs about 100 ms
to import (docs/benchmarks.md). Everything else, `--help` included, goes through the
typer app in commands/app.py.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run the command line."""
    code = _fast(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from paxx_env.commands.app import main as run

    run()


def _fast(argv: list[str]) -> int | None:
    """Answer the fast commands; None means "not one of them: use the full command line"."""
    if argv == ["--version"]:
        from paxx_env import __version__

        sys.stdout.write(f"paxx {__version__}\n")
        return 0
    args = list(argv)
    folder = "."
    if len(args) >= 2 and args[0] in ("-C", "--project-dir"):
        folder, args = args[1], args[2:]
    elif args and args[0].startswith("--project-dir="):
        folder, args = args[0].split("=", 1)[1], args[1:]
    if args == ["up"]:
        return _up_if_nothing_to_do(folder)
    if args not in (["status"], ["status", "--json"]):
        return None
    return _status(folder, json_output=args == ["status", "--json"])


def _up_if_nothing_to_do(folder: str) -> int | None:
    """`paxx up` when everything is already up: the same output, without the full machinery."""
    from pathlib import Path

    from paxx_env.errors import PaxxError
    from paxx_env.paths import find_root

    root = find_root((Path.cwd() / folder).resolve())
    if root is None:
        return None
    try:
        from paxx_env.lastup import nothing_to_do

        services = nothing_to_do(root)
    except PaxxError:
        return None  # let the full command report it
    if services is None:
        return None
    width = max(len(s) for s in services)
    for service in services:
        sys.stderr.write(f"{service:<{width}}  already up\n")
    return _status(str(root), json_output=False)


def _status(folder: str, json_output: bool) -> int:
    import signal
    from pathlib import Path

    from paxx_env.errors import PaxxError, UsageError, report
    from paxx_env.paths import require_root

    signal.signal(signal.SIGINT, lambda _signal, _frame: sys.exit(130))
    start = (Path.cwd() / folder).resolve()
    try:
        if not start.is_dir():
            raise UsageError(
                f"{folder} is not a folder", "pass a project folder to -C / --project-dir"
            )
        root = require_root(start)
        from paxx_env.lastup import SWARM, LastUp, choose_target

        if choose_target(root, LastUp.load(root), None, "status") == SWARM:
            from paxx_env.swarm.report import swarm_report
            from paxx_env.ui import print_swarm_status

            print_swarm_status(swarm_report(root), json_output)
            return 0
        from paxx_env.report import project_report
        from paxx_env.ui import print_status

        print_status(project_report(root), json_output)
    except PaxxError as error:
        report(error)
        return error.exit_code
    return 0


if __name__ == "__main__":
    main()
