"""init, --version, -v, and the wheel: the parts of the command line around the main flow."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import Runner, make_project, run_cli, tree_checksum
from paxx_env import __version__, envblock


def test_version(tmp_path: Path, paxx: Runner) -> None:
    result = paxx(tmp_path, "--version")
    assert (result.code, result.out) == (0, f"paxx {__version__}\n")


def test_init_declares_an_empty_environment_once(project: Path, paxx: Runner) -> None:
    first = paxx(project, "init")
    assert first.code == 0, first.output
    assert "[tool.paxx]\nfeatures = []\n" in (project / "pyproject.toml").read_text()
    assert first.out.splitlines()[-2:] == [
        "Declared an empty environment in [tool.paxx] in pyproject.toml.",
        "Next: `paxx feature list`, then `paxx feature add NAME`.",
    ]
    before = tree_checksum(project)
    again = paxx(project, "init")
    assert (
        again.out == "Nothing to do: [tool.paxx] in pyproject.toml already declares this project.\n"
    )
    assert tree_checksum(project) == before


def test_init_without_pyproject_writes_paxx_toml(tmp_path: Path, paxx: Runner) -> None:
    root = make_project(tmp_path / "bare", "bare", pyproject=False)
    assert paxx(root, "init").code == 0
    assert (root / "paxx.toml").read_text() == "features = []\n"


def test_verbose_logs_go_to_stderr_and_never_show_secrets(project: Path) -> None:
    result = run_cli(project, "-v", "feature", "add", "cache")
    assert result.code == 0, result.output
    assert "render" in result.err and "features=['cache']" in result.err
    assert "write" in result.err and "VALKEY_PASSWORD" in result.err
    secret = envblock.read_env((project / ".env").read_text()).block["VALKEY_PASSWORD"]
    assert secret not in result.output
    quiet = run_cli(project, "feature", "add", "cache")
    assert quiet.err == ""


def test_log_masks_values_of_secret_looking_keys(capsys: pytest.CaptureFixture[str]) -> None:
    from paxx_env import log

    log.enable()
    try:
        log.debug("probe", password="hunter2", api_key="k-123", note="visible")
    finally:
        log._logger = None
    err = capsys.readouterr().err
    assert "visible" in err and "hunter2" not in err and "k-123" not in err


def test_status_before_anything_ran_lists_declared_services(project: Path, paxx: Runner) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.paxx]\nfeatures = ["email"]\n')
    before = tree_checksum(project)
    result = paxx(project, "status", "--json")
    assert result.code == 0, result.output
    assert '"name": "mailpit"' in result.out and '"state": "not created"' in result.out
    assert tree_checksum(project) == before


def test_the_wheel_ships_the_catalog(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(root),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("paxx-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for service in (root / "services").glob("*.yaml"):
        assert f"paxx_env/_catalog/services/{service.name}" in names
    for profile in (root / "profiles").glob("*/profile.toml"):
        assert f"paxx_env/_catalog/profiles/{profile.parent.name}/profile.toml" in names
    assert "paxx_env/commands/app.py" in names
    # the dashboard's page, scripts and templates, and its extra
    for asset in ("htmx.min.js", "sse.min.js", "dashboard.js", "dashboard.css"):
        assert f"paxx_env/dashboard/static/{asset}" in names
    assert "paxx_env/dashboard/templates/page.html" in names
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Provides-Extra: dashboard" in text
    assert "Requires-Dist: starlette>=0.40; extra == 'dashboard'" in text


def test_the_fast_commands_answer_like_the_full_command_line(tmp_path: Path, project: Path) -> None:
    # `--version` and `status` skip building the typer app; they must behave the same.
    assert run_cli(tmp_path, "--version").out == f"paxx {__version__}\n"
    outside = run_cli(tmp_path, "status")
    assert (outside.code, outside.out) == (2, "")
    assert outside.err.splitlines() == [
        f"paxx: error: no pyproject.toml or paxx.toml in {tmp_path} or any folder above it",
        "  fix: run paxx in your project folder",
    ]
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.paxx]\nfeatures = ["cache"]\n')
    fast = run_cli(project, "status", "--json")
    assert fast.code == 0, fast.output
    assert '"name": "redis"' in fast.out and '"state": "not created"' in fast.out
