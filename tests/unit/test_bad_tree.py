"""Bad trees: whatever stands where paxx reads or writes its own files, paxx answers with two
lines (what, and how to fix), exit 2 (1 for the machine's fault), and changes nothing.

The explicit cases name each shape once; the property test builds random trees of files,
folders, symbolic links (to files, folders, nowhere, themselves) at paxx's own paths and runs
random commands on them.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import PYPROJECT, Result, Runner, make_project, tmpfs

FILE_FIX = "move the file away (or rename it); paxx creates a folder there"
FOLDER_FIX = "move the folder away (or rename it): paxx reads and writes a file there"


def tree(root: Path) -> dict[str, str]:
    """Every entry under `root`: file bytes and mode, folders, and where links point."""
    found = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder, name)
            key = str(path.relative_to(root))
            if path.is_symlink():
                found[key] = f"link -> {os.readlink(path)}"
            elif path.is_dir():
                found[key] = "dir"
            else:
                found[key] = f"{path.read_bytes()!r}:{path.stat().st_mode:o}"
    return found


def refuses(result: Result, message: str, fix: str, code: int = 2) -> None:
    assert result.code == code, result.output
    assert result.err.splitlines() == [f"paxx: error: {message}", f"  fix: {fix}"]
    assert result.out == ""


@pytest.fixture
def cached(project: Path, paxx: Runner) -> Path:
    """A project with the cache feature added."""
    assert paxx(project, "feature", "add", "cache").code == 0
    return project


def test_a_file_where_paxx_needs_a_folder(project: Path, paxx: Runner) -> None:
    (project / ".paxx").write_text("not a folder\n")
    before = tree(project)
    refuses(
        paxx(project, "feature", "add", "cache"),
        f"{project}/.paxx is a file, where paxx needs a folder",
        FILE_FIX,
    )
    assert tree(project) == before


def test_the_per_machine_folder_is_a_file(cached: Path, paxx: Runner) -> None:
    shutil.rmtree(cached / ".paxx/local")
    (cached / ".paxx/local").write_text("")
    before = tree(cached)
    # Without its state paxx cannot tell its files from edits (a refusal of its own);
    # --force goes past that to the file in the way.
    refuses(
        paxx(cached, "feature", "add", "email", "--force"),
        f"{cached}/.paxx/local is a file, where paxx needs a folder",
        FILE_FIX,
    )
    assert tree(cached) == before


@pytest.mark.parametrize(
    "name", [".env.example", ".gitignore", "paxx.lock", ".paxx/services/valkey.yaml"]
)
def test_a_folder_where_paxx_keeps_a_file(cached: Path, paxx: Runner, name: str) -> None:
    path = cached / name
    if path.exists():
        path.unlink()
    path.mkdir()
    (path / "keep.txt").write_text("mine\n")
    before = tree(cached)
    refuses(
        paxx(cached, "feature", "add", "email"),
        f"{cached}/{name} is a folder, where paxx keeps a file",
        FOLDER_FIX,
    )
    assert tree(cached) == before


def test_the_app_package_is_a_file(project: Path, paxx: Runner) -> None:
    (project / "pyproject.toml").write_text(
        PYPROJECT.format(name="shop") + '\n[tool.paxx]\npackage = "shop"\n'
    )
    (project / "shop").write_text("a file\n")
    before = tree(project)
    refuses(
        paxx(project, "feature", "add", "cache"),
        f"{project}/shop is a file, where paxx needs a folder",
        FILE_FIX,
    )
    assert tree(project) == before


def test_pyproject_is_a_folder(tmp_path: Path, paxx: Runner) -> None:
    root = tmp_path / "app"
    (root / "pyproject.toml").mkdir(parents=True)
    before = tree(root)
    refuses(
        paxx(root, "feature", "add", "cache"),
        f"{root}/pyproject.toml is a folder, where paxx keeps a file",
        FOLDER_FIX,
    )
    assert tree(root) == before


def test_both_pyproject_and_paxx_toml_declare_the_project(project: Path, paxx: Runner) -> None:
    (project / "pyproject.toml").write_text(
        PYPROJECT.format(name="shop") + '\n[tool.paxx]\nfeatures = ["cache"]\n'
    )
    (project / "paxx.toml").write_text('features = ["email"]\n')
    before = tree(project)
    for command in (("feature", "add", "db"), ("feature", "list"), ("env",)):
        refuses(
            paxx(project, *command),
            "both pyproject.toml ([tool.paxx]) and paxx.toml declare this project",
            "keep one: move what paxx.toml says into [tool.paxx] and delete paxx.toml, or "
            "delete [tool.paxx]",
        )
    assert tree(project) == before


def test_a_pyproject_without_tool_paxx_leaves_paxx_toml_in_charge(
    project: Path, paxx: Runner
) -> None:
    (project / "paxx.toml").write_text('features = ["cache"]\n')
    result = paxx(project, "feature", "add", "email")
    assert result.code == 0, result.output
    assert 'features = ["cache", "email"]' in (project / "paxx.toml").read_text()
    assert "[tool.paxx]" not in (project / "pyproject.toml").read_text()


def test_a_link_to_a_file_is_written_through_and_kept(
    cached: Path, paxx: Runner, tmp_path: Path
) -> None:
    shared = tmp_path / "shared.env"
    shared.write_bytes((cached / ".env").read_bytes())
    (cached / ".env").unlink()
    (cached / ".env").symlink_to(shared)
    assert paxx(cached, "feature", "add", "email").code == 0
    assert (cached / ".env").is_symlink()
    assert "SMTP_HOST=" in shared.read_text()


def test_a_link_loop_and_a_link_to_nowhere(cached: Path, paxx: Runner) -> None:
    (cached / ".env").unlink()
    (cached / ".env").symlink_to(".env")
    before = tree(cached)
    refuses(
        paxx(cached, "feature", "add", "email"),
        f"{cached}/.env is a symbolic link that points back to itself",
        "remove the link; paxx writes its own file there",
    )
    assert tree(cached) == before
    (cached / ".env").unlink()
    (cached / ".env").symlink_to("/nonexistent/folder/.env")
    before = tree(cached)
    refuses(
        paxx(cached, "feature", "add", "email"),
        f"{cached}/.env is a symbolic link to /nonexistent/folder/.env, whose folder does not "
        "exist",
        "create that folder, or remove the link so paxx writes a file there",
    )
    assert tree(cached) == before


def test_the_state_folder_is_a_file(
    project: Path, paxx: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "state-is-a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    before = tree(project)
    result = paxx(project, "feature", "add", "cache")
    assert result.code == 1, result.output
    lines = result.err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"paxx: error: cannot create the lock file {blocker}/paxx/locks/")
    assert lines[0].endswith(".lock (Not a directory)")
    assert lines[1] == (
        f"  fix: paxx keeps per-user state in {blocker}/paxx: make it a writable folder, or "
        "set XDG_STATE_HOME to one"
    )
    assert tree(project) == before


def test_the_configuration_is_a_folder(
    project: Path, paxx: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config" / "paxx" / "config.toml").mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    before = tree(project)
    refuses(
        paxx(project, "feature", "add", "cache"),
        f"cannot read paxx's configuration {tmp_path}/config/paxx/config.toml (Is a directory)",
        f"make {tmp_path}/config/paxx/config.toml a readable file, or set XDG_CONFIG_HOME to "
        "another folder",
    )
    assert tree(project) == before


@pytest.fixture
def read_only_home(tmp_path: Path) -> Iterator[Path]:
    """A read-only tmpfs: root can write anywhere else."""
    with tmpfs(tmp_path / "home", "size=64k,ro") as mount:
        yield mount


def test_a_home_that_cannot_be_written(
    project: Path, paxx: Runner, read_only_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(read_only_home))
    before = tree(project)
    result = paxx(project, "feature", "add", "cache")
    assert result.code == 1, result.output
    lines = result.err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("paxx: error: cannot create the lock file ")
    assert lines[0].endswith(".lock (Read-only file system)")
    assert f"paxx keeps per-user state in {read_only_home}/.local/state/paxx" in lines[1]
    assert tree(project) == before


# ----------------------------------------------------------------------------- property test

#: Paths paxx reads or writes in a project with the cache feature (package `shop`).
OWN_PATHS = [
    ".paxx",
    ".paxx/services",
    ".paxx/services/valkey.yaml",
    ".paxx/local",
    ".paxx/local/state.json",
    ".paxx/local/last-up.json",
    ".paxx/local/engine.yaml",
    ".paxx/local/generations",
    ".paxx/local/generations/0001",
    ".paxx/local/backup",
    ".env",
    ".env.example",
    ".gitignore",
    "paxx.lock",
    "paxx.toml",
    "shop",
    "shop/cache.py",
]
KINDS = ["file", "junk", "dir", "link-file", "link-dir", "link-nowhere", "link-loop"]
COMMANDS = [
    ("feature", "add", "cache"),
    ("feature", "add", "email"),
    ("feature", "remove", "cache"),
    ("feature", "list"),
    ("init",),
    ("env",),
    ("generations",),
    ("diff",),
    ("rollback",),
    ("gc", "--keep", "1"),
]


def _place(root: Path, name: str, kind: str, outside: Path) -> None:
    path = root / name
    if os.path.lexists(path):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    if not path.parent.is_dir():
        return  # something else already stands on the way to it
    if kind == "file":
        path.write_text("# a file of the user's\n")
    elif kind == "junk":
        path.write_bytes(b"\xff\xfe[[not = valid\n")
    elif kind == "dir":
        path.mkdir()
        (path / "mine.txt").write_text("mine\n")
    elif kind == "link-file":
        path.symlink_to(outside / "target.txt")
    elif kind == "link-dir":
        path.symlink_to(outside)
    elif kind == "link-nowhere":
        path.symlink_to(outside / "missing" / "nothing")
    else:
        path.symlink_to(path.name)


def _run(root: Path, *args: str) -> Result:
    from paxx_env.commands.app import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["-C", str(root), *args])
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    started=st.booleans(),
    shapes=st.lists(st.tuples(st.sampled_from(OWN_PATHS), st.sampled_from(KINDS)), max_size=4),
    command=st.sampled_from(COMMANDS),
)
def test_any_tree_gets_a_clear_answer_and_a_refusal_changes_nothing(
    started: bool, shapes: list[tuple[str, str]], command: tuple[str, ...]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        outside = base / "outside"
        outside.mkdir()
        (outside / "target.txt").write_text("outside\n")
        root = make_project(base / "app", "shop")
        (root / "pyproject.toml").write_text(
            PYPROJECT.format(name="shop") + '\n[tool.paxx]\npackage = "shop"\n'
        )
        if started:
            assert _run(root, "feature", "add", "cache").code == 0
        for name, kind in shapes:
            _place(root, name, kind, outside)
        before, outside_before = tree(root), tree(outside)
        result = _run(root, *command)
        assert "Traceback" not in result.err
        if result.code != 0:
            assert result.code in (1, 2), result.output
            lines = result.err.splitlines()
            assert lines[0].startswith("paxx: error: "), result.err
            assert lines[1].startswith("  fix: ") and len(lines[1]) > len("  fix: "), result.err
            assert tree(root) == before
            assert tree(outside) == outside_before
