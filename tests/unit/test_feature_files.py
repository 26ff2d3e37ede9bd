"""`paxx feature add/remove` on real folders (no Docker needed): what is written, and what not."""

from __future__ import annotations

import os
import socket
import stat
import tomllib
from pathlib import Path

from conftest import Runner, dotenv_replace, make_project, tree_checksum
from paxx_env import envblock


def env_values(root: Path) -> dict[str, str]:
    return envblock.read_env((root / ".env").read_text()).block


def test_add_writes_overlay_env_example_deps_and_gitignore(project: Path, paxx: Runner) -> None:
    package = tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"]
    result = paxx(project, "feature", "add", "storage")
    assert result.code == 0, result.output
    assert result.out.splitlines()[:14] == [
        "   create  .env",
        "   create  .env.example",
        "   create  .paxx/services/rustfs.yaml",
        f"   create  {package}/storage.py",
        f"   create  {package}/wiring.py",
        f"   create  {package}/__init__.py",
        "   update  pyproject.toml",
        "      add  pyproject.toml: dependency aioboto3>=13.0",
        "      add  pyproject.toml: dependency pydantic-settings>=2.3",
        "      add  pyproject.toml: dependency pydantic>=2.7",
        "      add  pyproject.toml: dev dependency types-aioboto3[s3]>=13.0",
        "      add  pyproject.toml: requires-python >=3.11",
        '      add  pyproject.toml: [tool.mypy] plugins = ["pydantic.mypy"]',
        "   create  .gitignore",
    ]
    assert (project / ".paxx/services/rustfs.yaml").is_file()
    assert (project / package / "__init__.py").read_text() == '"""The application package."""\n'
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o600
    assert (project / ".gitignore").read_text().splitlines()[-2:] == [".env", ".paxx/local/"]
    pyproject = (project / "pyproject.toml").read_text()
    # The user's own line (equal to one paxx would add) keeps its place and its comment; the
    # stubs go to the dev group; the Python floor is set as there was none; mypy gets the
    # pydantic plugin, as the project had no mypy configuration.
    assert pyproject.startswith(
        f'[project]\nname = "{package}"\nversion = "0.1.0"\n# the app\'s own dependencies\n'
        "dependencies = [\n"
        '    "aioboto3>=13.0",\n'
        '    "fastapi>=0.110",  # web framework\n'
        '    "pydantic-settings>=2.3",\n'
        '    "pydantic>=2.7",\n'
        "]\n"
        'requires-python = ">=3.11"\n'
    )
    assert pyproject.endswith(
        '[tool.mypy]\nplugins = ["pydantic.mypy"]\n\n'
        '[dependency-groups]\ndev = [\n    "types-aioboto3[s3]>=13.0",\n]\n'
    )
    assert tomllib.loads(pyproject)["tool"]["paxx"]["features"] == ["storage"]
    assert tomllib.loads(pyproject)["tool"]["paxx"]["providers"] == {"storage": "rustfs"}
    values = env_values(project)
    assert values["PAXX_RUSTFS_PORT"].isdigit()
    assert len(values["RUSTFS_SECRET_KEY"]) >= 32  # 24 random bytes = 192 bits
    assert values["AWS_SECRET_ACCESS_KEY"] == values["RUSTFS_SECRET_KEY"]
    example = (project / ".env.example").read_text()
    assert values["RUSTFS_SECRET_KEY"] not in example
    assert "RUSTFS_SECRET_KEY=\n" in example


def test_adding_twice_changes_nothing_and_says_so(project: Path, paxx: Runner) -> None:
    assert paxx(project, "feature", "add", "storage", "cache").code == 0
    before = tree_checksum(project)
    result = paxx(project, "feature", "add", "cache", "storage")
    assert result.code == 0
    assert (
        result.out
        == "Nothing to change: cache, storage already enabled and every file up to date.\n"
    )
    assert tree_checksum(project) == before


def test_secrets_are_generated_once_and_kept(project: Path, paxx: Runner) -> None:
    paxx(project, "feature", "add", "cache")
    first = env_values(project)["VALKEY_PASSWORD"]
    paxx(project, "feature", "add", "storage")
    assert env_values(project)["VALKEY_PASSWORD"] == first


def test_a_hand_edited_overlay_is_not_overwritten_without_force(
    project: Path, paxx: Runner
) -> None:
    paxx(project, "feature", "add", "cache")
    overlay = project / ".paxx/services/valkey.yaml"
    overlay.write_text(overlay.read_text().replace("interval: 10s", "interval: 2s"))
    # A change that rewrites the overlay: a different image for valkey.
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + '\n[tool.paxx.services.valkey]\nimage = "valkey/valkey:8.1.9-alpine"\n'
    )
    before = tree_checksum(project)
    result = paxx(project, "feature", "add", "storage")
    assert result.code == 2
    assert result.err.splitlines()[:2] == [
        "paxx: error: refusing to overwrite what you edited: .paxx/services/valkey.yaml",
        "  fix: change the declaration instead and undo the edit, or run again with --force "
        "(paxx keeps a copy of each edited file in .paxx/local/backup/)",
    ]
    # The diff shows the user's edit and paxx's change.
    assert "-      interval: 2s\n+      interval: 10s" in result.err
    assert "+    image: valkey/valkey:8.1.9-alpine" in result.err
    assert tree_checksum(project) == before

    forced = paxx(project, "feature", "add", "storage", "--force")
    assert forced.code == 0, forced.output
    assert "valkey/valkey:8.1.9-alpine" in overlay.read_text()
    backups = list((project / ".paxx/local/backup/.paxx/services").glob("valkey.yaml.*"))
    assert len(backups) == 1 and "interval: 2s" in backups[0].read_text()


def test_user_lines_in_env_are_kept_and_edited_inputs_win(project: Path, paxx: Runner) -> None:
    (project / ".env").write_text("# my own settings\nDEBUG=1\n")
    paxx(project, "feature", "add", "cache")
    text = (project / ".env").read_text()
    assert text.startswith("# my own settings\nDEBUG=1\n\n# >>> paxx >>>\n")
    # The user changes the port inside the block: kept, and REDIS_URL follows.
    (project / ".env").write_text(dotenv_replace(text, "PAXX_VALKEY_PORT", "16400"))
    assert paxx(project, "feature", "add", "storage").code == 0
    values = env_values(project)
    assert values["PAXX_VALKEY_PORT"] == "16400"
    assert values["REDIS_URL"].endswith("@127.0.0.1:16400/0")
    assert (project / ".env").read_text().startswith("# my own settings\nDEBUG=1\n")


def test_a_hand_edited_derived_value_is_a_conflict(project: Path, paxx: Runner) -> None:
    paxx(project, "feature", "add", "cache")
    env = project / ".env"
    env.write_text(dotenv_replace(env.read_text(), "REDIS_URL", "redis://elsewhere:6379/0"))
    (project / ".env").chmod(0o600)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('features = ["cache"]', 'features = ["cache", "db"]')
    )
    before = tree_checksum(project)
    result = paxx(project, "feature", "add", "storage")
    assert result.code == 2
    assert "refusing to overwrite what you edited: .env" in result.err
    assert ".env: REDIS_URL was edited by hand" in result.err
    assert "elsewhere" not in result.err.split("\n", 2)[0]
    assert tree_checksum(project) == before


def test_a_managed_key_set_outside_the_block_is_refused(project: Path, paxx: Runner) -> None:
    (project / ".env").write_text("REDIS_URL=redis://mine:6379/0\n")
    before = tree_checksum(project)
    result = paxx(project, "feature", "add", "cache")
    assert result.code == 2
    assert result.err.splitlines() == [
        "paxx: error: .env line 1 sets REDIS_URL, which paxx manages",
        "  fix: delete that line, or move your value into the paxx block of .env to keep it",
    ]
    assert tree_checksum(project) == before


def test_remove_undoes_add_but_keeps_the_secret_of_the_data_volume(
    project: Path, paxx: Runner
) -> None:
    original = (project / "pyproject.toml").read_text()
    paxx(project, "feature", "add", "cache")
    password = env_values(project)["VALKEY_PASSWORD"]
    result = paxx(project, "feature", "remove", "cache")
    assert result.code == 0, result.output
    assert not (project / ".paxx/services/valkey.yaml").exists()
    pyproject = (project / "pyproject.toml").read_text()
    assert "redis>=5.0" not in pyproject
    # What every feature needs (the app's framework) stays, and so do the Python floor and the
    # mypy plugin: paxx cannot tell them from the user's own.
    assert pyproject.startswith(original.removesuffix("]\n"))
    assert '"pydantic>=2.7",\n]\nrequires-python = ">=3.11"\n' in pyproject
    values = env_values(project)
    assert "REDIS_URL" not in values and "PAXX_VALKEY_PORT" not in values
    assert values["VALKEY_PASSWORD"] == password, "kept: the volume may still hold data"
    assert "Kept the data of valkey (volumes: valkey-data)" in result.out
    paxx(project, "feature", "add", "cache")
    assert env_values(project)["VALKEY_PASSWORD"] == password


def test_a_dependency_the_user_pinned_is_never_touched(project: Path, paxx: Runner) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"fastapi>=0.110",', '"fastapi>=0.110",\n    "redis==5.0.1",')
    )
    paxx(project, "feature", "add", "cache")
    assert '"redis>=5.0.1"' not in pyproject.read_text()
    paxx(project, "feature", "remove", "cache")
    assert '"redis==5.0.1"' in pyproject.read_text()


def test_shared_dependencies_stay_while_a_feature_needs_them(project: Path, paxx: Runner) -> None:
    paxx(project, "feature", "add", "cache", "websocket")
    paxx(project, "feature", "remove", "cache")
    assert '"redis>=5.0.1",' in (project / "pyproject.toml").read_text()
    assert (project / ".paxx/services/valkey.yaml").exists()


def test_a_port_held_by_a_listener_is_skipped_and_its_holder_named() -> None:
    from paxx_env.ports import describe_holder, pick_port, port_is_free

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        assert not port_is_free(taken)
        assert pick_port(taken, set()) > taken
        assert pick_port(taken, {taken + 1}) > taken + 1
        assert describe_holder(taken).startswith("pid ")
    assert port_is_free(taken)


def test_the_holders_of_several_ports_are_found_in_one_pass() -> None:
    from paxx_env.ports import describe_holders

    me = f"pid {os.getpid()} "
    with socket.socket() as one, socket.socket() as two, socket.socket() as free:
        ports = []
        for sock in (one, two):
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            ports.append(sock.getsockname()[1])
        free.bind(("127.0.0.1", 0))  # bound, not listening: nobody holds it for a listener
        unheld = free.getsockname()[1]
        holders = describe_holders([*ports, unheld])
    assert sorted(holders) == sorted(ports)
    assert all(holder.startswith(me) for holder in holders.values())


def test_ports_of_other_paxx_projects_are_not_reused(tmp_path: Path, paxx: Runner) -> None:
    first = make_project(tmp_path / "one", "shop")
    second = make_project(tmp_path / "two", "shop")
    paxx(first, "feature", "add", "cache")
    paxx(second, "feature", "add", "cache")
    one, two = env_values(first), env_values(second)
    assert one["PAXX_VALKEY_PORT"] != two["PAXX_VALKEY_PORT"]
    assert one["COMPOSE_PROJECT_NAME"] == "shop"
    assert two["COMPOSE_PROJECT_NAME"] == "shop-2"
    assert one["VALKEY_PASSWORD"] != two["VALKEY_PASSWORD"]


def test_without_pyproject_the_declaration_goes_to_paxx_toml(tmp_path: Path, paxx: Runner) -> None:
    root = make_project(tmp_path / "bare", "bare", pyproject=False)
    result = paxx(root, "feature", "add", "email")
    assert result.code == 0, result.output
    assert (root / "paxx.toml").read_text() == 'features = ["email"]\n'
    assert env_values(root)["SMTP_HOST"] == "127.0.0.1"


def test_vector_pulls_in_db(project: Path, paxx: Runner) -> None:
    result = paxx(project, "feature", "add", "vector")
    assert "Also enabled, as required: db" in result.out
    assert (project / ".paxx/services/postgres.yaml").exists()
    assert 'features = ["vector"]' in (project / "pyproject.toml").read_text()
    listing = paxx(project, "feature", "list").out
    assert any(line.startswith("db ") and " required " in line for line in listing.splitlines())
    assert any(line.startswith("vector ") and " yes " in line for line in listing.splitlines())


def test_a_lost_record_of_what_paxx_wrote_is_said_and_nothing_is_overwritten(
    project: Path, paxx: Runner
) -> None:
    paxx(project, "feature", "add", "cache")
    (project / ".paxx/local/state.json").write_text("garbage")
    before = tree_checksum(project)
    result = paxx(project, "feature", "add", "email")
    assert result.code == 2
    assert result.err.splitlines()[0] == (
        "paxx: error: paxx has no record of what it wrote (.paxx/local/state.json is missing or "
        "unreadable), so these files may hold your edits: .env, .env.example, "
        ".paxx/services/valkey.yaml"
    )
    assert tree_checksum(project) == before
    assert paxx(project, "feature", "add", "email", "--force").code == 0
    assert paxx(project, "feature", "add", "search").code == 0, "the record is back"
