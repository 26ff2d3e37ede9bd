"""Reading a TOML file the user edits (pyproject.toml, paxx.toml) with tomlkit.

Errors name the file and the line, and say how to fix it; tomlkit keeps the document's
formatting and comments for the edits paxx makes later.
"""

from __future__ import annotations

import re
from pathlib import Path

import tomlkit
import tomlkit.exceptions
from tomlkit.toml_document import TOMLDocument

from paxx_env.errors import ConfigError
from paxx_env.fsguard import read_file


def read_toml(path: Path) -> TOMLDocument | None:
    """Parse a TOML file with tomlkit (None when it does not exist), naming the line of an error."""
    data = read_file(path)
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path.name} line {line}: not UTF-8 text", f"save {path.name} as UTF-8"
        ) from None
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(
            f"{path.name} line {exc.line}: not valid TOML ({_toml_reason(exc)})",
            f"fix the syntax at line {exc.line}"
            + (f", column {exc.col}" if exc.col else "")
            + f" of {path.name}",
        ) from None
    except tomlkit.exceptions.TOMLKitError as exc:
        # Errors tomlkit finds after parsing (a key defined twice) carry no position;
        # the standard library's parser names the line.
        at = _tomllib_line(text)
        where = f" line {at}" if at else ""
        raise ConfigError(
            f"{path.name}{where}: not valid TOML ({exc})",
            f"fix the syntax{f' at line {at}' if at else ''} of {path.name}",
        ) from None


def _tomllib_line(text: str) -> int | None:
    import tomllib

    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        return int(found.group(1)) if found else None
    return None


def _toml_reason(exc: tomlkit.exceptions.ParseError) -> str:
    text = re.sub(r"\s+at line \d+ col \d+$", "", str(exc))
    # tomlkit reports the end of the input as the character NUL.
    return text.replace("Unexpected character: '\\x00'", "the file ends too early")
