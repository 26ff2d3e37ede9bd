"""The first step of a sync: the render of the declaration, with the lock and hash it used."""

from __future__ import annotations

from paxx_env.catalog import Catalog
from paxx_env.declaration import Project
from paxx_env.envhash import canonical_declaration, environment_hash
from paxx_env.lockfile import Lock, format_lock, read_lock
from paxx_env.render import render_project
from paxx_env.sync.model import KEEP, Keep, Plan


def plan_render(
    project: Project,
    catalog: Catalog,
    features: list[str] | None = None,
    new_lock: Lock | Keep | None = KEEP,
    providers: dict[str, str] | None = None,
) -> Plan:
    """Render the project as `sync` would, without writing anything.

    `features` and `providers` replace the declared ones; `new_lock` replaces paxx.lock
    (None: no lock; KEEP, the default: the lock on disk).
    """
    declaration = project.declaration
    chosen = list(features) if features is not None else list(declaration.features)
    providers = providers if providers is not None else dict(declaration.providers)
    lock = read_lock(project.root) if isinstance(new_lock, Keep) else new_lock
    lock_bytes = format_lock(lock) if lock is not None else None
    canonical = canonical_declaration(
        {**declaration.model_dump(), "features": chosen, "providers": providers}
    )
    env_hash = environment_hash(canonical, lock_bytes, catalog.version)
    render = render_project(
        catalog,
        chosen,
        project.app_name,
        project.source_label,
        image_overrides={k: v.image for k, v in declaration.services.items() if v.image},
        port_overrides={
            key: port for o in declaration.services.values() for key, port in o.ports.items()
        },
        package_dir=project.package_dir,
        lock=lock,
        env_hash=env_hash,
        providers=providers,
    )
    replaces = not isinstance(new_lock, Keep)
    return Plan(render, lock, lock_bytes, canonical, env_hash, replaces, providers)
