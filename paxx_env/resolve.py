"""Resolving image tags to registry digests for paxx.lock (through the engine)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from paxx_env import engine
from paxx_env.lockfile import Lock, LockEntry
from paxx_env.mirror import registry_mirror, through_mirror


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


def resolve_lock(
    current: Lock | None,
    images: dict[str, str],
    refresh: set[str],
    on_resolve: Callable[[str, str], None] = lambda service, image: None,
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
        digest = engine.resolve_digest(through_mirror(image, mirror))
        lock[service] = LockEntry(image, digest)
        changes.append(LockChange(service, image, old, digest))
    return lock, changes
