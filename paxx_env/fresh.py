"""Whether the project folder is what the last sync made of the inputs on disk now.

A sync records one digest (`inputs` in state.json) over everything it reads that decides
what it writes: the declaration files (pyproject.toml, paxx.toml), paxx.lock, .env,
.gitignore, the user's own compose file, the catalog (paxx's version and every catalog
file), the registry mirror, and the files it looked for (`watched`: the app package's
`__init__.py` where it may be, mypy's configuration files), each as it is once the sync
has written. When the digest of
the folder is still that one, no generated file was edited or removed, and the per-user
registry still holds the project, a new sync would write nothing: `paxx up` can start from
the files as they are, without loading the catalog or rendering (quickstart.py).
Import-light: hashing only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from paxx_env.envhash import catalog_version
from paxx_env.fsio import read_bytes
from paxx_env.mirror import registry_mirror
from paxx_env.paths import (
    ENV_FILE,
    GITIGNORE,
    LOCK_FILE,
    PAXX_TOML,
    PYPROJECT,
    USER_COMPOSE_FILES,
    catalog_root,
)
from paxx_env.state import State, edited_files
from paxx_env.userstate import registered

#: The files whose content a sync reads (and may write), besides the generated ones.
INPUT_FILES = (PYPROJECT, PAXX_TOML, LOCK_FILE, ENV_FILE, GITIGNORE, *USER_COMPOSE_FILES)


def inputs_digest(
    root: Path, planned: Mapping[str, bytes | None] | None = None, watched: Sequence[str] = ()
) -> str:
    """The digest of the inputs in `root`, and of the `watched` files there.

    `planned` holds content about to be written there (None: about to be deleted).
    """
    planned = planned or {}
    digest = hashlib.sha256()
    digest.update(catalog_version(catalog_root()).encode() + b"\0")
    digest.update(registry_mirror().encode() + b"\0")
    for name in (*INPUT_FILES, *watched):
        content = planned[name] if name in planned else read_bytes(root / name)
        digest.update(name.encode() + b"\0")
        if content is not None:
            digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()[:16]


def is_fresh(root: Path, state: State) -> bool:
    """Whether a sync now would write nothing (see the module's docstring)."""
    if not state.recorded or not state.inputs:
        return False
    if state.inputs != inputs_digest(root, watched=state.watched):
        return False
    if any(not (root / path).is_file() for path in state.files) or edited_files(root, state):
        return False
    entry = registered(root)
    ports = sorted(p for s in state.services.values() for p, _ in s.ports.values())
    return entry is not None and entry.name == state.project and sorted(entry.ports) == ports
