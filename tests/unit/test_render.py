"""Rendering is pure: whole generated files compared byte for byte with golden copies."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from conftest import provider_stacks
from paxx_env.catalog import load_catalog
from paxx_env.render import engine_overlay, render_project, resolve_values

GOLDEN = Path(__file__).parent / "golden"
CATALOG = load_catalog()
ALL = sorted(CATALOG.features)


def render_all(features: list[str], providers: dict[str, str] | None = None) -> dict[str, bytes]:
    return render_project(
        CATALOG,
        features,
        "shop",
        "[tool.paxx] in pyproject.toml",
        package_dir="src/shop",
        providers=providers,
    ).files


def check_golden(name: str, files: dict[str, bytes]) -> None:
    folder = GOLDEN / name
    if os.environ.get("PAXX_UPDATE_GOLDEN"):
        for path, content in files.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(content)
    golden = {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert files == golden, "set PAXX_UPDATE_GOLDEN=1 to accept an intended change"


def test_render_matches_golden_files() -> None:
    """Every feature, no provider recorded: what paxx rendered before providers existed."""
    check_golden("shop", render_all(ALL))


#: The other provider choices: each feature on its default (a new project), then on the next.
STACKS = {f"shop-providers-{n}": stack for n, stack in enumerate(provider_stacks(), start=1)}


@pytest.mark.parametrize("name", sorted(STACKS))
def test_render_on_other_providers_matches_golden_files(name: str) -> None:
    """The overlays and .env.example change with the providers; the client modules do not."""
    files = render_all(ALL, STACKS[name])
    modules = {p: c for p, c in files.items() if p.startswith("src/")}
    assert modules == {p: c for p, c in render_all(ALL).items() if p.startswith("src/")}
    check_golden(name, {p: c for p, c in files.items() if p not in modules})


@pytest.mark.parametrize(
    "order", list(itertools.islice(itertools.permutations(ALL[:5]), 0, 120, 17))
)
def test_feature_order_does_not_change_the_output(order: tuple[str, ...]) -> None:
    assert render_all(list(order)) == render_all(sorted(order))


def test_secrets_and_ports_never_appear_in_rendered_files() -> None:
    render = render_project(CATALOG, ALL, "shop", "x")
    example = render.files[".env.example"].decode()
    for section in render.env:
        for entry in section.entries:
            if entry.kind == "secret":
                assert f"\n{entry.key}=\n" in example
    for path in render.overlays:
        text = render.files[path].decode()
        assert "${" in text and "127.0.0.1:${PAXX_" in text


def test_derived_values_quote_secrets_inside_urls() -> None:
    render = render_project(CATALOG, ["cache", "db"], "shop", "x")
    inputs = {
        "COMPOSE_PROJECT_NAME": "shop",
        "PAXX_REDIS_PORT": "6380",
        "REDIS_PASSWORD": "p@ss/w:rd",
        "PAXX_POSTGRES_PORT": "5433",
        "POSTGRES_USER": "app",
        "POSTGRES_DB": "app",
        "POSTGRES_PASSWORD": "a b#c",
    }
    values = resolve_values(render.env, inputs, "shop", ".paxx/services/postgres.yaml")
    assert values["REDIS_URL"] == "redis://:p%40ss%2Fw%3Ard@127.0.0.1:6380/0"
    assert values["DATABASE_URL"] == "postgresql://app:a%20b%23c@127.0.0.1:5433/app"
    assert values["COMPOSE_FILE"] == ".paxx/services/postgres.yaml"


def test_engine_overlay_only_where_the_engine_supports_start_interval() -> None:
    images = {"postgres": "pgvector/pgvector:0.8.0-pg17", "redis": "redis:7.4.2-alpine"}
    assert engine_overlay({"redis": "redis:7.4.2-alpine"}, start_interval=False) is None
    overlay = engine_overlay(images, start_interval=True)
    assert overlay is not None
    assert b"start_interval: 500ms" in overlay
    assert overlay.count(b"start_interval") == 2
