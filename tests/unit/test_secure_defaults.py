"""Secure defaults, checked over every feature at once (the engine-side checks are live)."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import Runner, declare, provider_stacks, run_cli
from paxx_env import envblock
from paxx_env.catalog import load_catalog, select

CATALOG = load_catalog()
ALL = sorted(CATALOG.features)
#: Every feature on its default providers, then on the others: every service is checked.
STACKS = provider_stacks()
STACK = pytest.mark.parametrize("stack", range(len(STACKS)))
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


def secret_keys(stack: int) -> set[str]:
    services = select(CATALOG, ALL, STACKS[stack]).services
    return {key for name in services for key in CATALOG.services[name].meta.secrets}


def add_all(project: Path, paxx: Runner, stack: int) -> None:
    declare(project, ALL, STACKS[stack])
    result = paxx(project, "feature", "add", *ALL)
    assert result.code == 0, result.output


@STACK
def test_every_feature_publishes_on_loopback_only_with_pinned_images(
    project: Path, paxx: Runner, stack: int
) -> None:
    add_all(project, paxx, stack)
    overlays = sorted((project / ".paxx/services").glob("*.yaml"))
    assert len(overlays) == len(select(CATALOG, ALL, STACKS[stack]).services)
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


@STACK
def test_secrets_are_random_long_distinct_and_never_well_known(
    project: Path, paxx: Runner, stack: int
) -> None:
    add_all(project, paxx, stack)
    values = envblock.read_env((project / ".env").read_text()).block
    secrets = {key: values[key] for key in secret_keys(stack)}
    for key, value in secrets.items():
        assert len(value) >= 22, f"{key}: fewer than 128 random bits"  # 6 bits per URL-safe char
        assert value.lower() not in WELL_KNOWN
    assert len(set(secrets.values())) == len(secrets), "every secret is its own"
    # Values a provider sets name a backend, not a credential (SEARCH_BACKEND=postgres).
    backends = {
        key
        for feature in CATALOG.features.values()
        for provider in feature.profile.providers.values()
        for key in provider.env
    }
    for key, value in values.items():
        assert key in backends or value.lower() not in WELL_KNOWN, key


@STACK
def test_env_is_private_git_ignored_and_kept_out_of_the_example(
    project: Path, paxx: Runner, stack: int
) -> None:
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    add_all(project, paxx, stack)
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
    for key in secret_keys(stack):
        assert values[key] not in example
        assert f"\n{key}=\n" in example


@STACK
def test_paxx_never_prints_a_secret_unless_asked(project: Path, stack: int) -> None:
    declare(project, ALL, STACKS[stack])
    outputs = [run_cli(project, "-v", "feature", "add", *ALL).output]
    values = envblock.read_env((project / ".env").read_text()).block
    secrets = [values[key] for key in secret_keys(stack)]
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
