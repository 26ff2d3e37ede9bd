"""`paxx init` and `paxx feature list|add|remove`: the declaration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from paxx_env.commands import common

if TYPE_CHECKING:
    from paxx_env.features import Added

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
    """Show every feature, its providers, and whether and on which one it is enabled here."""
    from paxx_env.catalog import select
    from paxx_env.paths import find_root
    from paxx_env.ui import table

    catalog = common.load_catalog()
    enabled: list[str] = []
    recorded: dict[str, str] = {}
    if find_root(common.start()) is not None:
        declaration = common.open_project(catalog).declaration
        enabled, recorded = list(declaration.features), dict(declaration.providers)
    chosen = select(catalog, enabled, recorded).providers
    rows, unrecorded = [], []
    for name, feature in sorted(catalog.features.items()):
        profile = feature.profile
        mark = "yes" if name in enabled else "required" if name in chosen else ""
        on = chosen.get(name, "")
        if on and profile.has_choice and name not in recorded:
            on += " *"
            unrecorded.append(name)
        names = [p + (" (default)" if p == profile.default else "") for p in profile.providers]
        rows.append([name, mark, on, ", ".join(names), profile.summary])
    typer.echo(table(rows, ["FEATURE", "ENABLED", "ON", "PROVIDERS", "WHAT IT GIVES YOU"]))
    if unrecorded:
        typer.echo(
            "* not recorded in the declaration: what the feature ran on before it had a "
            f"choice. `paxx feature add {unrecorded[0]} --provider NAME` records or switches it."
        )


def feature_add(
    names: Annotated[list[str], typer.Argument(help="Features to enable, e.g. storage cache.")],
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider",
            "-p",
            help="The provider to run them on (`paxx feature list` shows each feature's). "
            "On an enabled feature, switches it: data is kept, never copied.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Enable features: write their Compose overlays, .env entries and dependencies.

    A feature with a choice of provider runs on its default one unless --provider names
    another; the choice is recorded in the declaration. Host ports are chosen on 127.0.0.1
    (the service's usual port, or the next free one) and kept in .env; secrets are generated
    once per project. Running it again changes nothing.
    """
    from paxx_env.features import add_features, check_features

    catalog = common.load_catalog()
    check_features(names, catalog, provider)
    with common.project_session(catalog, create=True) as project:
        added = add_features(project, catalog, names, force, provider)
    common.print_result(added.result)
    requested = ", ".join(dict.fromkeys(names))
    if not added.result.changed:
        kept = any(a.verb == "skip" for a in added.result.actions)
        files = "" if kept else " and every file up to date"
        typer.echo(f"Nothing to change: {requested} already enabled{files}.")
        return
    enabled = [n for n in dict.fromkeys(names) if n not in added.switched]
    if enabled:
        services = f" (services: {', '.join(added.services)})" if added.services else ""
        on = [f"{n} on {added.providers[n]}" if n in added.providers else n for n in enabled]
        typer.echo(f"Enabled {', '.join(on)}{services}")
    if added.implied:
        typer.echo(f"Also enabled, as required: {', '.join(added.implied)}")
    print_switch(added)
    common.lock_note(added.result)
    typer.echo("Next: `paxx up` starts the services.")


def print_switch(added: Added) -> None:
    """What a change of provider did, and where the old provider's data is."""
    for feature, (old, new) in added.switched.items():
        typer.echo(f"Switched {feature} from {old} to {new}: its data is not copied over.")
    for service in added.stopped:
        typer.echo(f"  stopped  {service}")
    if not added.gone:
        return
    if added.kept is None:
        where = "any data volume they have is kept"
    elif added.kept:
        volumes = ", ".join(added.kept)
        where = (
            f"their data stays in {volumes}, kept for a switch back; "
            f"`docker volume rm {' '.join(added.kept)}` deletes it"
        )
    else:
        where = "no data volume of theirs exists"
    typer.echo(f"No longer run: {', '.join(added.gone)}; {where}.")


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
