"""Locking: image tags resolved to registry digests (through the engine), written to paxx.lock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from paxx_env.catalog import Catalog
from paxx_env.declaration import Project
from paxx_env.engine.images import resolve_digest
from paxx_env.engine.info import check_engine
from paxx_env.errors import UsageError
from paxx_env.lockfile import Lock, LockEntry, read_lock
from paxx_env.mirror import registry_mirror, through_mirror
from paxx_env.names import check_services
from paxx_env.render import render_project
from paxx_env.sync import SyncResult, sync

OnResolve = Callable[[str, str], None]


@dataclass(frozen=True)
class LockChange:
    """What locking did to one service."""

    service: str
    image: str
    old: str | None
    new: str

    @property
    def verb(self) -> str:
        """`added`, `updated` or `unchanged`."""
        if self.old is None:
            return "added"
        return "unchanged" if self.old == self.new else "updated"


def lock_project(
    project: Project,
    catalog: Catalog,
    refresh: set[str] | None,
    command: str,
    on_resolve: OnResolve,
) -> tuple[SyncResult, list[LockChange]]:
    """Lock every declared image; `refresh` names services to re-resolve (None: all).

    Entries that still match the declaration keep their digest unless refreshed. The new
    lock and the files pinned to it are written in one sync.
    """
    declaration = project.declaration
    render = render_project(
        catalog,
        list(declaration.features),
        project.app_name,
        project.source_label,
        image_overrides={k: v.image for k, v in declaration.services.items() if v.image},
        providers=declaration.providers,
    )
    images = render.declared_images
    if not images:
        raise UsageError(
            "no services are declared, so there is nothing to lock",
            "add a feature first, e.g. `paxx feature add cache`",
        )
    if refresh:
        check_services(sorted(refresh), sorted(images))
    chosen = set(images) if refresh is None else refresh
    check_engine()
    new, changes = resolve_lock(read_lock(project.root), images, chosen, on_resolve)
    label = command + (f" {' '.join(sorted(chosen))}" if refresh else "")
    return sync(project, catalog, new_lock=new, command=label), changes


def resolve_lock(
    current: Lock | None,
    images: dict[str, str],
    refresh: set[str],
    on_resolve: OnResolve = lambda service, image: None,
) -> tuple[Lock, list[LockChange]]:
    """A lock for `images` (service -> repo:tag).

    Entries that still match their image are kept unless the service is in `refresh`;
    the others are resolved by pulling through the engine (and the machine's mirror).
    Entries of services no longer declared are dropped.
    """
    mirror = registry_mirror()
    lock: Lock = {}
    changes = []
    for service, image in sorted(images.items()):
        entry = (current or {}).get(service)
        old = entry.digest if entry is not None else None
        if entry is not None and entry.image == image and service not in refresh:
            lock[service] = entry
            changes.append(LockChange(service, image, entry.digest, entry.digest))
            continue
        on_resolve(service, image)
        digest = resolve_digest(through_mirror(image, mirror))
        lock[service] = LockEntry(image, digest)
        changes.append(LockChange(service, image, old, digest))
    return lock, changes
