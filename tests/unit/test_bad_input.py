"""Bad input: a two-line error (what, and how to fix), exit 2, and every file left as it was."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import PYPROJECT, Runner, tree_checksum


@dataclass
class Case:
    """One bad input: the files to start from, the command, and the exact error."""

    id: str
    args: tuple[str, ...]
    message: str
    hint: str
    files: dict[str, str] = field(default_factory=dict)
    prepare: tuple[str, ...] = ()
    code: int = 2


BASE = PYPROJECT.format(name="shop")


def with_paxx(table: str) -> dict[str, str]:
    return {"pyproject.toml": BASE + "\n[tool.paxx]\n" + table}


CASES = [
    Case(
        "unknown-feature-suggests-closest",
        ("feature", "add", "stroage"),
        "unknown feature 'stroage'",
        "did you mean 'storage'?; `paxx feature list` shows all",
        {"pyproject.toml": BASE},
    ),
    Case(
        "unknown-feature-without-close-match",
        ("feature", "add", "kafka"),
        "unknown feature 'kafka'",
        "known features: cache, db, email, search, storage, tasks, tracing, vector, websocket; "
        "`paxx feature list` shows all",
        {"pyproject.toml": BASE},
    ),
    Case(
        "pyproject-not-toml",
        ("feature", "add", "cache"),
        'pyproject.toml line 3: not valid TOML (Invalid key "version x")',
        "fix the syntax at line 3, column 10 of pyproject.toml",
        {"pyproject.toml": '[project]\nname = "shop"\nversion x "1"\n'},
    ),
    Case(
        "paxx-toml-not-toml",
        ("up",),
        "paxx.toml line 1: not valid TOML (the file ends too early)",
        "fix the syntax at line 1 of paxx.toml",
        {"paxx.toml": "features = "},
    ),
    Case(
        "unknown-key-in-declaration",
        ("feature", "add", "cache"),
        "pyproject.toml line 10: tool.paxx.featurs: unknown key",
        "did you mean 'features'? Known keys here: features, name, package, services",
        with_paxx('featurs = ["cache"]\n'),
    ),
    Case(
        "features-wrong-type",
        ("up",),
        "pyproject.toml line 10: tool.paxx.features: Input should be a valid tuple",
        "see docs/declaration.md for the format of [tool.paxx]",
        with_paxx('features = "cache"\n'),
    ),
    Case(
        "declared-feature-unknown",
        ("up",),
        "pyproject.toml: unknown feature 'cahce'",
        "did you mean 'cache'?; `paxx feature list` shows all",
        with_paxx('features = ["cahce"]\n'),
    ),
    Case(
        "feature-listed-twice",
        ("feature", "list"),
        "pyproject.toml line 10: tool.paxx.features: a feature is listed twice",
        "see docs/declaration.md for the format of [tool.paxx]",
        with_paxx('features = ["cache", "cache"]\n'),
    ),
    Case(
        "override-unknown-service",
        ("feature", "add", "cache"),
        "pyproject.toml: tool.paxx.services.rediss: unknown service",
        "did you mean 'redis'?",
        with_paxx('[tool.paxx.services.rediss]\nimage = "redis:7.4.3-alpine"\n'),
    ),
    Case(
        "override-image-latest",
        ("feature", "add", "cache"),
        "pyproject.toml line 11: tool.paxx.services.redis.image: "
        "'redis:latest' uses :latest; pin a version instead",
        "see docs/declaration.md for the format of [tool.paxx]",
        with_paxx('[tool.paxx.services.redis]\nimage = "redis:latest"\n'),
    ),
    Case(
        "override-image-invalid",
        ("feature", "add", "cache"),
        "pyproject.toml line 11: tool.paxx.services.redis.image: "
        "'Redis Server' is not a valid image reference (expected REPOSITORY:TAG)",
        "see docs/declaration.md for the format of [tool.paxx]",
        with_paxx('[tool.paxx.services.redis]\nimage = "Redis Server"\n'),
    ),
    Case(
        "override-port-out-of-range",
        ("feature", "add", "cache"),
        "pyproject.toml line 11: tool.paxx.services.redis.ports: "
        "PAXX_REDIS_PORT = 70000 is not a port number (1-65535)",
        "see docs/declaration.md for the format of [tool.paxx]",
        with_paxx("[tool.paxx.services.redis]\nports = { PAXX_REDIS_PORT = 70000 }\n"),
    ),
    Case(
        "override-port-unknown-variable",
        ("feature", "add", "cache"),
        "pyproject.toml: tool.paxx.services.redis.ports.PAXX_REDIS: not a port of redis",
        "redis has: PAXX_REDIS_PORT",
        with_paxx("[tool.paxx.services.redis]\nports = { PAXX_REDIS = 6380 }\n"),
    ),
    Case(
        "remove-feature-never-added",
        ("feature", "remove", "search"),
        "feature 'search' was never added to this project",
        "enabled features: cache",
        with_paxx('features = ["cache"]\n'),
    ),
    Case(
        "remove-feature-only-required",
        ("feature", "remove", "db"),
        "db is not declared itself; vector requires it",
        "remove vector instead",
        with_paxx('features = ["vector"]\n'),
    ),
    Case(
        "env-line-unparseable",
        ("feature", "add", "cache"),
        ".env line 2: cannot parse: expected KEY=value",
        "fix or delete that line in .env; quote values that hold spaces, '#' or '$'",
        {"pyproject.toml": BASE, ".env": "DEBUG=1\nnot an assignment\n"},
    ),
    Case(
        "env-unclosed-quote",
        ("feature", "add", "cache"),
        ".env line 1 (API_TOKEN): cannot parse: the single quote is not closed",
        "fix or delete that line in .env; quote values that hold spaces, '#' or '$'",
        {"pyproject.toml": BASE, ".env": "API_TOKEN='abc\n"},
    ),
    Case(
        "env-block-without-end",
        ("feature", "add", "cache"),
        ".env: the paxx block has no end marker",
        "put back the `# >>> paxx >>>` and `# <<< paxx <<<` lines around paxx's variables in "
        ".env (or delete both markers and the variables between them to let paxx start over)",
        {"pyproject.toml": BASE, ".env": "# >>> paxx >>>\nREDIS_PASSWORD=x\n"},
    ),
    Case(
        "env-port-not-a-number",
        ("feature", "add", "storage"),
        ".env: PAXX_REDIS_PORT=sixty is not a port number",
        "set PAXX_REDIS_PORT to a port number (1024-65535) in .env, or delete it to let paxx pick",
        {
            **with_paxx('features = ["cache"]\n'),
            ".env": "# >>> paxx >>>\nPAXX_REDIS_PORT=sixty\n# <<< paxx <<<\n",
        },
    ),
    Case(
        "env-managed-key-outside-block",
        ("feature", "add", "db"),
        ".env line 1 sets DATABASE_URL, which paxx manages",
        "delete that line, or move your value into the paxx block of .env to keep it",
        {"pyproject.toml": BASE, ".env": "DATABASE_URL=postgresql://me@db/app\n"},
    ),
    Case(
        "up-unknown-service",
        ("up", "postgress"),
        "'postgress' is not a service of this project",
        "did you mean 'postgres'? declared services: postgres",
        with_paxx('features = ["db"]\n'),
        prepare=("feature", "add", "db"),
        code=2,
    ),
    Case(
        "up-without-features",
        ("up",),
        "no services are declared, so there is nothing to start",
        "add a feature first, e.g. `paxx feature add cache` (`paxx feature list` shows all)",
        with_paxx("features = []\n"),
    ),
    Case(
        "status-outside-a-project",
        ("status",),
        "no pyproject.toml or paxx.toml in {root} or any folder above it",
        "run paxx in your project folder",
        {},
    ),
    Case(
        "logs-before-up",
        ("logs",),
        "this project has not been started yet, so there are no logs",
        "run `paxx up` first",
        with_paxx('features = ["cache"]\n'),
    ),
    Case(
        "logs-unknown-service",
        ("logs", "redsi"),
        "'redsi' is not a service of this project",
        "did you mean 'redis'? declared services: redis",
        with_paxx('features = ["cache"]\n'),
        prepare=("feature", "add", "cache"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, paxx: Runner) -> None:
    root = tmp_path / "app"
    root.mkdir()
    for name, content in case.files.items():
        (root / name).write_text(content)
    if case.prepare:
        assert paxx(root, *case.prepare).code == 0
    before = tree_checksum(root)
    result = paxx(root, *case.args)
    assert result.code == case.code, result.output
    assert result.err.splitlines() == [
        f"paxx: error: {case.message.format(root=root)}",
        f"  fix: {case.hint}",
    ]
    assert result.out == ""
    assert tree_checksum(root) == before


def test_usage_errors_from_the_parser_exit_2(tmp_path: Path, paxx: Runner) -> None:
    result = paxx(tmp_path, "up", "--timeout", "soon")
    assert result.code == 2
    assert "Invalid value for '--timeout'" in result.err
