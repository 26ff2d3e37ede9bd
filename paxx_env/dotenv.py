r"""Reading and writing .env files in the dialect Docker Compose reads.

Compose's dotenv rules differ from a shell's, and from python-dotenv's in one corner, so paxx
writes every value in the form both Compose and python-dotenv read back unchanged:

* plain values (letters, digits and ``_./:@%+,=-``) are written bare;
* anything else without ``'`` or ``\\`` is single-quoted, which both read literally
  (``$``, ``#``, ``"`` and spaces included);
* the rest is double-quoted with ``\\\\``, ``\\"``, ``\\$``, ``\\n``, ``\\r`` and ``\\t``
  escapes. Compose reads that exactly; python-dotenv keeps ``\\$`` as two characters, so only a
  value holding ``$`` together with ``'`` or ``\\`` reads differently in a Python app.

The parser follows compose-go's rules (quotes, escapes, inline comments, ``$VAR``
interpolation from earlier lines) so paxx sees what the containers will see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from paxx_env.errors import ConfigError

_BARE = re.compile(r"^[A-Za-z0-9_./:@%+,=-]*\Z")
_KEY = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*")
_DOUBLE_ESCAPES = {
    "\\": "\\",
    '"': '"',
    "'": "'",
    "$": "$",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
}
_VAR = re.compile(
    r"\$(?:\$|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


@dataclass(frozen=True)
class EnvLine:
    """One line of a .env file: its text and, for an assignment, the key and value."""

    text: str
    number: int
    key: str | None = None
    value: str | None = None


def format_value(value: str) -> str:
    """Quote `value` so that Compose reads it back exactly (see the module docstring)."""
    if _BARE.match(value):
        return value
    if "'" not in value and "\\" not in value and "\n" not in value and "\r" not in value:
        return f"'{value}'"
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("$", "\\$")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def format_line(key: str, value: str) -> str:
    """A `KEY=value` line with the value quoted for Compose."""
    return f"{key}={format_value(value)}"


def parse(text: str, source: str = ".env") -> list[EnvLine]:
    """Parse a .env file into lines, raising ConfigError naming the first bad line."""
    lines: list[EnvLine] = []
    values: dict[str, str] = {}
    # Split on "\n" only: str.splitlines() would also split on characters such as \x1e
    # that Compose keeps inside a value.
    rows = text.split("\n")
    if rows and rows[-1] == "":
        rows.pop()
    for number, row in enumerate(rows, start=1):
        raw = row[:-1] if row.endswith("\r") else row
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            lines.append(EnvLine(raw, number))
            continue
        match = _KEY.match(raw)
        if not match:
            raise _bad_line(source, number, None, "expected KEY=value")
        key = match["key"]
        value = _parse_value(raw[match.end() :], values, source, number, key)
        values[key] = value
        lines.append(EnvLine(raw, number, key, value))
    return lines


def values_of(lines: list[EnvLine]) -> dict[str, str]:
    """The assignments of parsed lines; a later assignment wins, as in Compose."""
    return {
        line.key: line.value for line in lines if line.key is not None and line.value is not None
    }


def _parse_value(rest: str, known: dict[str, str], source: str, number: int, key: str) -> str:
    if rest.startswith("'"):
        end = _closing_quote(rest, "'")
        if end < 0:
            raise _bad_line(source, number, key, "the single quote is not closed")
        _check_trailer(rest[end + 1 :], source, number, key)
        return rest[1:end].replace("\\'", "'")
    if rest.startswith('"'):
        end = _closing_quote(rest, '"')
        if end < 0:
            raise _bad_line(source, number, key, "the double quote is not closed")
        _check_trailer(rest[end + 1 :], source, number, key)
        return _unescape_double(rest[1:end], known)
    # Unquoted: an inline comment starts at whitespace followed by '#'.
    comment = re.search(r"\s#", rest)
    if comment:
        rest = rest[: comment.start()]
    value = rest.strip()
    if value[:1] in {"'", '"'}:
        raise _bad_line(source, number, key, "a quote is not closed")
    return _interpolate(value, known)


def _closing_quote(text: str, quote: str) -> int:
    index = 1
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == quote:
            return index
        index += 1
    return -1


def _check_trailer(trailer: str, source: str, number: int, key: str) -> None:
    trailer = trailer.strip()
    if trailer and not trailer.startswith("#"):
        raise _bad_line(source, number, key, "text after the closing quote")


def _unescape_double(body: str, known: dict[str, str]) -> str:
    out: list[str] = []
    chunk: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body) and body[index + 1] in _DOUBLE_ESCAPES:
            out.append(_interpolate("".join(chunk), known))
            chunk = []
            out.append(_DOUBLE_ESCAPES[body[index + 1]])
            index += 2
            continue
        chunk.append(char)
        index += 1
    out.append(_interpolate("".join(chunk), known))
    return "".join(out)


def _interpolate(text: str, known: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match["braced"] or match["plain"]
        value = known.get(name)
        if match["op"] == ":-" and not value:
            return match["default"] or ""
        if match["op"] == "-" and value is None:
            return match["default"] or ""
        return value or ""

    return _VAR.sub(replace, text)


def _bad_line(source: str, number: int, key: str | None, why: str) -> ConfigError:
    # The line itself is not shown: it may hold a secret.
    where = f"{source} line {number}" + (f" ({key})" if key else "")
    return ConfigError(
        f"{where}: cannot parse: {why}",
        f"fix or delete that line in {source}; quote values that hold spaces, '#' or '$'",
    )
