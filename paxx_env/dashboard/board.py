"""The dashboard's view of one project, kept current: what each part of the page shows.

Status and drift come from report.project_report, variables from variables.current_variables,
the generation from generations.latest, the buttons' output from actions.Actions. The engine's
events ask for a new status; a change to the project's files asks for both.
"""

from __future__ import annotations

import threading
from pathlib import Path

from paxx_env.catalog import Catalog
from paxx_env.dashboard import views
from paxx_env.dashboard.actions import Actions
from paxx_env.dashboard.hub import Hub, Job
from paxx_env.dashboard.views import Problem
from paxx_env.dashboard.watch import Watcher, project_name
from paxx_env.declaration import open_project
from paxx_env.errors import PaxxError
from paxx_env.generations import latest
from paxx_env.report import ProjectStatus, project_report
from paxx_env.variables import current_variables

#: What a secret becomes wherever the page would otherwise show it by accident.
MASK = "••••••••"


class Board:
    """One project's parts, published to the hub as they change."""

    def __init__(self, root: Path, catalog: Catalog) -> None:
        self.root = root
        self.catalog = catalog
        self.hub = Hub()
        self.report: ProjectStatus | None = None
        self._secrets: list[str] = []
        self._lock = threading.Lock()
        self.status = Job("status", self.refresh_status)
        self.variables = Job("variables", self.refresh_variables)
        self.actions = Actions(root, catalog, self._progress, self._action_changed)
        self.watcher = Watcher(root, on_engine=self.status.poke, on_files=self._files_changed)

    def start(self) -> None:
        """Compute every part once, then keep them current."""
        self._progress("", [], False)
        self.refresh_variables()
        self.refresh_status()
        self.status.start()
        self.variables.start()
        self.watcher.start()

    def stop(self) -> None:
        """Stop watching; end every open stream."""
        self.hub.close()
        self.watcher.stop()
        self.status.stop()
        self.variables.stop()

    @property
    def project(self) -> str:
        """The Compose project name ("" before the first render)."""
        return self.report.project if self.report else project_name(self.root)

    @property
    def services(self) -> list[str]:
        """The services the page lists (declared ones and leftovers)."""
        return [s.name for s in self.report.services] if self.report else []

    def refresh_status(self) -> None:
        """Ask for the status report (one engine listing) and publish it."""
        report, problem = None, None
        try:
            report = project_report(self.root, details=True)
        except PaxxError as error:
            problem = Problem.of(error)
        for service in report.services if report else []:
            if service.health_output:
                service.health_output = self.mask(service.health_output)
        self.report = report
        generation = latest(self.root)
        self.hub.publish("summary", views.summary_part(report, problem, generation))
        self.hub.publish("services", views.services_part(report, problem))

    def refresh_variables(self) -> None:
        """Read the app's variables from .env (secrets masked) and publish them."""
        try:
            found = current_variables(open_project(self.root, self.catalog), self.catalog, False)
        except PaxxError as error:
            self.hub.publish("variables", views.variables_part(None, Problem.of(error)))
            return
        with self._lock:
            self._secrets = sorted(found.secrets, key=len, reverse=True)
        self.hub.publish("variables", views.variables_part(found, None))

    def reveal(self, key: str, show: bool) -> str | None:
        """The cell of one secret variable, shown or masked; None when there is no such one."""
        found = current_variables(open_project(self.root, self.catalog), self.catalog, True)
        if key not in found.names:
            return None
        return views.secret_cell(key, found.values[key] if show else None)

    def mask(self, text: str) -> str:
        """`text` with every generated secret replaced by a mask."""
        with self._lock:
            secrets = self._secrets
        for secret in secrets:
            text = text.replace(secret, MASK)
        return text

    def _progress(self, title: str, lines: list[str], running: bool) -> None:
        masked = [self.mask(line) for line in lines]
        self.hub.publish("progress", views.progress_part(title, masked, running))

    def _action_changed(self) -> None:
        self.status.poke()

    def _files_changed(self) -> None:
        self.status.poke()
        self.variables.poke()
