# paxx development tasks. Run them through ./scripts/dev, which sets up .venv first:
#   ./scripts/dev test      ./scripts/dev demo      ./scripts/dev lint      ./scripts/dev bench

set shell := ["bash", "-euo", "pipefail", "-c"]
export PATH := justfile_directory() + "/.venv/bin:" + env_var("PATH")

# List the recipes.
default:
    @just --list

# Every test: unit tests, and live tests on the Docker engine (they need Compose v2).
test *ARGS:
    python -m pytest {{ ARGS }}

# Only the tests that need no Docker engine.
unit *ARGS:
    python -m pytest tests/unit {{ ARGS }}

# The four-command flow in a throwaway project (needs a running Docker engine).
demo:
    bash scripts/demo.sh

# Lint and type-check paxx itself.
lint:
    ruff check .
    ruff format --check .
    mypy
    lint-imports

# Speed and memory, side by side with raw docker compose; writes docs/benchmarks.md.
bench *ARGS:
    python benchmarks/bench.py {{ ARGS }}
