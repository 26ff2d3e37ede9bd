"""A per-machine registry mirror: every image pulled through one prefix (air-gapped networks).

Set PAXX_REGISTRY_MIRROR=host[:port][/path], or `mirror = "..."` under [registry] in
$XDG_CONFIG_HOME/paxx/config.toml (default ~/.config/paxx/config.toml). The rewrite goes into
the git-ignored per-machine overlay, never into committed files:

    redis:7.4.2-alpine              -> MIRROR/library/redis:7.4.2-alpine
    pgvector/pgvector:0.8.0-pg17    -> MIRROR/pgvector/pgvector:0.8.0-pg17
    quay.io/minio/minio:RELEASE...  -> MIRROR/quay.io/minio/minio:RELEASE...

Digests stay as they are: they name content, which a mirror serves unchanged.
"""

from __future__ import annotations

import os
import tomllib

from paxx_env.errors import ConfigError
from paxx_env.names import split_image
from paxx_env.paths import config_path


def registry_mirror() -> str:
    """The configured mirror prefix, or "" for none."""
    value = os.environ.get("PAXX_REGISTRY_MIRROR")
    if value is None:
        path = config_path()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError):
            return ""
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}", f"fix or delete {path}") from None
        except OSError as exc:
            raise ConfigError(
                f"cannot read paxx's configuration {path} ({exc.strerror})",
                f"make {path} a readable file, or set XDG_CONFIG_HOME to another folder",
            ) from None
        value = str((data.get("registry") or {}).get("mirror", ""))
    value = value.strip().rstrip("/")
    if value and ("://" in value or " " in value):
        raise ConfigError(
            f"registry mirror {value!r} must be host[:port][/path], without a scheme",
            "e.g. PAXX_REGISTRY_MIRROR=mirror.example.com:5000",
        )
    return value


def through_mirror(image: str, mirror: str) -> str:
    """The reference of `image` on the mirror."""
    if not mirror:
        return image
    repository, tag, digest = split_image(image)
    first, _, rest = repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        if first in {"docker.io", "index.docker.io", "registry-1.docker.io"}:
            repository = rest if "/" in rest else f"library/{rest}"
    elif not rest:
        repository = f"library/{repository}"
    reference = f"{mirror}/{repository}"
    if tag:
        reference += f":{tag}"
    if digest:
        reference += f"@{digest}"
    return reference
