"""Entry point of the `paxx` command (and `python -m paxx_env`).

`paxx --version`, `paxx --help` (on a terminal at least 80 columns wide: its text is kept,
generated, in commands/helptext.py), `paxx [-C DIR] status [--json]` and a `paxx [-C DIR] up`
whose files are what the last sync left are answered here without building the typer app or
loading the catalog: they are the commands people and scripts run most, and typer costs about
100 ms to import, the catalog and the renderer more (docs/benchmarks.md). Everything else goes
through the typer app in commands/app.py.
"""

from __future__ import annotations

import sys

# Not `from typing import TYPE_CHECKING`: typing (with re, enum, collections) is about a third
# of `paxx --version`'s start-up. Type checkers treat this name as typing's.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from paxx_env.engine.containers import ContainerState
    from paxx_env.lastup import FirstLook
    from paxx_env.state import State


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
    if argv in (["--help"], ["-h"]):
        return _help()
    args = list(argv)
    folder = "."
    if len(args) >= 2 and args[0] in ("-C", "--project-dir"):
        folder, args = args[1], args[2:]
    elif args and args[0].startswith("--project-dir="):
        folder, args = args[0].split("=", 1)[1], args[1:]
    if args == ["up"]:
        return _up(folder)
    if args not in (["status"], ["status", "--json"]):
        return None
    return _status(folder, json_output=args == ["status", "--json"])


def _help() -> int | None:
    """The top-level help, kept as the typer app draws it 80 columns wide; None when narrower."""
    from paxx_env.commands.helptext import TOP, WIDTH

    if _columns() < WIDTH:
        return None
    sys.stdout.write(TOP)
    return 0


def _columns() -> int:
    """The terminal's width as click reads it (shutil.get_terminal_size, without shutil)."""
    import os

    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def _up(folder: str) -> int | None:
    """`paxx up` when the folder is what the last sync left: no typer, catalog or rendering.

    None when a sync is needed (or there is no project): the full command does the work.
    """
    import signal
    from pathlib import Path

    from paxx_env.errors import Interrupted, PaxxError, report
    from paxx_env.fsio import exclusive_lock
    from paxx_env.paths import find_root, project_lock_path
    from paxx_env.userstate import state_home_hint

    root = find_root((Path.cwd() / folder).resolve())
    if root is None:
        return None
    signal.signal(signal.SIGINT, _interrupt)
    try:
        # The first look and the quick start run under one hold of the project lock: no
        # other paxx command changes the environment between them, so the containers the
        # first look listed serve the quick start's survey too.
        with exclusive_lock(project_lock_path(root), _waiting, state_home_hint()):
            looked = _first_look(root)
            state = _start_quickly(root, looked) if looked.services is None else None
        if looked.services is not None:
            return _already_up(root, looked)
        if state is None:
            return None
        from paxx_env.report import project_report
        from paxx_env.ui import print_status

        print_status(project_report(root, state, state.env_hash), json_output=False)
    except PaxxError as error:
        report(error)
        return error.exit_code
    except KeyboardInterrupt:
        report(Interrupted("interrupted", ""))
        return Interrupted.exit_code
    return 0


def _start_quickly(root: Path, looked: FirstLook) -> State | None:
    """The quick start (quickstart.py): state.json once the services are up; None: sync."""
    from paxx_env.quickstart import prepare
    from paxx_env.ui import Progress

    quick = prepare(root, [], looked)
    if quick is None:
        return None
    with Progress(quick.targets) as progress:
        quick.run(UP_TIMEOUT, progress)
    return quick.state


#: `paxx up`'s default --timeout (commands/lifecycle.py).
UP_TIMEOUT = 180


def _waiting(holder: str) -> None:
    who = f" (pid {holder})" if holder else ""
    sys.stderr.write(f"waiting for another paxx command on this project{who} to finish...\n")


def _interrupt(_signal: int, _frame: object) -> None:
    from paxx_env.errors import Interrupted

    raise Interrupted(
        "interrupted",
        "run the command again: paxx writes its files atomically, so none is half-written",
    )


def _first_look(root: Path) -> FirstLook:
    """Whether everything runs, healthy, as the last `up` left it (lastup.first_look).

    The cheapest answer: two engine calls, no survey of volumes and images (P2 in
    docs/benchmarks.md). In doubt (an error), an empty look: the quick start or the full
    command asks again, and reports the error.
    """
    from paxx_env.errors import PaxxError
    from paxx_env.lastup import FirstLook, first_look

    try:
        return first_look(root)
    except PaxxError:
        return FirstLook()


def _already_up(root: Path, looked: FirstLook) -> int:
    """Say every service is up; the status table reuses the containers the first look listed."""
    services = looked.services or []
    width = max(len(s) for s in services)
    for service in services:
        sys.stderr.write(f"{service:<{width}}  already up\n")
    return _status(str(root), json_output=False, listed=looked.containers)


def _status(folder: str, json_output: bool, listed: list[ContainerState] | None = None) -> int:
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

        print_status(project_report(root, listed=listed), json_output)
    except PaxxError as error:
        report(error)
        return error.exit_code
    return 0


if __name__ == "__main__":
    main()
