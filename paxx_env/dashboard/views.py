"""HTML for each part of the page, from what report, variables, generations and actions say.

Jinja2 templates in templates/, every value escaped.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import jinja2

from paxx_env.errors import PaxxError
from paxx_env.generations import Generation
from paxx_env.report import ProjectStatus
from paxx_env.variables import AppVariables

HERE = Path(__file__).parent
#: The colour each Docker state and health gets on the page.
TONES = {
    "running": "ok",
    "healthy": "ok",
    "starting": "busy",
    "restarting": "busy",
    "created": "busy",
    "paused": "busy",
    "unhealthy": "bad",
    "exited": "bad",
    "dead": "bad",
}


@dataclass(frozen=True)
class Problem:
    """A PaxxError as the page shows it: the same two lines the CLI prints."""

    message: str
    hint: str

    @classmethod
    def of(cls, error: PaxxError) -> Problem:
        """The page's view of an error."""
        return cls(error.message, error.hint)


@functools.cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tone"] = lambda word: TONES.get(word or "", "off")
    env.filters["short_digest"] = short_digest
    env.filters["without_digest"] = lambda image: image.partition("@")[0]
    env.tests["web"] = lambda url: url.startswith(("http://", "https://"))
    return env


def short_digest(digest: str | None) -> str:
    """sha256:d69514013a0a… for a digest (what people compare at a glance)."""
    if not digest:
        return ""
    algorithm, _, hexdigits = digest.partition(":")
    return f"{algorithm}:{hexdigits[:12]}…" if hexdigits else digest


def render(template: str, **values: object) -> str:
    """One template, rendered."""
    return _templates().get_template(template).render(**values)


def services_part(report: ProjectStatus | None, problem: Problem | None) -> str:
    """The services table (or why the engine could not be asked)."""
    return render("services.html", report=report, problem=problem)


def summary_part(
    report: ProjectStatus | None, problem: Problem | None, generation: Generation | None
) -> str:
    """The line under the title: engine, environment hash, generation, drift."""
    return render("summary.html", report=report, problem=problem, generation=generation)


def variables_part(found: AppVariables | None, problem: Problem | None) -> str:
    """The app's variables, secrets masked."""
    return render("variables.html", found=found, problem=problem)


def secret_cell(key: str, value: str | None) -> str:
    """A secret's cell: masked (value None) or shown, with the button that flips it."""
    return render("secret.html", key=key, value=value)


def progress_part(title: str, lines: list[str], running: bool) -> str:
    """The last action's output, as the CLI prints it."""
    return render("progress.html", title=title, lines=lines, running=running)


def page(parts: dict[str, str], token: str, project: str, services: list[str]) -> str:
    """The whole page, with the parts as they are now."""
    return render("page.html", parts=parts, token=token, project=project, services=services)
