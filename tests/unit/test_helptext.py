"""`paxx --help` without typer: the kept text is what the typer app draws, and is used only
where the app would draw the same text (a terminal 80 columns wide or wider)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paxx_env.commands import helptext

MODULE = Path(helptext.__file__)
START = 'TOP = """\\\n'
#: The typer app itself, past __main__'s fast paths.
APP = "from paxx_env.commands.app import main; main()"


def help_text(columns: int, *command: str) -> str:
    """The help `command` prints on a terminal `columns` wide, in a process of its own."""
    env = {**os.environ, "COLUMNS": str(columns)}
    done = subprocess.run([*command, "--help"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def drawn(columns: int) -> str:
    """`paxx --help` as the typer app draws it."""
    return help_text(columns, sys.executable, "-c", APP)


def fast(columns: int) -> str:
    """`python -m paxx_env --help`, as a user runs it."""
    return help_text(columns, sys.executable, "-m", "paxx_env")


def test_the_kept_help_is_what_the_app_draws() -> None:
    text = drawn(helptext.WIDTH)
    if os.environ.get("PAXX_UPDATE_GOLDEN"):
        source = MODULE.read_text(encoding="utf-8")
        head = source[: source.index(START) + len(START)]
        escaped = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        MODULE.write_text(head + escaped + '"""\n', encoding="utf-8")
        helptext.TOP = text
    assert text == helptext.TOP, "set PAXX_UPDATE_GOLDEN=1 to write the help anew"
    assert drawn(200) == text  # click draws at most 80 columns: wider terminals get the same


@pytest.mark.parametrize("columns", [80, 132])
def test_help_on_a_wide_terminal_is_the_kept_text(columns: int) -> None:
    assert fast(columns) == helptext.TOP


def test_help_on_a_narrow_terminal_is_drawn_to_fit() -> None:
    narrow = fast(60)
    assert narrow == drawn(60)
    assert narrow != helptext.TOP
    assert "Commands:" in narrow
    assert len(narrow.splitlines()) > len(helptext.TOP.splitlines())  # wrapped to fit
