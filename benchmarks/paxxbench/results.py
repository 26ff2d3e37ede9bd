"""What a measure hands to the page: a section of text and tables, and its targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Target:
    """One target of the summary."""

    name: str
    measured: str
    limit: str
    met: bool | None


@dataclass
class Section:
    """A section of the page, and what its measure adds to the page's other parts."""

    title: str
    body: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    #: paragraphs printed under the summary table (why a target is not met, say)
    notes: list[str] = field(default_factory=list)
    #: lines of the shell block in *Reproduce*: the commands this measure runs
    reproduce: list[str] = field(default_factory=list)

    def add(self, *paragraphs: str) -> None:
        """Append paragraphs (or tables) to the body."""
        self.body.extend(paragraphs)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
