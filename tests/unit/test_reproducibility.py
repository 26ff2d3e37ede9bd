"""Determinism, the environment hash, generations, rollback, env and run — without Docker."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from conftest import Runner, make_project, run_cli
from paxx_env.envhash import environment_hash
from paxx_env.generations import DECLARATION, load_files
from paxx_env.lockfile import LockEntry, format_lock, mismatches, parse_lock
from paxx_env.mirror import through_mirror

LOCAL = (".env", ".paxx/local/")


def committed_files(root: Path) -> dict[str, bytes]:
    """Every file of the project that is meant to be committed (not .env, not .paxx/local)."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not relative.startswith(LOCAL[1]) and relative != LOCAL[0]:
            files[relative] = path.read_bytes()
    return files


def test_same_inputs_give_byte_identical_files_anywhere_in_any_order(tmp_path: Path) -> None:
    first = make_project(tmp_path / "a" / "deep" / "shop", "shop")
    second = make_project(tmp_path / "b" / "shop", "shop")
    for root in (first, second):
        (root / "shop").mkdir()
        (root / "shop" / "__init__.py").write_text("")
    env_one = {"TZ": "Pacific/Kiritimati", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PAXX_X": "1"}
    env_two = {"TZ": "America/Adak", "LC_ALL": "C", "LANG": "C", "PYTHONHASHSEED": "12345"}
    for features in (["storage", "cache", "tracing"], ["email", "vector"]):
        assert run_cli(first, "feature", "add", *features, env=env_one).code == 0
    for features in (["vector"], ["tracing", "email"], ["cache"], ["storage"]):
        assert run_cli(second, "feature", "add", *features, env=env_two).code == 0
    one, two = committed_files(first), committed_files(second)
    assert sorted(one) == sorted(two)
    for path in one:
        assert one[path] == two[path], f"{path} differs"
    assert ".paxx/services/postgres.yaml" in one and "pyproject.toml" in one


def test_environment_hash_depends_on_declaration_lock_and_catalog_only() -> None:
    base = environment_hash({"features": ["cache", "storage"]}, None, "0.1.0+abc")
    assert base == environment_hash(
        {"features": ["storage", "cache"], "name": None}, None, "0.1.0+abc"
    )
    assert base != environment_hash({"features": ["cache"]}, None, "0.1.0+abc")
    assert base != environment_hash(
        {"features": ["cache", "storage"]}, b"version = 1\n", "0.1.0+abc"
    )
    assert base != environment_hash({"features": ["cache", "storage"]}, None, "0.1.1+abc")
    assert len(base) == 16


def test_lock_file_round_trips_and_reports_mismatches() -> None:
    digest = "sha256:" + "ab" * 32
    lock = {"redis": LockEntry("redis:7.4.2-alpine", digest)}
    text = format_lock(lock).decode()
    assert parse_lock(text) == lock
    assert text.index("[images.redis]") > text.index("version = 1")
    assert mismatches(lock, {"redis": "redis:7.4.2-alpine"}) == []
    assert mismatches(lock, {"redis": "redis:7.4.3-alpine", "minio": "m:1"}) == [
        "minio is not locked",
        "redis is redis:7.4.3-alpine in the declaration but redis:7.4.2-alpine in the lock",
    ]
    assert mismatches(lock, {}) == ["redis is locked but no longer declared"]


@pytest.mark.parametrize(
    ("image", "mirror", "expected"),
    [
        (
            "redis:7.4.2-alpine",
            "mirror.example:5000",
            "mirror.example:5000/library/redis:7.4.2-alpine",
        ),
        ("pgvector/pgvector:0.8.0-pg17", "m", "m/pgvector/pgvector:0.8.0-pg17"),
        ("quay.io/minio/minio:RELEASE.X", "m/cache", "m/cache/quay.io/minio/minio:RELEASE.X"),
        ("docker.io/library/redis:7", "m", "m/library/redis:7"),
        ("docker.io/getmeili/meilisearch:v1", "m", "m/getmeili/meilisearch:v1"),
        ("redis:7@sha256:" + "0" * 64, "m", "m/library/redis:7@sha256:" + "0" * 64),
        ("redis:7", "", "redis:7"),
    ],
)
def test_mirror_rewrites_every_registry_under_one_prefix(
    image: str, mirror: str, expected: str
) -> None:
    assert through_mirror(image, mirror) == expected


def test_mirror_goes_to_the_local_overlay_not_to_committed_files(
    project: Path, paxx: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    paxx(project, "feature", "add", "cache")
    committed = committed_files(project)
    monkeypatch.setenv("PAXX_REGISTRY_MIRROR", "mirror.example:5000")
    assert paxx(project, "feature", "add", "cache").code == 0
    assert committed_files(project) == committed
    overlay = (project / ".paxx/local/engine.yaml").read_text()
    assert "image: mirror.example:5000/valkey/valkey:8.1.8-alpine" in overlay
    assert ".paxx/local/engine.yaml" in (project / ".env").read_text()


def test_generations_add_add_remove_rollback(project: Path, paxx: Runner) -> None:
    assert paxx(project, "feature", "add", "cache").code == 0  # generation 1
    assert paxx(project, "feature", "add", "storage").code == 0  # 2
    assert paxx(project, "feature", "remove", "cache").code == 0  # 3
    listing = paxx(project, "generations").out.splitlines()
    assert [line.split()[0] for line in listing[1:4]] == ["1", "2", "3*"]
    assert "feature remove cache" in listing[3] and "features -cache" in listing[3]

    result = paxx(project, "rollback", "2")
    assert result.code == 0, result.output
    assert "Restored generation 2. Run `paxx up` to apply it to the services." in result.out
    generation_two = load_files(project, 2)
    on_disk = committed_files(project)
    for path, content in generation_two.items():
        if path != DECLARATION:
            assert on_disk[path] == content, f"{path} differs from generation 2"
    assert not [p for p in on_disk if p.startswith(".paxx/services/") and p not in generation_two]
    assert 'features = ["cache", "storage"]' in (project / "pyproject.toml").read_text()
    assert '"redis>=5.0.1"' in (project / "pyproject.toml").read_text()
    listing = paxx(project, "generations").out.splitlines()
    assert listing[4].split()[:3] == ["4*", listing[4].split()[1], "rollback"]

    diff = paxx(project, "diff", "3", "4").out
    assert "+++ 4/.paxx/services/valkey.yaml" in diff
    assert "--- /dev/null" in diff


def test_rollback_over_a_hand_edited_file_needs_force(project: Path, paxx: Runner) -> None:
    paxx(project, "feature", "add", "cache")
    paxx(project, "feature", "add", "email")
    overlay = project / ".paxx/services/mailpit.yaml"
    overlay.write_text(overlay.read_text() + "# my note\n")
    refused = paxx(project, "rollback", "1")
    assert refused.code == 2
    assert "refusing to overwrite what you edited: .paxx/services/mailpit.yaml" in refused.err
    assert overlay.exists()
    forced = paxx(project, "rollback", "1", "--force")
    assert forced.code == 0, forced.output
    assert not overlay.exists()
    assert list((project / ".paxx/local/backup/.paxx/services").glob("mailpit.yaml.*"))


def test_gc_keeps_the_newest_generations(project: Path, paxx: Runner) -> None:
    for feature in ("cache", "email", "search", "tracing"):
        paxx(project, "feature", "add", feature)
    result = paxx(project, "gc", "--keep", "2")
    assert result.out == "Deleted 2 generation(s): 1, 2.\n"
    assert [line.split()[0] for line in paxx(project, "generations").out.splitlines()[1:3]] == [
        "3",
        "4*",
    ]


def test_env_hides_secrets_unless_asked(project: Path, paxx: Runner) -> None:
    paxx(project, "feature", "add", "cache", "email")
    shown = paxx(project, "env")
    assert shown.code == 0
    keys = [line.split("=", 1)[0] for line in shown.out.splitlines()]
    assert "SMTP_PORT" in keys and "PAXX_VALKEY_PORT" in keys
    assert "VALKEY_PASSWORD" not in keys and "REDIS_URL" not in keys
    assert not any(k.startswith("COMPOSE_") for k in keys)
    assert "not shown, they hold secrets: VALKEY_PASSWORD, REDIS_URL" in shown.err
    everything = json.loads(paxx(project, "env", "--format", "json", "--show-secrets").out)
    assert everything["REDIS_URL"].startswith("redis://:")
    shell = paxx(project, "env", "--format", "shell").out
    assert "export SMTP_HOST=127.0.0.1" in shell
    bad = paxx(project, "env", "--format", "yaml")
    assert bad.code == 2 and "unknown format 'yaml'" in bad.err


def test_run_passes_the_environment_and_the_exit_code(project: Path) -> None:
    assert run_cli(project, "feature", "add", "cache").code == 0
    code = "import os, sys; print(os.environ['REDIS_URL'][:9]); sys.exit(3)"
    result = run_cli(project, "run", "--", sys.executable, "-c", code)
    assert result.code == 3
    assert result.out == "redis://:\n"
    missing = run_cli(project, "run", "--", "no-such-command-paxx")
    assert missing.code == 127
    assert missing.err.splitlines()[0] == "paxx: error: command not found: no-such-command-paxx"


def test_run_outside_a_project_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "run", "--", "true")
    assert result.code == 2
    assert result.err.splitlines() == [
        f"paxx: error: no pyproject.toml or paxx.toml in {tmp_path} or any folder above it",
        "  fix: run paxx in your project folder, or `paxx init` to start a declaration here",
    ]
    assert not os.listdir(tmp_path)
