"""fresh.py: a folder is fresh right after a sync, and any input a sync reads makes it stale."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Runner, dotenv_replace
from paxx_env.fresh import inputs_digest, is_fresh
from paxx_env.paths import LOCK_FILE, STATE_FILE
from paxx_env.state import load_state


@pytest.fixture
def synced(project: Path, paxx: Runner) -> Path:
    result = paxx(project, "feature", "add", "cache", "storage")
    assert result.code == 0, result.output
    return project


def test_a_folder_is_fresh_after_a_sync_and_the_digest_is_recorded(synced: Path) -> None:
    state = load_state(synced)
    assert state.inputs == inputs_digest(synced, watched=state.watched)
    assert "mypy.ini" in state.watched
    assert is_fresh(synced, state)


def test_the_digest_is_that_of_the_folder_as_the_sync_left_it(synced: Path, paxx: Runner) -> None:
    # A sync that changes files records the digest of what it wrote, not of what it read.
    assert paxx(synced, "feature", "add", "email").code == 0
    assert is_fresh(synced, load_state(synced))


def _append(name: str, text: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        with (root / name).open("a") as handle:
            handle.write(text)

    return change


def _set_port(root: Path) -> None:
    env = root / ".env"
    env.write_text(dotenv_replace(env.read_text(), "PAXX_VALKEY_PORT", "6999"))


def _edit_generated(root: Path) -> None:
    overlay = root / ".paxx" / "services" / "valkey.yaml"
    overlay.write_text(overlay.read_text() + "# mine\n")


def _remove_generated(root: Path) -> None:
    (root / ".paxx" / "services" / "rustfs.yaml").unlink()


def _new_package(root: Path) -> None:
    # The project's own package appears: client modules would go there now.
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("")


def _forget_registry(root: Path) -> None:
    (Path(os.environ["XDG_STATE_HOME"]) / "paxx" / "projects.json").unlink()


@pytest.mark.parametrize(
    "change",
    [
        _append("pyproject.toml", "\n# a comment\n"),
        _set_port,
        _append(".env", "MINE=1\n"),
        _append(".gitignore", "build/\n"),
        _append(LOCK_FILE, ""),
        _append("compose.yaml", "services: {}\n"),
        _append("mypy.ini", "[mypy]\nstrict = True\n"),
        _new_package,
        _edit_generated,
        _remove_generated,
        _forget_registry,
    ],
    ids=[
        "declaration",
        "a kept port in .env",
        "a user line in .env",
        ".gitignore",
        "a lock appears",
        "a compose file of the user's",
        "mypy's own configuration",
        "a package where client modules go",
        "an edited overlay",
        "a removed overlay",
        "the per-user registry",
    ],
)
def test_any_input_a_sync_reads_makes_the_folder_stale(
    synced: Path, change: Callable[[Path], None]
) -> None:
    change(synced)
    assert not is_fresh(synced, load_state(synced))


def test_another_catalog_or_mirror_makes_it_stale(
    synced: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAXX_REGISTRY_MIRROR", "mirror.example:5000")
    assert not is_fresh(synced, load_state(synced))
    monkeypatch.delenv("PAXX_REGISTRY_MIRROR")
    assert is_fresh(synced, load_state(synced))


def test_a_state_written_before_the_digest_existed_is_not_fresh(synced: Path) -> None:
    path = synced / STATE_FILE
    path.write_text(path.read_text().replace('"inputs"', '"ignored"'))
    assert not is_fresh(synced, load_state(synced))


def test_the_quick_start_imports_no_catalog_renderer_or_cli_framework(synced: Path) -> None:
    # Everything `paxx up` imports on its way to Compose when the folder is fresh, without
    # an engine: the import of the quick-start modules, in a clean interpreter.
    code = (
        "import sys\n"
        "import paxx_env.__main__, paxx_env.quickstart, paxx_env.ui, paxx_env.report\n"
        "heavy = ['pydantic', 'jinja2', 'yaml', 'tomlkit', 'typer', 'structlog', 'click']\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
