"""`paxx dashboard`: the live page of the environment (the optional `dashboard` extra)."""

from __future__ import annotations

import importlib.util
import sys
from typing import Annotated

import typer

from paxx_env.commands import common

HELP = """\
Serve a live page of the environment on 127.0.0.1, until Ctrl-C.

\b
One page with what `paxx status`, `logs` and `env` print, kept live:
  - every service: state, health (with the last health-check output when
    unhealthy), image and digest, host ports, links to its own UI
  - the logs of a service, followed, with a filter
  - the app's variables as `paxx env` prints them, secrets masked until clicked
  - drift and the current generation, as `paxx status` reports them
  - Up, Down and Restart buttons, with the progress lines `paxx up` prints
    (deleting the data volumes needs the project name typed)

The page changes within a second of a change in the engine or the project's files.

\b
  paxx dashboard                       open it in the browser
  paxx dashboard --no-open -p 8900     print the URL, on a port of your choice

It listens on 127.0.0.1 only, and the URL it prints carries a random token:
requests without it are refused.

\b
Needs the dashboard extra:  pip install 'paxx[dashboard]'
"""

#: What the extra brings; looked for without importing it, so `paxx --help` stays as fast.
EXTRA_MODULES = ("starlette", "uvicorn")


def dashboard(
    port: Annotated[
        int,
        typer.Option(
            "--port", "-p", help="Port on 127.0.0.1 (default: a free one).", min=0, max=65535
        ),
    ] = 0,
    no_open: Annotated[
        bool, typer.Option("--no-open", help="Print the URL but do not open a browser.")
    ] = False,
) -> None:
    """Serve a live page of the environment on 127.0.0.1 (help: HELP)."""
    missing = [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        from paxx_env.errors import PaxxError

        raise PaxxError(
            "`paxx dashboard` needs the dashboard extra, which is not installed "
            f"(no {' or '.join(missing)})",
            "install it with `pip install 'paxx[dashboard]'`, then run `paxx dashboard` again",
        )
    from paxx_env.dashboard.serve import serve

    root = common.root()
    code = serve(root, common.load_catalog(), port, not no_open, sys.stdout)
    if code:
        typer.echo("paxx dashboard stopped.", err=True)
        raise typer.Exit(code)
