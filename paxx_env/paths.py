"""Where paxx writes inside a project, and where its catalog is. Light, for fast commands."""

import os
from pathlib import Path

#: The per-service Compose overlays (committed).
SERVICES_DIR = ".paxx/services"
#: Per-machine files: the engine overlay, state, backups (git-ignored).
LOCAL_DIR = ".paxx/local"
ENGINE_OVERLAY = f"{LOCAL_DIR}/engine.yaml"
STATE_FILE = f"{LOCAL_DIR}/state.json"
BACKUP_DIR = f"{LOCAL_DIR}/backup"
#: Containers whose health check passed when `paxx up` ran it (see lifecycle.wait_until_healthy).
PROBED_FILE = f"{LOCAL_DIR}/probed.json"
ENV_FILE = ".env"
ENV_EXAMPLE = ".env.example"
GITIGNORE = ".gitignore"
GITIGNORE_LINES = (ENV_FILE, f"{LOCAL_DIR}/")
#: Compose's own default file names, in its lookup order: a project's own stack.
USER_COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def catalog_root() -> Path:
    """Where the catalog lives: PAXX_CATALOG, inside the wheel, or the source checkout."""
    override = os.environ.get("PAXX_CATALOG")
    if override:
        return Path(override)
    packaged = Path(__file__).parent / "_catalog"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding pyproject.toml or paxx.toml."""
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file() or (folder / "paxx.toml").is_file():
            return folder
    return None


def require_root(start: Path) -> Path:
    """The project folder at or above `start`, or a UsageError saying there is none."""
    from paxx_env.errors import UsageError

    root = find_root(start)
    if root is None:
        raise UsageError(
            f"no pyproject.toml or paxx.toml in {start} or any folder above it",
            "run paxx in your project folder",
        )
    return root
