"""The environment a test run slices: the project found, its services up, the app's variables.

Opened once per pytest process (each xdist worker opens its own), the first time a test asks
for a paxx fixture (a Lookahead started with the session may have seen it up already, while
pytest collected), under the project's lock (as every paxx command on the project is), so
workers starting together queue behind one another: the first starts what is missing, the
others find everything up. When everything is already up (`lastup.nothing_to_do`, the check
behind a no-op `paxx up`) the variables are read from paxx's block of .env without loading the
catalog; otherwise it is `paxx up` itself (lifecycle.up). Nothing here starts a second copy
of a service: Compose finds the project's containers by the project name in .env.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from paxx_env.errors import PaxxError, ServiceFailed, UsageError
from paxx_env.paths import ENV_FILE, PAXX_TOML, PYPROJECT, find_root
from paxx_env.state import load_state

if TYPE_CHECKING:
    # Loaded only off the fast path: the catalog needs pydantic and YAML, a sync Jinja2.
    from paxx_env.catalog import Catalog
    from paxx_env.declaration import Project
    from paxx_env.readiness import Event
    from paxx_env.sync import SyncResult

#: Seconds to wait for the services to become healthy (`paxx up`'s default).
UP_TIMEOUT = 180.0
#: Seconds a Lookahead's answer is good for.
LOOKAHEAD_FRESH = 10.0


@dataclass
class Environment:
    """The running environment of one project, as the fixtures need it."""

    root: Path
    #: The declared features and those they require.
    features: frozenset[str]
    #: The app's variables, secrets included (what `paxx env --show-secrets` prints).
    variables: dict[str, str]
    #: Service -> its URLs (label -> URL).
    urls: dict[str, dict[str, str]]
    _catalog: Catalog | None = field(default=None, repr=False)

    @property
    def catalog(self) -> Catalog:
        """The catalog (loaded on first use: the fast path does without it)."""
        if self._catalog is None:
            from paxx_env.catalog import load_catalog

            self._catalog = load_catalog()
        return self._catalog

    def need(self, variable: str, fixture: str, what: str) -> str:
        """The value of `variable`, or a UsageError naming the feature that provides it."""
        if variable in self.variables:
            return self.variables[variable]
        feature = suggestion(self.catalog, variable)
        raise UsageError(
            f"{fixture} needs {what}, and no feature this project declares provides one "
            f"({variable})",
            f"paxx feature add {feature}" if feature else "see `paxx feature list`",
        )

    def url(self, variable: str, label: str) -> str | None:
        """The URL labelled `label` of the declared service that exports `variable`."""
        for service, urls in sorted(self.urls.items()):
            meta = self.catalog.services[service].meta if service in self.catalog.services else None
            if meta is not None and variable in meta.exports:
                return urls.get(label)
        return None


class Lookahead:
    """Whether the project is already up, looked at in a thread while pytest collects.

    The look is the one open_environment starts with (`_already_up`: files read, two docker
    calls), so the first test that asks for a paxx fixture need not wait for it. It changes
    nothing, does not wait for the project's lock (another paxx command holding it means no
    answer), and any error means no answer: the fixture then takes the whole path itself.
    """

    def __init__(self, root: Path) -> None:
        self._found: Environment | None = None
        self._when = 0.0
        self._thread = threading.Thread(
            target=self._look, args=(root,), name="paxx-lookahead", daemon=True
        )
        self._thread.start()

    def _look(self, root: Path) -> None:
        from paxx_env.fsio import exclusive_lock
        from paxx_env.paths import project_lock_path

        def busy(_holder: object) -> NoReturn:
            raise PaxxError("the project's lock is held", "")

        try:
            with exclusive_lock(project_lock_path(root), on_wait=busy):
                self._found = _already_up(root)
            self._when = time.monotonic()
        except Exception:  # the fixture's own path reports whatever it is
            return

    def found(self) -> Environment | None:
        """The environment when it was up and unchanged, else None (waits for the look).

        An answer older than LOOKAHEAD_FRESH is none: tests that use no paxx fixture may have
        run for a while, and the project may have been stopped meanwhile.
        """
        self._thread.join()
        if time.monotonic() - self._when > LOOKAHEAD_FRESH:
            return None
        return self._found


def open_environment(
    start: Path, bring_up: bool, timeout: float = UP_TIMEOUT, lookahead: Lookahead | None = None
) -> Environment:
    """Find the project at or above `start`, bring it up (or check that it is), read it."""
    from paxx_env.fsio import exclusive_lock
    from paxx_env.paths import project_lock_path
    from paxx_env.userstate import state_home_hint

    root = find_root(start)
    if root is None:
        raise UsageError(
            f"no {PYPROJECT} or {PAXX_TOML} in {start} or any folder above it, so there is "
            "no paxx project to test against",
            "run pytest in the project's folder, or name it with --paxx-project DIR",
        )
    seen = lookahead.found() if lookahead is not None else None
    if seen is not None and seen.root == root:
        return seen
    with exclusive_lock(project_lock_path(root), hint=state_home_hint()):
        found = _already_up(root)
        if found is not None:
            return found
        from paxx_env.catalog import load_catalog
        from paxx_env.declaration import open_project

        catalog = load_catalog()
        project = open_project(start, catalog)
        if not project.declaration.features:
            # Nothing to bring up; each fixture says which feature would give it a slice.
            return Environment(project.root, frozenset(), {}, {}, _catalog=catalog)
        result = _bring_up(project, catalog, timeout) if bring_up else _check_up(project, catalog)
    from paxx_env.variables import variables_of

    return Environment(
        root=result.root,
        features=frozenset(result.render.features),
        variables=variables_of(result, show_secrets=True).values,
        urls={name: dict(s.urls) for name, s in result.state.services.items()},
        _catalog=catalog,
    )


def _already_up(root: Path) -> Environment | None:
    """The environment as the last `paxx up` left it, when nothing changed since."""
    from paxx_env.envblock import read_env
    from paxx_env.lastup import nothing_to_do

    try:
        if nothing_to_do(root) is None:
            return None
        document = read_env((root / ENV_FILE).read_text(encoding="utf-8"))
    except (PaxxError, OSError):
        return None  # the full path reports it
    state = load_state(root)
    return Environment(
        root=root,
        features=frozenset(state.features),
        variables={
            k: v
            for k, v in document.block.items()
            if k not in document.kept and not k.startswith("COMPOSE_")
        },
        urls={name: dict(s.urls) for name, s in state.services.items()},
    )


def _bring_up(project: Project, catalog: Catalog, timeout: float) -> SyncResult:
    from paxx_env import lifecycle

    def quiet(event: Event) -> None:
        # A failure is raised with the service's health output and logs; the progress
        # lines of `paxx up` have no terminal to go to while pytest captures.
        del event

    return lifecycle.up(project, catalog, [], timeout, False, quiet)


def _check_up(project: Project, catalog: Catalog) -> SyncResult:
    """--paxx-no-up: the project's variables, and a ServiceFailed unless every service is up."""
    from paxx_env.engine.info import check_engine
    from paxx_env.lastup import LastUp, bind_engine
    from paxx_env.report import project_status
    from paxx_env.sync import sync

    last = LastUp.load(project.root)
    bind_engine(project.root, last)  # the engine the environment was started on
    check_engine()
    result = sync(project, catalog, command="env")
    report = project_status(result.state, last)
    down = [
        f"{s.name} ({s.health if s.state == 'running' else s.state})"
        for s in report.services
        if s.declared and (s.state != "running" or s.health not in (None, "healthy"))
    ]
    if down:
        raise ServiceFailed(
            f"--paxx-no-up: not up and healthy: {', '.join(down)}",
            "run `paxx up` first, or run pytest without --paxx-no-up to let paxx start them",
        )
    return result


def suggestion(catalog: Catalog, variable: str) -> str:
    """The feature to add for `variable`: one that needs no other feature, else the first."""
    ranked = sorted(catalog.features.values(), key=lambda f: (bool(f.profile.requires), f.name))
    for feature in ranked:
        for provider in feature.profile.providers.values():
            if any(variable in catalog.services[s].meta.exports for s in provider.services):
                return feature.name
    return ""
