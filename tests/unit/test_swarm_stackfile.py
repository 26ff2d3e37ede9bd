"""The swarm target's translation: the render's overlays into a stack file, compared whole.

The stack file is a pure function of the render, the Swarm secrets' names and what is
published; values from .env reach `docker stack deploy` through its environment, so no secret
is ever in the file. `docker stack config` (the docker CLI alone, no engine) checks that the
CLI reads the file as paxx means it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from paxx_env.catalog import COMPOSE_KEYS, load_catalog
from paxx_env.render import render_project
from paxx_env.swarm import stackfile
from paxx_env.swarm.stackfile import (
    TranslationError,
    secret_name,
    spec_digests,
    translate,
    with_spec_labels,
)

GOLDEN = Path(__file__).parent / "golden" / "swarm" / "stack.yaml"
CATALOG = load_catalog()
#: The six services: cache (redis), db (postgres), storage, email, search, tracing.
FEATURES = ["cache", "db", "email", "search", "storage", "tracing"]
RENDER = render_project(CATALOG, FEATURES, "shop", "[tool.paxx] in pyproject.toml")
FILE_SECRETS = {"POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"}
ENV_SECRETS = {"REDIS_PASSWORD", "MEILI_MASTER_KEY"}


def _values() -> dict[str, str]:
    """Values as .env would hold them: generated secrets, with characters YAML and shells mind."""
    values = {
        entry.key: str(entry.port) if entry.kind == "port" else entry.template or "x"
        for section in RENDER.env
        for entry in section.entries
    }
    values |= {"POSTGRES_USER": "app", "POSTGRES_DB": "app", "MINIO_ROOT_USER": "paxx"}
    for key in FILE_SECRETS | ENV_SECRETS:
        values[key] = secrets.token_urlsafe(24) + "$#'\" x"
    return values


def _stack(values: dict[str, str], publish: set[str] | None = None) -> stackfile.StackFile:
    names = {key: secret_name("shop", key, values[key]) for key in FILE_SECRETS}
    return with_spec_labels(translate(RENDER, CATALOG, names, publish), values, "0123456789ab")


def test_the_stack_file_matches_the_golden_file() -> None:
    values = {key: f"<{key.lower()}>" for key in _values()}
    text = _stack(values, publish={"mailpit"}).text()
    if os.environ.get("PAXX_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "set PAXX_UPDATE_GOLDEN=1 to accept an intended change"


def test_no_secret_is_ever_in_the_stack_file() -> None:
    values = _values()
    stack = _stack(values, publish=set(RENDER.services))
    text = stack.text()
    for key in FILE_SECRETS | ENV_SECRETS:
        assert values[key] not in text
        assert values[key][:12] not in text
    # Read from a file: only the Swarm secret's name (versioned by content) is in the file.
    assert FILE_SECRETS.isdisjoint(stack.variables)
    assert set(stack.secret_names) == FILE_SECRETS
    # No image reads these from a file: the deploy passes them in its environment.
    assert stack.variables >= ENV_SECRETS


def test_secrets_read_from_files_are_mounted_and_named_by_the_file_variable() -> None:
    document = _stack(_values()).document
    postgres = document["services"]["postgres"]
    assert "POSTGRES_PASSWORD" not in postgres["environment"]
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert postgres["secrets"] == [{"source": "postgres_password", "target": "postgres_password"}]
    minio = document["services"]["minio"]
    assert minio["environment"]["MINIO_ROOT_PASSWORD_FILE"] == "/run/secrets/minio_root_password"
    assert document["secrets"]["postgres_password"]["external"] is True


def test_nothing_is_published_unless_asked_and_then_not_on_an_address() -> None:
    quiet = _stack(_values()).document
    assert all("ports" not in service for service in quiet["services"].values())
    loud = _stack(_values(), publish={"mailpit"}).document["services"]["mailpit"]["ports"]
    assert loud == [
        {
            "target": 1025,
            "published": "${PAXX_MAILPIT_SMTP_PORT}",
            "protocol": "tcp",
            "mode": "host",
        },
        {"target": 8025, "published": "${PAXX_MAILPIT_UI_PORT}", "protocol": "tcp", "mode": "host"},
    ]


def test_what_swarm_cannot_do_is_said() -> None:
    stack = _stack(_values())
    for service in stack.document["services"].values():
        assert "security_opt" not in service
        assert "start_interval" not in service["healthcheck"]
        assert service["deploy"]["endpoint_mode"] == "dnsrr"
    assert stack.notes[0].startswith("security_opt of jaeger, mailpit, meilisearch, minio, ")
    assert stack.notes[1].startswith("MEILI_MASTER_KEY, REDIS_PASSWORD: environment variables")
    jaeger = stack.document["services"]["jaeger"]
    assert {"type": "tmpfs", "target": "/tmp"} in jaeger["volumes"]


def test_every_compose_key_of_the_catalog_has_a_swarm_translation_or_a_refusal() -> None:
    handled = {
        *stackfile._KEPT,
        *stackfile._TRANSLATED,
        *stackfile.DROPPED,
        *stackfile.REFUSED,
    }
    assert handled >= COMPOSE_KEYS


def test_a_key_swarm_cannot_take_is_refused() -> None:
    render = render_project(CATALOG, ["cache"], "shop", "x")
    overlay = render.overlays[0]
    document = yaml.safe_load(render.files[overlay])
    document["services"]["redis"]["configs"] = ["redis-conf"]
    render.files[overlay] = yaml.safe_dump(document).encode()
    with pytest.raises(TranslationError, match="configs: Compose configs read local files"):
        translate(render, CATALOG, {})


def test_secret_names_are_versioned_by_content_and_fit_swarm() -> None:
    first = secret_name("shop", "POSTGRES_PASSWORD", "a")
    assert first.startswith("shop_postgres_password_")
    assert first != secret_name("shop", "POSTGRES_PASSWORD", "b")
    assert first == secret_name("shop", "POSTGRES_PASSWORD", "a")
    assert len(secret_name("x" * 40 + "-2", "MINIO_ROOT_PASSWORD", "a")) <= 64


def test_a_spec_digest_changes_exactly_when_swarm_would_update_the_service() -> None:
    values = _values()
    before = spec_digests(_stack(values))
    changed = spec_digests(_stack(values | {"REDIS_PASSWORD": "another"}))
    assert {s for s in before if before[s] != changed[s]} == {"redis"}
    # A new postgres password is a new Swarm secret: postgres is updated, though its body is not.
    rotated = spec_digests(_stack(values | {"POSTGRES_PASSWORD": "another"}))
    assert {s for s in before if before[s] != rotated[s]} == {"postgres"}


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI (no engine)")
def test_the_docker_cli_reads_the_file_with_the_values_unchanged() -> None:
    values = _values()
    stack = _stack(values, publish={"mailpit"})
    done = subprocess.run(
        ["docker", "stack", "config", "--compose-file", "-"],
        input=stack.text(),
        capture_output=True,
        text=True,
        env={**os.environ, **{key: values[key] for key in stack.variables}},
    )
    if "unknown command" in done.stderr or "is not a docker command" in done.stderr:
        pytest.skip("this docker CLI has no `docker stack config` (it came in 24)")
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)["services"]
    redis = config["redis"]
    assert redis["environment"]["REDISCLI_AUTH"] == values["REDIS_PASSWORD"]
    assert redis["command"][2] == values["REDIS_PASSWORD"]
    assert config["meilisearch"]["environment"]["MEILI_MASTER_KEY"] == values["MEILI_MASTER_KEY"]
    assert config["postgres"]["healthcheck"]["test"][1].count("${POSTGRES_USER}") == 1
    assert config["mailpit"]["ports"][0]["published"] == int(values["PAXX_MAILPIT_SMTP_PORT"])
