"""`paxx init` and `paxx feature list|add|remove`: the declaration."""

from __future__ import annotations

from typing import Annotated

import typer

from paxx_env.commands import common

FORCE_HELP = "Overwrite generated files you edited (a copy is kept)."


def init() -> None:
    """Start a declaration: [tool.paxx] in pyproject.toml, or paxx.toml if there is none.

    Optional: `paxx feature add` does the same on first use.
    """
    from paxx_env.sync import sync

    catalog = common.load_catalog()
    with common.project_session(catalog, create=True) as project:
        if project.initialized:
            typer.echo(f"Nothing to do: {project.source_label} already declares this project.")
            return
        result = sync(project, catalog, features=[], command="init")
    common.print_result(result)
    typer.echo(f"Declared an empty environment in {project.source_label}.")
    typer.echo("Next: `paxx feature list`, then `paxx feature add NAME`.")


def feature_list() -> None:
    """Show every feature, the services it runs and whether it is enabled here."""
    from paxx_env.paths import find_root
    from paxx_env.ui import table

    catalog = common.load_catalog()
    enabled: set[str] = set()
    if find_root(common.start()) is not None:
        enabled = set(common.open_project(catalog).declaration.features)
    closure = set(catalog.closure(list(enabled)))
    rows = []
    for name, feature in sorted(catalog.features.items()):
        mark = "yes" if name in enabled else "required" if name in closure else ""
        services = ", ".join(catalog.services_for([name]))
        rows.append([name, services, mark, feature.profile.summary])
    typer.echo(table(rows, ["FEATURE", "SERVICES", "ENABLED", "WHAT IT GIVES YOU"]))


def feature_add(
    names: Annotated[list[str], typer.Argument(help="Features to enable, e.g. storage cache.")],
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Enable features: write their Compose overlays, .env entries and dependencies.

    Host ports are chosen on 127.0.0.1 (the service's usual port, or the next free one) and
    kept in .env; secrets are generated once per project. Running it again changes nothing.
    """
    from paxx_env.features import add_features, check_features

    catalog = common.load_catalog()
    check_features(names, catalog)
    with common.project_session(catalog, create=True) as project:
        added = add_features(project, catalog, names, force)
    common.print_result(added.result)
    requested = ", ".join(dict.fromkeys(names))
    if not added.result.changed:
        typer.echo(f"Nothing to change: {requested} already enabled and every file up to date.")
        return
    services = f" (services: {', '.join(added.services)})" if added.services else ""
    typer.echo(f"Enabled {requested}{services}")
    if added.implied:
        typer.echo(f"Also enabled, as required: {', '.join(added.implied)}")
    common.lock_note(added.result)
    typer.echo("Next: `paxx up` starts the services.")


def feature_remove(
    names: Annotated[list[str], typer.Argument(help="Features to disable.")],
    volumes: Annotated[
        bool,
        typer.Option("--volumes", help="Also delete the data volumes of services no longer used."),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask before deleting data.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Remove generated files even if you edited them (a copy is kept)."
        ),
    ] = False,
) -> None:
    """Disable features and undo what `feature add` wrote.

    Containers of services no longer needed are stopped; their data volumes are kept unless
    you pass --volumes.
    """
    from paxx_env.features import check_features, remove_features

    catalog = common.load_catalog()
    check_features(names, catalog)
    with common.project_session(catalog) as project:
        removed = remove_features(
            project, catalog, names, volumes, lambda vs: common.confirm_volumes(vs, yes), force
        )
    common.print_result(removed.result)
    for service in removed.stopped:
        typer.echo(f"  stopped  {service}")
    for volume in removed.deleted:
        typer.echo(f"  deleted  volume {volume}")
    typer.echo(f"Removed {', '.join(names)}.")
    if removed.kept:
        typer.echo(
            f"Kept the data of {', '.join(removed.gone)} (volumes: {', '.join(removed.kept)}); "
            "`paxx down --volumes` deletes it."
        )
