"""Every place paxx reads or writes, in one module. Import-free, for the fast commands.

Inside a project (relative to its root) and per user ($XDG_STATE_HOME, $XDG_CONFIG_HOME).
"""

import hashlib
import os
from pathlib import Path

# ----------------------------------------------------------------------------- the declaration
PYPROJECT = "pyproject.toml"
PAXX_TOML = "paxx.toml"
#: The registry digest of every image (committed).
LOCK_FILE = "paxx.lock"

# ----------------------------------------------------------------------------- generated files
#: The per-service Compose overlays (committed).
SERVICES_DIR = ".paxx/services"
ENV_FILE = ".env"
ENV_EXAMPLE = ".env.example"
GITIGNORE = ".gitignore"

# ----------------------------------------------------------------------------- per machine
#: Per-machine files: the engine overlay, state, backups, generations (git-ignored).
LOCAL_DIR = ".paxx/local"
ENGINE_OVERLAY = f"{LOCAL_DIR}/engine.yaml"
#: Hashes of what paxx wrote, secret ages, the status summary (see state.py).
STATE_FILE = f"{LOCAL_DIR}/state.json"
#: What the last successful `paxx up` saw (see lastup.py).
LAST_UP_FILE = f"{LOCAL_DIR}/last-up.json"
BACKUP_DIR = f"{LOCAL_DIR}/backup"
#: What the ssh process forwarding a remote engine's ports prints (see engine/forward.py).
FORWARD_LOG = f"{LOCAL_DIR}/forward.log"
GENERATIONS_DIR = f"{LOCAL_DIR}/generations"
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


def state_home() -> Path:
    """Paxx's per-user state: the project registry and the command locks."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "paxx"


def project_lock_path(root: Path) -> Path:
    """The lock file that serializes paxx commands on the project at `root`."""
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return state_home() / "locks" / f"{digest}.lock"


def config_path() -> Path:
    """Paxx's per-user configuration file."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "paxx" / "config.toml"


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding pyproject.toml or paxx.toml.

    Anything by those names counts (a folder too, reported when the declaration is read):
    paxx never walks past a project into the one above it.
    """
    for folder in (start, *start.parents):
        if os.path.lexists(folder / PYPROJECT) or os.path.lexists(folder / PAXX_TOML):
            return folder
    return None


def require_root(start: Path) -> Path:
    """The project folder at or above `start`, or a UsageError saying there is none."""
    from paxx_env.errors import UsageError

    root = find_root(start)
    if root is None:
        raise UsageError(
            f"no {PYPROJECT} or {PAXX_TOML} in {start} or any folder above it",
            "run paxx in your project folder",
        )
    return root
