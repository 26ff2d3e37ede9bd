"""Secure defaults, checked over every feature at once (the engine-side checks are live)."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import yaml

from conftest import Runner, run_cli
from paxx_env import envblock
from paxx_env.catalog import load_catalog

CATALOG = load_catalog()
ALL = sorted(CATALOG.features)
WELL_KNOWN = {
    "postgres",
    "password",
    "minioadmin",
    "secret",
    "admin",
    "root",
    "changeme",
    "redis",
    "masterkey",
    "guest",
    "123456",
    "test",
    "default",
    "letmein",
}


def secret_keys() -> set[str]:
    return {key for service in CATALOG.services.values() for key in service.meta.secrets}


def test_every_feature_publishes_on_loopback_only_with_pinned_images(
    project: Path, paxx: Runner
) -> None:
    assert paxx(project, "feature", "add", *ALL).code == 0
    overlays = sorted((project / ".paxx/services").glob("*.yaml"))
    assert len(overlays) == len(CATALOG.services)
    for overlay in overlays:
        document = yaml.safe_load(overlay.read_text())
        for name, service in document["services"].items():
            image = service["image"]
            tag = image.rsplit("/", 1)[-1]
            assert ":" in tag and not tag.endswith(":latest"), f"{name}: {image}"
            for port in service.get("ports", []):
                assert port.startswith("127.0.0.1:"), f"{name}: {port}"
            for value in (service.get("environment") or {}).values():
                assert str(value).lower() not in WELL_KNOWN, f"{name}: a well-known value"


def test_secrets_are_random_long_distinct_and_never_well_known(project: Path, paxx: Runner) -> None:
    paxx(project, "feature", "add", *ALL)
    values = envblock.read_env((project / ".env").read_text()).block
    secrets = {key: values[key] for key in secret_keys()}
    for key, value in secrets.items():
        assert len(value) >= 22, f"{key}: fewer than 128 random bits"  # 6 bits per URL-safe char
        assert value.lower() not in WELL_KNOWN
    assert len(set(secrets.values())) == len(secrets), "every secret is its own"
    for value in values.values():
        assert value.lower() not in WELL_KNOWN


def test_env_is_private_git_ignored_and_kept_out_of_the_example(
    project: Path, paxx: Runner
) -> None:
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    paxx(project, "feature", "add", *ALL)
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o600
    ignored = subprocess.run(
        [
            "git",
            "check-ignore",
            ".env",
            ".paxx/local/state.json",
            ".env.example",
            ".paxx/services/redis.yaml",
        ],
        cwd=project,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert ignored == [".env", ".paxx/local/state.json"]
    example = (project / ".env.example").read_text()
    values = envblock.read_env((project / ".env").read_text()).block
    for key in secret_keys():
        assert values[key] not in example
        assert f"\n{key}=\n" in example


def test_paxx_never_prints_a_secret_unless_asked(project: Path) -> None:
    outputs = [run_cli(project, "-v", "feature", "add", *ALL).output]
    values = envblock.read_env((project / ".env").read_text()).block
    secrets = [values[key] for key in secret_keys()]
    for command in (
        ["env"],
        ["env", "--format", "json"],
        ["env", "--format", "shell"],
        ["-v", "env"],
        ["feature", "list"],
        ["generations"],
        ["diff", "1"],
        ["doctor"],
    ):
        outputs.append(run_cli(project, *command).output)
    for output in outputs:
        for secret in secrets:
            assert secret not in output
    shown = run_cli(project, "env", "--show-secrets").out
    assert all(secret in shown for secret in secrets), "--show-secrets shows them"
