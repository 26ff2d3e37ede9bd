"""Providers through the command line: the defaults, a switch, and a project from before them.

`upgrade/before-providers/` is a project as paxx wrote it before features had providers
(`paxx feature add storage cache tasks search db`, package modules left out): its
declaration, .env, .env.example, overlays and state.json, byte for byte. Switching asks the
engine for the old service's containers and volumes; these tests point DOCKER_HOST nowhere,
so that branch is the one without an engine (the live tests take the other).
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from conftest import Runner, dotenv_replace, run_cli, tree_checksum
from paxx_env import envblock
from paxx_env.envhash import HASH_LABEL

BEFORE = Path(__file__).parent / "upgrade" / "before-providers"
NOWHERE = "unix:///nonexistent/paxx-test.sock"


def env_values(root: Path) -> dict[str, str]:
    return envblock.read_env((root / ".env").read_text()).block


def declared(root: Path) -> dict[str, object]:
    paxx_table: dict[str, object] = tomllib.loads((root / "pyproject.toml").read_text())["tool"][
        "paxx"
    ]
    return paxx_table


def old_project(tmp_path: Path) -> Path:
    """The project as paxx left it before providers existed."""
    root = tmp_path / "shop"
    shutil.copytree(BEFORE, root)
    (root / "gitignore").rename(root / ".gitignore")
    (root / ".env").chmod(0o600)
    (root / "shop").mkdir()
    (root / "shop" / "__init__.py").write_text("")
    return root


@pytest.fixture(autouse=True)
def _no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)


def test_a_project_from_before_providers_keeps_its_services_and_values(
    tmp_path: Path, paxx: Runner
) -> None:
    root = old_project(tmp_path)
    files = {name: (root / name).read_bytes() for name in (".env", ".env.example")}
    before = tomllib.loads((root / "pyproject.toml").read_text())
    overlays = {p.name: p.read_text() for p in (root / ".paxx/services").glob("*.yaml")}

    result = paxx(root, "feature", "add", "cache")  # nothing new: a sync, as `up` does
    assert result.code == 0, result.output

    # No provider is recorded, nothing moves: the declaration, .env (every value, every
    # title) and .env.example are what they were.
    for name, content in files.items():
        assert (root / name).read_bytes() == content, name
    # pyproject.toml: the same declaration; only what the generated code needs and an older
    # paxx did not declare is added (fastapi, pydantic-settings...), nothing is taken away.
    after = tomllib.loads((root / "pyproject.toml").read_text())
    assert after["tool"]["paxx"] == before["tool"]["paxx"]
    assert set(before["project"]["dependencies"]) < set(after["project"]["dependencies"])
    # The same four services, changed only in the environment-hash label (the catalog
    # changed, so the hash did).
    now = {p.name: p.read_text() for p in (root / ".paxx/services").glob("*.yaml")}
    assert sorted(now) == ["meilisearch.yaml", "minio.yaml", "postgres.yaml", "redis.yaml"]
    for name, text in now.items():
        differ = [
            (a, b)
            for a, b in zip(overlays[name].splitlines(), text.splitlines(), strict=True)
            if a != b
        ]
        assert [a.split(":")[0].strip() for a, _ in differ] == [HASH_LABEL], name

    listing = paxx(root, "feature", "list").out.splitlines()
    rows = {line.split()[0]: line.split() for line in listing[1:10]}
    assert rows["storage"][1:3] == ["yes", "minio"] and rows["storage"][3] == "*"
    assert rows["cache"][1:4] == ["yes", "redis", "*"]
    assert rows["search"][1:4] == ["yes", "meilisearch", "*"]
    assert rows["db"][1:3] == ["yes", "postgres"]
    assert listing[-1] == (
        "* not recorded in the declaration: what the feature ran on before it had a choice. "
        "`paxx feature add cache --provider NAME` records or switches it."
    )


def test_a_new_feature_joins_the_server_an_old_project_runs(tmp_path: Path, paxx: Runner) -> None:
    root = old_project(tmp_path)
    result = paxx(root, "feature", "add", "websocket")
    assert result.code == 0, result.output
    assert "Enabled websocket on redis (services: redis)" in result.out
    # The declaration changed anyway, so it now says what runs: the same as before.
    assert declared(root)["providers"] == {
        "cache": "redis",
        "search": "meilisearch",
        "storage": "minio",
        "tasks": "redis",
        "websocket": "redis",
    }
    assert sorted(p.stem for p in (root / ".paxx/services").glob("*.yaml")) == [
        "meilisearch",
        "minio",
        "postgres",
        "redis",
    ]


def test_search_set_to_postgres_by_hand_is_not_overwritten_on_upgrade(
    tmp_path: Path, paxx: Runner
) -> None:
    """Before providers, SEARCH_BACKEND was a setting to edit in .env; now the provider sets it."""
    root = old_project(tmp_path)
    env = root / ".env"
    env.write_text(dotenv_replace(env.read_text(), "SEARCH_BACKEND", "postgres"))
    before = tree_checksum(root)
    refused = paxx(root, "feature", "add", "cache")
    assert refused.code == 2
    assert refused.err.splitlines()[:2] == [
        "paxx: error: refusing to overwrite what you edited: .env",
        "  fix: change the declaration instead and undo the edit, or run again with --force "
        "(paxx keeps a copy of each edited file in .paxx/local/backup/)",
    ]
    assert ".env: SEARCH_BACKEND was edited by hand" in refused.err
    assert tree_checksum(root) == before

    # The declaration says it now: no search service, the master key kept for its volume.
    moved = paxx(root, "feature", "add", "search", "--provider", "postgres")
    assert moved.code == 0, moved.output
    assert "Switched search from meilisearch to postgres: its data is not copied over." in (
        moved.out
    )
    assert "No longer run: meilisearch; any data volume they have is kept." in moved.out
    values = env_values(root)
    assert values["SEARCH_BACKEND"] == "postgres"
    assert "MEILI_URL" not in values and values["MEILI_MASTER_KEY"]
    assert not (root / ".paxx/services/meilisearch.yaml").exists()


def test_new_projects_record_the_default_providers(project: Path, paxx: Runner) -> None:
    result = paxx(project, "feature", "add", "storage", "cache", "db")
    assert result.code == 0, result.output
    assert (
        "Enabled storage on rustfs, cache on valkey, db (services: postgres, rustfs, valkey)"
        in (result.out)
    )
    assert declared(project)["providers"] == {"cache": "valkey", "storage": "rustfs"}
    text = (project / "pyproject.toml").read_text()
    assert (
        '[tool.paxx]\nfeatures = ["cache", "db", "storage"]\n\n'
        '[tool.paxx.providers]\ncache = "valkey"\nstorage = "rustfs"\n\n[tool.mypy]'
    ) in text
    removed = paxx(project, "feature", "remove", "storage")
    assert removed.code == 0, removed.output
    assert declared(project)["providers"] == {"cache": "valkey"}


def test_paxx_toml_records_providers_at_its_top_level(tmp_path: Path, paxx: Runner) -> None:
    root = tmp_path / "bare"
    root.mkdir()
    assert paxx(root, "feature", "add", "cache", "--provider", "redis").code == 0
    assert (root / "paxx.toml").read_text() == (
        'features = ["cache"]\n\n[providers]\ncache = "redis"\n'
    )


def test_switching_keeps_the_secrets_and_finds_them_again(project: Path, paxx: Runner) -> None:
    assert paxx(project, "feature", "add", "cache", "tasks").code == 0
    valkey = env_values(project)["VALKEY_PASSWORD"]

    result = paxx(project, "feature", "add", "cache", "tasks", "--provider", "redis")
    assert result.code == 0, result.output
    assert result.out.splitlines()[-4:] == [
        "Switched cache from valkey to redis: its data is not copied over.",
        "Switched tasks from valkey to redis: its data is not copied over.",
        "No longer run: valkey; any data volume they have is kept.",
        "Next: `paxx up` starts the services.",
    ]
    values = env_values(project)
    assert values["VALKEY_PASSWORD"] == valkey, "kept in .env while its volume may hold data"
    port = values["PAXX_REDIS_PORT"]  # 6379, or the next free one on this machine
    assert values["REDIS_URL"] == f"redis://:{values['REDIS_PASSWORD']}@127.0.0.1:{port}/0"
    assert sorted(p.stem for p in (project / ".paxx/services").glob("*.yaml")) == ["redis"]
    assert declared(project)["providers"] == {"cache": "redis", "tasks": "redis"}
    listing = paxx(project, "generations").out.splitlines()
    assert "providers cache valkey -> redis, tasks valkey -> redis" in listing[2]

    back = paxx(project, "feature", "add", "cache", "tasks", "--provider", "valkey")
    assert back.code == 0, back.output
    assert env_values(project)["VALKEY_PASSWORD"] == valkey, "the old data opens again"
    assert env_values(project)["REDIS_PASSWORD"] == values["REDIS_PASSWORD"]


def test_a_switch_that_changes_nothing_says_so(project: Path, paxx: Runner) -> None:
    assert paxx(project, "feature", "add", "cache", "--provider", "redis").code == 0
    before = tree_checksum(project)
    again = paxx(project, "feature", "add", "cache", "--provider", "redis")
    assert again.out == "Nothing to change: cache already enabled and every file up to date.\n"
    assert tree_checksum(project) == before


def test_status_names_the_features_and_provider_of_each_service(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.paxx]\nfeatures = ["tasks", "cache", "vector", "search"]\n'
        '\n[tool.paxx.providers]\ncache = "valkey"\ntasks = "valkey"\nsearch = "postgres"\n'
    )
    report = json.loads(run_cli(project, "status", "--json").out)
    assert {s["name"]: s["features"] for s in report["services"]} == {
        "postgres": {"db": "postgres", "search": "postgres", "vector": "pgvector"},
        "valkey": {"cache": "valkey", "tasks": "valkey"},
    }
    table = run_cli(project, "status").out.splitlines()
    assert table[1].split()[:2] == ["SERVICE", "PROVIDES"]
    assert table[2].startswith("postgres  db, search (postgres), vector (pgvector)  not created")
    assert table[3].startswith("valkey    cache, tasks (valkey)")
