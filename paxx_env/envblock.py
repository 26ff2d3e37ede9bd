""".env as paxx edits it: one marked block paxx owns, every other line left exactly as it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from paxx_env import dotenv
from paxx_env.errors import ConfigError

if TYPE_CHECKING:
    # Only a type: reading .env (`paxx up`'s quick start, the pytest plugin) does not load
    # the renderer.
    from paxx_env.render import EnvSection

BEGIN = "# >>> paxx >>>"
END = "# <<< paxx <<<"
_FIX_MARKERS = (
    f"put back the `{BEGIN}` and `{END}` lines around paxx's variables in .env "
    "(or delete both markers and the variables between them to let paxx start over)"
)


@dataclass
class EnvDocument:
    """A parsed .env: the lines around paxx's block, and the values inside and outside it."""

    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    block: dict[str, str] = field(default_factory=dict)
    outside: dict[str, int] = field(default_factory=dict)
    has_block: bool = False
    #: Keys of the block kept for removed services (see KEPT_TITLE), not the app's.
    kept: set[str] = field(default_factory=set)


def read_env(text: str) -> EnvDocument:
    """Split a .env file into the user's lines and paxx's block, validating every line."""
    lines = dotenv.parse(text)
    document = EnvDocument()
    state = "before"
    kept = False
    for line in lines:
        marker = line.text.strip()
        if marker == BEGIN:
            if state != "before":
                raise ConfigError(
                    f".env line {line.number}: a second paxx block starts here", _FIX_MARKERS
                )
            state = "inside"
            document.has_block = True
            continue
        if marker == END:
            if state != "inside":
                raise ConfigError(
                    f".env line {line.number}: a paxx block ends without a start", _FIX_MARKERS
                )
            state = "after"
            continue
        if state == "inside":
            kept = kept or marker == KEPT_TITLE
            if line.key is not None and line.value is not None:
                document.block[line.key] = line.value
                if kept:
                    document.kept.add(line.key)
            continue
        (document.before if state == "before" else document.after).append(line.text)
        if line.key is not None:
            document.outside[line.key] = line.number
    if state == "inside":
        raise ConfigError(".env: the paxx block has no end marker", _FIX_MARKERS)
    return document


def render_block(
    sections: tuple[EnvSection, ...],
    values: dict[str, str],
    retained: dict[str, str],
    source_label: str,
) -> list[str]:
    """The lines of paxx's block, markers included."""
    lines = [
        BEGIN,
        f"# Managed by paxx from {source_label}. Ports, secrets and settings are kept",
        "# when paxx rewrites this block, so edit them here; the other values are derived",
        "# from them. Lines outside this block are yours and never touched.",
    ]
    for section in sections:
        lines += ["", f"# {section.title}"]
        lines += [dotenv.format_line(e.key, values[e.key]) for e in section.entries]
    if retained:
        lines += ["", KEPT_TITLE]
        lines += [dotenv.format_line(key, value) for key, value in sorted(retained.items())]
    lines.append(END)
    return lines


KEPT_TITLE = "# Kept: secrets of removed services whose data volumes may still exist"


def without_kept(text: str, keys: set[str]) -> str:
    """The .env text without the kept secrets named in `keys` (their volumes are gone)."""
    out = []
    kept = False
    for line in text.split("\n"):
        marker = line.strip()
        if marker == KEPT_TITLE:
            kept = True
        elif marker in {BEGIN, END}:
            kept = False
        if kept and line.partition("=")[0].strip() in keys:
            continue
        out.append(line)
    return "\n".join(out)


def compose_env(document: EnvDocument, block: list[str]) -> bytes:
    """The whole .env text: the user's lines with paxx's block in its place (or appended)."""
    if document.has_block:
        lines = [*document.before, *block, *document.after]
    elif document.before:
        separator = [""] if document.before[-1].strip() else []
        lines = [*document.before, *separator, *block]
    else:
        lines = block
    return ("\n".join(lines) + "\n").encode()
