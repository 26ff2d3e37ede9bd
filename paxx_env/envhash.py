"""The environment hash: one digest over the declaration, the lock and the catalog version.

Like a Nix derivation's hash, it names the environment: the same declaration, lock and paxx
version give the same hash on every machine. It is written as a label on every container,
so `paxx status` can tell containers made from an older generation. Secrets, host ports and
the machine's engine are not part of it. Import-light: `paxx status` computes it.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from paxx_env import __version__
from paxx_env.paths import LOCK_FILE, PAXX_TOML, PYPROJECT, catalog_root

HASH_LABEL = "dev.paxx.env-hash"


def canonical_declaration(table: dict[str, Any]) -> dict[str, Any]:
    """The declaration with defaults dropped and features sorted: equal meaning, equal dict."""
    result: dict[str, Any] = {"features": sorted(table.get("features") or [])}
    for key in ("name", "package"):
        if table.get(key):
            result[key] = table[key]
    if table.get("providers"):
        result["providers"] = dict(sorted(table["providers"].items()))
    services = {}
    for name, override in sorted((table.get("services") or {}).items()):
        entry = {}
        if override.get("image"):
            entry["image"] = override["image"]
        if override.get("ports"):
            entry["ports"] = dict(sorted(override["ports"].items()))
        if entry:
            services[name] = entry
    if services:
        result["services"] = services
    return result


def catalog_version(catalog_root: Path) -> str:
    """The paxx version and a digest of every catalog file (so an edited catalog counts)."""
    digest = hashlib.sha256()
    for folder in ("services", "profiles", "wiring"):
        for path in sorted((catalog_root / folder).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(catalog_root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return f"{__version__}+{digest.hexdigest()[:16]}"


def environment_hash(table: dict[str, Any], lock: bytes | None, catalog: str) -> str:
    """The hash of an environment: 16 hex digits."""
    payload = json.dumps(
        {
            "declaration": canonical_declaration(table),
            "lock": hashlib.sha256(lock).hexdigest() if lock else None,
            "catalog": catalog,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def current_env_hash(root: Path, catalog: str | None = None) -> str:
    """The environment hash of the declaration and lock as they are on disk now.

    Read with the standard library only (no pydantic, no catalog): `paxx status` calls it.
    `catalog` is the catalog version when the caller knows it already.
    """
    table: dict[str, Any] = {}
    for name in (PYPROJECT, PAXX_TOML):
        try:
            data = tomllib.loads((root / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            return "unreadable"
        found = data.get("tool", {}).get("paxx") if name == PYPROJECT else data
        if found is not None:
            table = found
            break
    try:
        lock = (root / LOCK_FILE).read_bytes()
    except FileNotFoundError:
        lock = None
    except OSError:
        return "unreadable"
    return environment_hash(table, lock, catalog or catalog_version(catalog_root()))
