"""What paxx writes into pyproject.toml for the generated code, and what it leaves to the user."""

from __future__ import annotations

import tomllib
from pathlib import Path

from conftest import Runner

HATCHLING = '\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'


def pyproject(project: Path) -> dict[str, object]:
    return tomllib.loads((project / "pyproject.toml").read_text())


def test_a_missing_python_floor_is_set_and_a_users_is_never_changed(
    project: Path, paxx: Runner, tmp_path: Path
) -> None:
    assert paxx(project, "feature", "add", "cache").code == 0
    assert pyproject(project)["project"]["requires-python"] == ">=3.11"  # type: ignore[index]

    other = project.parent / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text(
        '[project]\nname = "other"\nversion = "1"\nrequires-python = ">=3.9"\n'
    )
    result = paxx(other, "feature", "add", "cache")
    assert result.code == 0, result.output
    assert pyproject(other)["project"]["requires-python"] == ">=3.9"  # type: ignore[index]
    assert (
        '     note  the generated code needs Python >=3.11, but requires-python = ">=3.9" '
        "admits older ones: raise it in pyproject.toml"
    ) in result.out.splitlines()
    # said when paxx changes pyproject.toml, not on every command
    assert "note" not in paxx(other, "feature", "add", "cache").out


def test_mypy_plugin_is_written_only_when_the_project_has_no_mypy_configuration(
    project: Path, paxx: Runner
) -> None:
    (project / "mypy.ini").write_text("[mypy]\nstrict = True\n")
    before = (project / "mypy.ini").read_text()
    result = paxx(project, "feature", "add", "storage")
    assert result.code == 0, result.output
    assert "mypy" not in pyproject(project).get("tool", {})  # type: ignore[operator]
    assert (project / "mypy.ini").read_text() == before
    assert (
        "     note  mypy: add pydantic.mypy to plugins in [mypy] in mypy.ini: the generated "
        "settings classes need it to type-check"
    ) in result.out.splitlines()


def test_a_users_tool_mypy_with_the_plugin_is_left_alone(project: Path, paxx: Runner) -> None:
    path = project / "pyproject.toml"
    path.write_text(
        path.read_text() + '\n[tool.mypy]\nstrict = true\nplugins = ["pydantic.mypy"]\n'
    )
    result = paxx(project, "feature", "add", "cache")
    assert result.code == 0, result.output
    # (a port note may come when this machine's 6379 is taken; no note about mypy)
    assert not [line for line in result.out.splitlines() if "note" in line and "mypy" in line]
    assert pyproject(project)["tool"]["mypy"] == {  # type: ignore[index]
        "strict": True,
        "plugins": ["pydantic.mypy"],
    }


def test_package_data_is_added_for_setuptools_only(project: Path, paxx: Runner) -> None:
    assert paxx(project, "feature", "add", "email").code == 0
    package = pyproject(project)["project"]["name"]  # type: ignore[index]
    assert pyproject(project)["tool"]["setuptools"]["package-data"] == {  # type: ignore[index]
        package: ["templates/email/*.html", "templates/email/*.txt"]
    }

    hatch = project.parent / "hatch"
    hatch.mkdir()
    (hatch / "pyproject.toml").write_text('[project]\nname = "hatch"\nversion = "1"\n' + HATCHLING)
    assert paxx(hatch, "feature", "add", "email").code == 0
    assert "setuptools" not in pyproject(hatch)["tool"]  # type: ignore[operator]


def test_stubs_go_to_the_dev_group_and_leave_with_the_feature(project: Path, paxx: Runner) -> None:
    assert paxx(project, "feature", "add", "storage", "cache").code == 0
    data = pyproject(project)
    assert data["dependency-groups"] == {"dev": ["types-aioboto3[s3]>=13.0"]}
    assert not any("types-" in d for d in data["project"]["dependencies"])  # type: ignore[index]
    assert paxx(project, "feature", "remove", "storage").code == 0
    assert "dependency-groups" not in pyproject(project)


def test_an_existing_package_init_is_never_overwritten(project: Path, paxx: Runner) -> None:
    package = str(pyproject(project)["project"]["name"])  # type: ignore[index]
    (project / package).mkdir()
    (project / package / "__init__.py").write_text("VERSION = 1\n")
    result = paxx(project, "feature", "add", "cache")
    assert result.code == 0 and f"{package}/__init__.py" not in result.out
    assert (project / package / "__init__.py").read_text() == "VERSION = 1\n"
    assert paxx(project, "feature", "remove", "cache").code == 0
    assert (project / package / "__init__.py").read_text() == "VERSION = 1\n"
