"""The error tree: every failure paxx reports is a `PaxxError` with a message and a fix.

The CLI catches `PaxxError` once, prints two lines (what went wrong, how to fix it) and exits
with the error's `exit_code`: 1 for runtime failures, 2 for bad usage, bad configuration or a
refused change, 127 when `paxx run` cannot start its command, 130 for an interruption.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TextIO


class PaxxError(Exception):
    """A failure with a message for the user and a hint on how to fix it."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "", details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: Extra output shown after the two lines (health-check output, log lines).
        self.details = details


class UsageError(PaxxError):
    """Bad usage: an unknown feature or service, a malformed option, nothing to act on."""

    exit_code = 2


class ConfigError(UsageError):
    """The declaration, a .env file or the catalog is malformed."""


class ConflictError(UsageError):
    """A change paxx refuses to make, such as overwriting a file the user edited."""


class InTheWay(UsageError):
    """Something in the project folder stands where paxx reads or writes its own file."""


class EngineError(PaxxError):
    """The Docker engine or Compose is missing, unreachable or failed a command."""


class CommandFailed(EngineError):
    """A docker command exited non-zero; carries argv, exit code and output."""

    def __init__(self, argv: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        first = (stderr.strip() or stdout.strip() or f"exit code {returncode}").splitlines()
        super().__init__(
            f"`{' '.join(argv[:4])} ...` failed: {first[-1] if first else returncode}",
            "run with -v to see the full command and its output",
            details=stderr.strip(),
        )
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


class EngineTimeout(EngineError):
    """A docker command did not answer in time."""


class ServiceFailed(PaxxError):
    """A service did not become healthy."""


class CommandNotFound(PaxxError):
    """`paxx run` could not start its command (the shell's exit code for that)."""

    exit_code = 127


class Interrupted(PaxxError):
    """The user pressed Ctrl-C."""

    exit_code = 130


def report(error: PaxxError, out: TextIO | None = None) -> None:
    """Print an error as paxx does: `paxx: error: WHAT`, `  fix: HOW`, then any details.

    To stderr, unless `out` is given.
    """
    out = out or sys.stderr
    color = out.isatty() and "NO_COLOR" not in os.environ
    red, dim, reset = ("\x1b[31m", "\x1b[2m", "\x1b[0m") if color else ("", "", "")
    out.write(f"{red}paxx: error:{reset} {error.message}\n")
    if error.hint:
        out.write(f"{dim}  fix:{reset} {error.hint}\n")
    if error.details:
        out.write("\n" + error.details.rstrip() + "\n")
