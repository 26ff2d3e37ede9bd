"""Bad input: a two-line error (what, and how to fix), exit 2, and every file left as it was.

Each case builds a project tree inline, runs one paxx command and checks that paxx prints
exactly `paxx: error: <what>` and `  fix: <how>` on stderr, nothing on stdout, exits 2 and
leaves every file (bytes and mode) as it was.

Only commands that check their input before they talk to the Docker engine are used here
(`feature`, `env`, `run`, `diff`, `rollback`, and `up`, `logs`, `update` for errors they
find before their engine check).

Usage errors found by the option parser itself (typer) are a separate list: typer prints its
own usage text rather than paxx's two lines, so those cases assert exit 2, an empty stdout,
an unchanged tree and the key phrases of typer's message instead of two exact lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conftest import PYPROJECT, Runner, tree_checksum


@dataclass
class Case:
    """One bad input: the files to start from, the command, and the exact error.

    `{root}` in the message, the hint or an `env` value stands for the project folder.
    """

    id: str
    args: tuple[str, ...]
    message: str
    hint: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    prepare: tuple[str, ...] = ()
    code: int = 2
    env: dict[str, str] = field(default_factory=dict)


BASE = PYPROJECT.format(name="shop")


def with_paxx(table: str) -> dict[str, str | bytes]:
    return {"pyproject.toml": BASE + "\n[tool.paxx]\n" + table}


CACHE = with_paxx('features = ["cache"]\n')
DECLARATION_HINT = "see docs/declaration.md for the format of [tool.paxx]"
ENV_LINE_HINT = "fix or delete that line in .env; quote values that hold spaces, '#' or '$'"
MARKERS_HINT = (
    "put back the `# >>> paxx >>>` and `# <<< paxx <<<` lines around paxx's variables in "
    ".env (or delete both markers and the variables between them to let paxx start over)"
)
LOCK_HINT = "restore it from version control, or delete it and run `paxx lock` to resolve it anew"
CATALOG_HINT = "fix the catalog file (see docs/catalog.md for its format)"
DIGEST = "sha256:" + "3996c683131eb48ae423a612c3fa6eaf2e93a3b28273a715780056b27fde17b0"


def lock(entry: str, version: str = "version = 1\n") -> str:
    return version + "\n[images.redis]\n" + entry


#: A one-service catalog (PAXX_CATALOG) with the feature `kv`; `catalog(...)` breaks it.
KV_SERVICE = """\
image: redis:7.4.2-alpine
ports:
  - "127.0.0.1:${PAXX_KV_PORT}:6379"
healthcheck:
  test: ["CMD", "redis-cli", "ping"]
x-paxx:
  summary: a key-value store
  ports: {PAXX_KV_PORT: 6379}
"""
KV_PROFILE = 'summary = "a key-value store"\n\n[providers.kv]\nservices = ["kv"]\n'
CATALOG_ENV = {"PAXX_CATALOG": "{root}/catalog"}


def catalog(service: str, profile: str | None = KV_PROFILE) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {"pyproject.toml": BASE, "catalog/services/kv.yaml": service}
    if profile is not None:
        files["catalog/profiles/kv/profile.toml"] = profile
    return files


def generation(declaration: str) -> dict[str, str | bytes]:
    """A project whose only recorded generation holds `declaration`."""
    folder = ".paxx/local/generations/0001"
    meta = (
        '{"number": 1, "time": "2026-01-01T00:00:00+00:00", '
        '"command": "feature add cache", "summary": "features +cache"}\n'
    )
    return {
        "pyproject.toml": BASE,
        f"{folder}/meta.json": meta,
        f"{folder}/files/declaration.toml": declaration,
    }


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
        "did you mean 'features'? Known keys here: features, name, package, providers, services, "
        "target",
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
        "set PAXX_REDIS_PORT to a port number (1-65535) in .env, or delete it to let paxx pick",
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
    # ------------------------------------------------------------ pyproject.toml / paxx.toml
    Case(
        "pyproject-unclosed-table-header",
        ("feature", "add", "cache"),
        "pyproject.toml line 9: not valid TOML (Unexpected character: '\\n')",
        "fix the syntax at line 9, column 10 of pyproject.toml",
        {"pyproject.toml": BASE + "\n[tool.paxx\nfeatures = []\n"},
    ),
    Case(
        "pyproject-duplicate-key",
        ("feature", "add", "cache"),
        'pyproject.toml line 11: not valid TOML (Key "features" already exists.)',
        "fix the syntax at line 11 of pyproject.toml",
        with_paxx('features = ["cache"]\nfeatures = ["db"]\n'),
    ),
    Case(
        "pyproject-string-not-closed",
        ("feature", "add", "cache"),
        "pyproject.toml line 10: not valid TOML (Control characters (codes less than 0x1f and "
        "0x7f) are not allowed in strings, use \\u000a instead)",
        "fix the syntax at line 10, column 12 of pyproject.toml",
        with_paxx('name = "shop\n'),
    ),
    Case(
        "pyproject-invalid-escape-in-string",
        ("feature", "add", "cache"),
        "pyproject.toml line 10: not valid TOML (Invalid character 'q' in string)",
        "fix the syntax at line 10, column 11 of pyproject.toml",
        with_paxx('name = "sh\\qop"\n'),
    ),
    Case(
        "pyproject-not-utf8",
        ("feature", "add", "cache"),
        "pyproject.toml line 2: not UTF-8 text",
        "save pyproject.toml as UTF-8",
        {"pyproject.toml": b'[project]\nname = "caf\xe9"\n'},
    ),
    Case(
        "pyproject-tool-not-a-table",
        ("feature", "list"),
        "pyproject.toml: [tool] must be a table",
        "see docs/declaration.md",
        {"pyproject.toml": "tool = []\n" + BASE},
    ),
    Case(
        "pyproject-dependencies-not-an-array",
        ("feature", "add", "cache"),
        "pyproject.toml: [project].dependencies must be an array of requirement strings",
        'write it as an array, e.g. dependencies = ["fastapi>=0.110"]',
        {"pyproject.toml": '[project]\nname = "shop"\ndependencies = "fastapi>=0.110"\n'},
    ),
    Case(
        "paxx-toml-duplicate-key",
        ("feature", "list"),
        'paxx.toml line 2: not valid TOML (Key "features" already exists.)',
        "fix the syntax at line 2 of paxx.toml",
        {"paxx.toml": 'features = []\nfeatures = ["cache"]\n'},
    ),
    Case(
        "paxx-toml-unclosed-table-header",
        ("up",),
        "paxx.toml line 1: not valid TOML (Unexpected character: '\\n')",
        "fix the syntax at line 1, column 15 of paxx.toml",
        {"paxx.toml": "[services.redis\n"},
    ),
    # ------------------------------------------------------------ [tool.paxx]: types and keys
    Case(
        "name-wrong-type",
        ("feature", "add", "cache"),
        "pyproject.toml line 10: tool.paxx.name: Input should be a valid string",
        DECLARATION_HINT,
        with_paxx("name = 3\n"),
    ),
    Case(
        "package-wrong-type",
        ("feature", "add", "cache"),
        "pyproject.toml line 10: tool.paxx.package: Input should be a valid string",
        DECLARATION_HINT,
        with_paxx("package = []\n"),
    ),
    Case(
        "package-outside-the-project",
        ("feature", "add", "cache"),
        "pyproject.toml line 10: tool.paxx.package: '../elsewhere' is not a folder inside "
        "the project",
        DECLARATION_HINT,
        with_paxx('package = "../elsewhere"\n'),
    ),
    Case(
        "services-wrong-type",
        ("feature", "add", "cache"),
        "pyproject.toml line 10: tool.paxx.services: Input should be a valid dictionary",
        DECLARATION_HINT,
        with_paxx('services = "x"\n'),
    ),
    Case(
        "override-image-wrong-type",
        ("feature", "add", "cache"),
        "pyproject.toml line 11: tool.paxx.services.redis.image: Input should be a valid string",
        DECLARATION_HINT,
        with_paxx("[tool.paxx.services.redis]\nimage = 5\n"),
    ),
    Case(
        "override-unknown-key",
        ("feature", "add", "cache"),
        "pyproject.toml line 11: tool.paxx.services.redis.port: unknown key",
        "did you mean 'ports'? Known keys here: image, ports",
        with_paxx("[tool.paxx.services.redis]\nport = { PAXX_REDIS_PORT = 6380 }\n"),
    ),
    Case(
        "tool-paxx-is-an-array",
        ("feature", "add", "cache"),
        "pyproject.toml: [tool.paxx] must be a table",
        "see docs/declaration.md",
        {"pyproject.toml": BASE + '\n[[tool.paxx]]\nfeatures = ["cache"]\n'},
    ),
    Case(
        "features-item-wrong-type",
        ("feature", "add", "cache"),
        "pyproject.toml: tool.paxx.features.0: Input should be a valid string",
        DECLARATION_HINT,
        with_paxx("features = [1]\n"),
    ),
    Case(
        "feature-name-invalid-characters",
        ("up",),
        "pyproject.toml line 10: tool.paxx.features: 'Cache!' is not a feature name",
        DECLARATION_HINT,
        with_paxx('features = ["Cache!"]\n'),
    ),
    Case(
        "paxx-toml-unknown-key",
        ("feature", "list"),
        "paxx.toml line 1: featurs: unknown key",
        "did you mean 'features'? Known keys here: features, name, package, providers, services, "
        "target",
        {"paxx.toml": 'featurs = ["cache"]\n'},
    ),
    Case(
        "target-unknown-in-declaration",
        ("up",),
        "pyproject.toml line 11: tool.paxx.target: Input should be 'compose' or 'swarm'",
        DECLARATION_HINT,
        with_paxx('features = ["cache"]\ntarget = "kubernetes"\n'),
    ),
    Case(
        "target-unknown-option",
        ("up", "--target", "nomad"),
        "unknown target 'nomad'",
        "choose one of: compose, swarm",
        CACHE,
    ),
    Case(
        "publish-without-swarm",
        ("up", "--publish", "redis"),
        "--publish is for --target swarm; with Compose every port is published, on 127.0.0.1 only",
        "drop --publish, or add --target swarm",
        CACHE,
    ),
    Case(
        "swarm-up-names-services",
        ("up", "--target", "swarm", "redis"),
        "a Swarm stack is deployed whole: `paxx up --target swarm` takes no services",
        "run it without service names",
        CACHE,
    ),
    # ------------------------------------------------------------ unknown features and services
    Case(
        "add-second-name-unknown",
        ("feature", "add", "cache", "stroage"),
        "unknown feature 'stroage'",
        "did you mean 'storage'?; `paxx feature list` shows all",
        {"pyproject.toml": BASE},
    ),
    Case(
        "remove-unknown-feature-suggests-closest",
        ("feature", "remove", "cahce"),
        "unknown feature 'cahce'",
        "did you mean 'cache'?; `paxx feature list` shows all",
        CACHE,
    ),
    Case(
        "remove-unknown-feature-without-close-match",
        ("feature", "remove", "kafka"),
        "unknown feature 'kafka'",
        "known features: cache, db, email, search, storage, tasks, tracing, vector, websocket; "
        "`paxx feature list` shows all",
        CACHE,
    ),
    Case(
        "remove-feature-when-none-declared",
        ("feature", "remove", "cache"),
        "feature 'cache' was never added to this project",
        "enabled features: none",
        {"pyproject.toml": BASE},
    ),
    Case(
        "up-unknown-service-without-close-match",
        ("up", "kafka"),
        "'kafka' is not a service of this project",
        "declared services: redis",
        CACHE,
    ),
    Case(
        "logs-unknown-service-without-close-match",
        ("logs", "kafka"),
        "'kafka' is not a service of this project",
        "declared services: redis",
        CACHE,
        prepare=("feature", "add", "cache"),
    ),
    Case(
        "update-unknown-service",
        ("update", "rediss"),
        "'rediss' is not a service of this project",
        "did you mean 'redis'? declared services: redis",
        CACHE,
    ),
    Case(
        "update-unknown-service-without-close-match",
        ("update", "kafka"),
        "'kafka' is not a service of this project",
        "declared services: redis",
        CACHE,
    ),
    Case(
        "update-without-services",
        ("update",),
        "no services are declared, so there is nothing to lock",
        "add a feature first, e.g. `paxx feature add cache`",
        with_paxx("features = []\n"),
    ),
    # ------------------------------------------------------------ port and image overrides
    Case(
        "override-port-zero",
        ("feature", "add", "cache"),
        "pyproject.toml line 11: tool.paxx.services.redis.ports: "
        "PAXX_REDIS_PORT = 0 is not a port number (1-65535)",
        DECLARATION_HINT,
        with_paxx("[tool.paxx.services.redis]\nports = { PAXX_REDIS_PORT = 0 }\n"),
    ),
    Case(
        "override-port-negative",
        ("feature", "add", "cache"),
        "pyproject.toml line 11: tool.paxx.services.redis.ports: "
        "PAXX_REDIS_PORT = -1 is not a port number (1-65535)",
        DECLARATION_HINT,
        with_paxx("[tool.paxx.services.redis]\nports = { PAXX_REDIS_PORT = -1 }\n"),
    ),
    Case(
        "override-port-as-string",
        ("feature", "add", "cache"),
        "pyproject.toml line 11: tool.paxx.services.redis.ports: "
        "PAXX_REDIS_PORT = '6379' is not a port number (1-65535)",
        DECLARATION_HINT,
        with_paxx('[tool.paxx.services.redis]\nports = { PAXX_REDIS_PORT = "6379" }\n'),
    ),
    Case(
        "override-same-port-twice",
        ("feature", "add", "storage"),
        "pyproject.toml line 11: tool.paxx.services.minio.ports: "
        "PAXX_MINIO_CONSOLE_PORT = 7000 is also used by PAXX_MINIO_PORT",
        DECLARATION_HINT,
        with_paxx(
            "[tool.paxx.services.minio]\n"
            "ports = { PAXX_MINIO_PORT = 7000, PAXX_MINIO_CONSOLE_PORT = 7000 }\n"
        ),
    ),
    Case(
        "override-image-with-spaces",
        ("feature", "add", "cache"),
        "pyproject.toml line 11: tool.paxx.services.redis.image: "
        "'redis server:7' is not a valid image reference (expected REPOSITORY:TAG)",
        DECLARATION_HINT,
        with_paxx('[tool.paxx.services.redis]\nimage = "redis server:7"\n'),
    ),
    Case(
        "override-image-uppercase-repository",
        ("feature", "add", "cache"),
        "pyproject.toml line 11: tool.paxx.services.redis.image: "
        "'Redis:7.4.2' is not a valid image reference (expected REPOSITORY:TAG)",
        DECLARATION_HINT,
        with_paxx('[tool.paxx.services.redis]\nimage = "Redis:7.4.2"\n'),
    ),
    Case(
        "override-image-without-tag",
        ("feature", "add", "cache"),
        "pyproject.toml line 11: tool.paxx.services.redis.image: "
        "'docker.io/library/redis' has no tag; pin a version such as "
        "docker.io/library/redis:1.2.3",
        DECLARATION_HINT,
        with_paxx('[tool.paxx.services.redis]\nimage = "docker.io/library/redis"\n'),
    ),
    Case(
        "override-image-empty",
        ("feature", "add", "cache"),
        "pyproject.toml line 11: tool.paxx.services.redis.image: "
        "'' is not a valid image reference (expected REPOSITORY:TAG)",
        DECLARATION_HINT,
        with_paxx('[tool.paxx.services.redis]\nimage = ""\n'),
    ),
    # ------------------------------------------------------------ env and run
    Case(
        "run-outside-a-project",
        ("run", "--", "true"),
        "no pyproject.toml or paxx.toml in {root} or any folder above it",
        "run paxx in your project folder, or `paxx init` to start a declaration here",
        {},
    ),
    Case(
        "run-without-a-command",
        ("run",),
        "no command given",
        "write it after --, e.g. `paxx run -- python -m myapp`",
        CACHE,
    ),
    Case(
        "env-unknown-format",
        ("env", "--format", "yaml"),
        "unknown format 'yaml'",
        "use --format dotenv, --format json or --format shell",
        CACHE,
    ),
    # ------------------------------------------------------------ .env
    Case(
        "env-text-after-closing-quote",
        ("feature", "add", "cache"),
        ".env line 2 (GREETING): cannot parse: text after the closing quote",
        ENV_LINE_HINT,
        {"pyproject.toml": BASE, ".env": "DEBUG=1\nGREETING='hello' world\n"},
    ),
    Case(
        "env-unclosed-double-quote",
        ("env",),
        ".env line 1 (API_TOKEN): cannot parse: the double quote is not closed",
        ENV_LINE_HINT,
        {**CACHE, ".env": 'API_TOKEN="abc\n'},
    ),
    Case(
        "env-key-starts-with-a-digit",
        ("feature", "add", "cache"),
        ".env line 1: cannot parse: expected KEY=value",
        ENV_LINE_HINT,
        {"pyproject.toml": BASE, ".env": "1PASSWORD=x\n"},
    ),
    Case(
        "env-key-with-a-space",
        ("run", "--", "true"),
        ".env line 1: cannot parse: expected KEY=value",
        ENV_LINE_HINT,
        {**CACHE, ".env": "MY KEY=1\n"},
    ),
    Case(
        "env-not-utf8",
        ("feature", "add", "cache"),
        ".env is not UTF-8 text",
        "save .env as UTF-8",
        {"pyproject.toml": BASE, ".env": b"CITY=Z\xfcrich\n"},
    ),
    Case(
        "env-is-a-directory",
        ("feature", "add", "cache"),
        ".env is a folder, not a file",
        "move the folder away: paxx writes the project's variables to the file .env",
        {"pyproject.toml": BASE, ".env/notes.txt": "x\n"},
    ),
    Case(
        "env-two-paxx-blocks",
        ("feature", "add", "cache"),
        ".env line 3: a second paxx block starts here",
        MARKERS_HINT,
        {
            "pyproject.toml": BASE,
            ".env": "# >>> paxx >>>\n# <<< paxx <<<\n# >>> paxx >>>\n# <<< paxx <<<\n",
        },
    ),
    Case(
        "env-block-end-without-start",
        ("feature", "add", "cache"),
        ".env line 2: a paxx block ends without a start",
        MARKERS_HINT,
        {"pyproject.toml": BASE, ".env": "DEBUG=1\n# <<< paxx <<<\n"},
    ),
    Case(
        "env-managed-key-after-the-block",
        ("feature", "add", "cache"),
        ".env line 3 sets REDIS_URL, which paxx manages",
        "delete that line, or move your value into the paxx block of .env to keep it",
        {
            "pyproject.toml": BASE,
            ".env": "# >>> paxx >>>\n# <<< paxx <<<\nREDIS_URL=redis://elsewhere:6379/0\n",
        },
    ),
    Case(
        "env-port-out-of-range",
        ("env",),
        ".env: PAXX_REDIS_PORT=70000 is not a port number",
        "set PAXX_REDIS_PORT to a port number (1-65535) in .env, or delete it to let paxx pick",
        {**CACHE, ".env": "# >>> paxx >>>\nPAXX_REDIS_PORT=70000\n# <<< paxx <<<\n"},
    ),
    # ------------------------------------------------------------ paxx.lock
    Case(
        "lock-not-toml",
        ("feature", "add", "cache"),
        "paxx.lock is corrupt: not valid TOML: Expected ']' at the end of a table declaration "
        "(at line 3, column 14)",
        LOCK_HINT,
        {**CACHE, "paxx.lock": "version = 1\n\n[images.redis\n"},
    ),
    Case(
        "lock-unknown-version",
        ("env",),
        "paxx.lock is corrupt: unknown version 2 (this paxx reads 1)",
        LOCK_HINT,
        {
            **CACHE,
            "paxx.lock": lock(
                f'image = "redis:7.4.2-alpine"\ndigest = "{DIGEST}"\n', "version = 2\n"
            ),
        },
    ),
    Case(
        "lock-without-version",
        ("feature", "add", "cache"),
        "paxx.lock is corrupt: it has no version (this paxx reads 1)",
        LOCK_HINT,
        {
            **CACHE,
            "paxx.lock": lock(f'image = "redis:7.4.2-alpine"\ndigest = "{DIGEST}"\n', ""),
        },
    ),
    Case(
        "lock-malformed-digest",
        ("feature", "add", "cache"),
        'paxx.lock is corrupt: images.redis needs image = "repo:tag" and digest = "sha256:…"',
        LOCK_HINT,
        {**CACHE, "paxx.lock": lock('image = "redis:7.4.2-alpine"\ndigest = "sha256:3996c6"\n')},
    ),
    Case(
        "lock-entry-without-image",
        ("feature", "add", "cache"),
        'paxx.lock is corrupt: images.redis needs image = "repo:tag" and digest = "sha256:…"',
        LOCK_HINT,
        {**CACHE, "paxx.lock": lock(f'digest = "{DIGEST}"\n')},
    ),
    Case(
        "lock-entry-extra-key",
        ("feature", "add", "cache"),
        "paxx.lock is corrupt: images.redis has an unknown key 'platform'",
        LOCK_HINT,
        {
            **CACHE,
            "paxx.lock": lock(
                f'image = "redis:7.4.2-alpine"\ndigest = "{DIGEST}"\nplatform = "linux/amd64"\n'
            ),
        },
    ),
    Case(
        "lock-images-not-a-table",
        ("feature", "add", "cache"),
        "paxx.lock is corrupt: [images] must be a table",
        LOCK_HINT,
        {**CACHE, "paxx.lock": "version = 1\nimages = []\n"},
    ),
    # ------------------------------------------------------------ generations
    Case(
        "rollback-no-such-generation",
        ("rollback", "99"),
        "there is no generation 99",
        "`paxx generations` lists them (recorded: 1)",
        {"pyproject.toml": BASE},
        prepare=("feature", "add", "cache"),
    ),
    Case(
        "diff-no-such-generation",
        ("diff", "99"),
        "there is no generation 99",
        "`paxx generations` lists them (recorded: 1)",
        {"pyproject.toml": BASE},
        prepare=("feature", "add", "cache"),
    ),
    Case(
        "rollback-with-one-generation",
        ("rollback",),
        "there is no earlier generation to roll back to",
        "`paxx generations` lists them",
        {"pyproject.toml": BASE},
        prepare=("feature", "add", "cache"),
    ),
    Case(
        "diff-with-one-generation",
        ("diff",),
        "generation 1 is the first one, so there is nothing before it to compare",
        "`paxx generations` lists them",
        {"pyproject.toml": BASE},
        prepare=("feature", "add", "cache"),
    ),
    Case(
        "diff-without-generations",
        ("diff",),
        "there are no generations yet",
        "they are recorded by `paxx feature add`, `up`, `lock`...",
        CACHE,
    ),
    Case(
        "rollback-to-a-damaged-generation",
        ("rollback", "1"),
        "generation 1 is damaged: its declaration.toml is missing or not TOML",
        "roll back to another generation (`paxx generations` lists them)",
        generation("features = [\n"),
    ),
    # ------------------------------------------------------------ providers
    Case(
        "unknown-provider-suggests-closest",
        ("feature", "add", "cache", "--provider", "valky"),
        "unknown provider 'valky' for cache",
        "did you mean 'valkey'? cache runs on redis or valkey",
        {"pyproject.toml": BASE},
    ),
    Case(
        "unknown-provider-without-close-match",
        ("feature", "add", "storage", "--provider", "s3"),
        "unknown provider 's3' for storage",
        "storage runs on minio or rustfs",
        {"pyproject.toml": BASE},
    ),
    Case(
        "provider-for-a-feature-without-a-choice",
        ("feature", "add", "db", "--provider", "mysql"),
        "db has no choice of provider: it runs on postgres",
        "add it without --provider: `paxx feature add db`",
        {"pyproject.toml": BASE},
    ),
    Case(
        "provider-one-of-the-features-lacks",
        ("feature", "add", "cache", "email", "--provider", "valkey"),
        "email has no choice of provider: it runs on mailpit",
        "add it without --provider: `paxx feature add email`",
        CACHE,
    ),
    Case(
        "provider-conflicts-with-another-feature",
        ("feature", "add", "cache", "--provider", "valkey"),
        "cache on valkey and tasks on redis would both set REDIS_URL",
        "the features that share REDIS_URL run on one provider: "
        "`paxx feature add cache tasks --provider valkey`",
        with_paxx(
            'features = ["cache", "tasks"]\n\n[tool.paxx.providers]\ncache = "redis"\n'
            'tasks = "redis"\n'
        ),
    ),
    Case(
        "provider-conflicts-with-an-unrecorded-feature",
        ("feature", "add", "websocket", "tasks", "--provider", "valkey"),
        "cache on redis and tasks, websocket on valkey would both set REDIS_URL",
        "the features that share REDIS_URL run on one provider: "
        "`paxx feature add cache tasks websocket --provider valkey`",
        CACHE,
    ),
    Case(
        "declared-provider-unknown",
        ("up",),
        "pyproject.toml line 13: tool.paxx.providers.cache: unknown provider 'valky'",
        "did you mean 'valkey'? cache runs on redis or valkey",
        with_paxx('features = ["cache"]\n\n[tool.paxx.providers]\ncache = "valky"\n'),
    ),
    Case(
        "declared-provider-of-an-unknown-feature",
        ("feature", "list"),
        "pyproject.toml line 13: tool.paxx.providers.cahce: unknown feature",
        "did you mean 'cache'?",
        with_paxx('features = ["cache"]\n\n[tool.paxx.providers]\ncahce = "valkey"\n'),
    ),
    Case(
        "declared-provider-for-a-feature-without-a-choice",
        ("env",),
        "pyproject.toml line 13: tool.paxx.providers.db: db has no choice of provider "
        "(it runs on postgres)",
        "delete that line",
        with_paxx('features = ["db"]\n\n[tool.paxx.providers]\ndb = "mysql"\n'),
    ),
    Case(
        "declared-provider-for-a-feature-not-enabled",
        ("feature", "add", "email"),
        "pyproject.toml line 13: tool.paxx.providers.storage: storage is not enabled",
        "add it to tool.paxx.features, or delete that line",
        with_paxx('features = ["cache"]\n\n[tool.paxx.providers]\nstorage = "rustfs"\n'),
    ),
    Case(
        "declared-providers-conflict",
        ("up",),
        "pyproject.toml: tool.paxx.providers: cache on valkey and tasks on redis would both "
        "set REDIS_URL",
        "the features that share REDIS_URL run on one provider: give cache and tasks the same one",
        with_paxx(
            'features = ["cache", "tasks"]\n\n[tool.paxx.providers]\ncache = "valkey"\n'
            'tasks = "redis"\n'
        ),
    ),
    Case(
        "declared-providers-wrong-type",
        ("feature", "add", "cache"),
        "pyproject.toml line 11: tool.paxx.providers: Input should be a valid dictionary",
        DECLARATION_HINT,
        with_paxx('features = ["cache"]\nproviders = "valkey"\n'),
    ),
    Case(
        "paxx-toml-provider-unknown",
        ("feature", "list"),
        "paxx.toml line 4: providers.cache: unknown provider 'valky'",
        "did you mean 'valkey'? cache runs on redis or valkey",
        {"paxx.toml": 'features = ["cache"]\n\n[providers]\ncache = "valky"\n'},
    ),
    # ------------------------------------------------------------ catalog (PAXX_CATALOG)
    Case(
        "catalog-port-not-on-loopback",
        ("feature", "add", "kv"),
        "services/kv.yaml: port '0.0.0.0:${PAXX_KV_PORT}:6379' must look like "
        "127.0.0.1:${PAXX_..._PORT}:TARGET",
        "ports are published on the loopback interface only",
        catalog(KV_SERVICE.replace("127.0.0.1:", "0.0.0.0:")),
        env=CATALOG_ENV,
    ),
    Case(
        "catalog-image-latest",
        ("feature", "list"),
        "services/kv.yaml: image: 'redis:latest' uses :latest; pin a version instead",
        CATALOG_HINT,
        catalog(KV_SERVICE.replace("7.4.2-alpine", "latest")),
        env=CATALOG_ENV,
    ),
    Case(
        "catalog-service-not-yaml",
        ("feature", "add", "kv"),
        "services/kv.yaml line 2: not valid YAML ("
        + (  # libyaml's wording when PyYAML has it built in, else PyYAML's own
            "did not find expected node content)"
            if hasattr(yaml, "CSafeLoader")
            else "expected the node content, but found '<stream end>')"
        ),
        CATALOG_HINT,
        catalog("image: [\n"),
        env=CATALOG_ENV,
    ),
    Case(
        "catalog-environment-not-a-mapping",
        ("feature", "add", "kv"),
        "services/kv.yaml: environment must be a mapping or a list of NAME=value strings",
        CATALOG_HINT,
        catalog(KV_SERVICE.replace("ports:\n", "environment: 5\nports:\n", 1)),
        env=CATALOG_ENV,
    ),
    Case(
        "catalog-ports-not-a-list",
        ("feature", "add", "kv"),
        "services/kv.yaml: ports must be a list of strings",
        CATALOG_HINT,
        catalog(
            KV_SERVICE.replace(
                'ports:\n  - "127.0.0.1:${PAXX_KV_PORT}:6379"\n',
                'ports: "127.0.0.1:${PAXX_KV_PORT}:6379"\n',
            )
        ),
        env=CATALOG_ENV,
    ),
    Case(
        "catalog-export-undefined-variable",
        ("feature", "add", "kv"),
        "services/kv.yaml: x-paxx.exports.KV_URL refers to NOPE, which kv does not define",
        CATALOG_HINT,
        catalog(KV_SERVICE + '  exports:\n    KV_URL: "redis://{{ NOPE }}"\n'),
        env=CATALOG_ENV,
    ),
    Case(
        "catalog-secret-file-of-no-secret",
        ("feature", "add", "kv"),
        "services/kv.yaml: x-paxx.secret_files.KV_PASSWORD: KV_PASSWORD must be a secret, read "
        "from the file another variable names",
        CATALOG_HINT,
        catalog(KV_SERVICE + "  secret_files: {KV_PASSWORD: KV_PASSWORD_FILE}\n"),
        env=CATALOG_ENV,
    ),
    Case(
        "catalog-secret-file-not-in-environment",
        ("feature", "add", "kv"),
        "services/kv.yaml: x-paxx.secret_files.KV_PASSWORD: needs "
        "`KV_PASSWORD: ${KV_PASSWORD}` in environment",
        CATALOG_HINT,
        catalog(
            KV_SERVICE
            + "  secrets: [KV_PASSWORD]\n  secret_files: {KV_PASSWORD: KV_PASSWORD_FILE}\n"
        ),
        env=CATALOG_ENV,
    ),
    Case(
        # On Swarm the secret would stay in the clear in the command: the catalog refuses it.
        "catalog-secret-file-also-in-command",
        ("feature", "add", "kv"),
        "services/kv.yaml: x-paxx.secret_files.KV_PASSWORD: ${KV_PASSWORD} may appear only in "
        "environment.KV_PASSWORD",
        CATALOG_HINT,
        catalog(
            KV_SERVICE.replace(
                "ports:\n",
                'command: ["redis-server", "--requirepass", "${KV_PASSWORD}"]\n'
                "environment:\n  KV_PASSWORD: ${KV_PASSWORD}\nports:\n",
                1,
            )
            + "  secrets: [KV_PASSWORD]\n  secret_files: {KV_PASSWORD: KV_PASSWORD_FILE}\n"
        ),
        env=CATALOG_ENV,
    ),
    Case(
        "catalog-profile-in-the-shape-before-providers",
        ("feature", "list"),
        "profiles/kv/profile.toml: services: name them in a provider "
        "([providers.NAME] services = [...])",
        CATALOG_HINT,
        catalog(KV_SERVICE, 'summary = "a key-value store"\nservices = ["kv"]\n'),
        env=CATALOG_ENV,
    ),
    Case(
        "catalog-provider-names-an-unknown-service",
        ("feature", "add", "kv"),
        "profiles/kv/profile.toml: providers.kv.services: unknown service 'kvv'",
        CATALOG_HINT,
        catalog(KV_SERVICE, KV_PROFILE.replace('["kv"]', '["kvv"]')),
        env=CATALOG_ENV,
    ),
    Case(
        "catalog-folder-without-profiles",
        ("feature", "list"),
        "the catalog at {root}/catalog has no profiles/ folder",
        "point PAXX_CATALOG at a catalog folder (services/ and profiles/), or unset it",
        catalog(KV_SERVICE, profile=None),
        env=CATALOG_ENV,
    ),
]


def make_tree(root: Path, case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    root.mkdir()
    for name, content in case.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value.replace("{root}", str(root)))


@pytest.mark.parametrize(
    "case", [c if not isinstance(c, Case) else pytest.param(c, id=c.id) for c in CASES]
)
def test_bad_input(
    case: Case, tmp_path: Path, paxx: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "app"
    make_tree(root, case, monkeypatch)
    if case.prepare:
        assert paxx(root, *case.prepare).code == 0
    before = tree_checksum(root)
    result = paxx(root, *case.args)
    assert result.code == case.code, result.output
    assert result.err.splitlines() == [
        f"paxx: error: {case.message.replace('{root}', str(root))}",
        f"  fix: {case.hint.replace('{root}', str(root))}",
    ]
    assert result.out == ""
    assert tree_checksum(root) == before


#: Usage errors the option parser (typer) finds before paxx runs: typer prints a usage line,
#: a "Try 'paxx ... -h' for help." line and its own `Error: ...` line, not paxx's two lines.
#: Here `message` is the key phrase of typer's error and `hint` its "Try ..." line; the test
#: checks that both appear, that the exit code is 2 and that nothing changed.
USAGE_CASES = [
    Case(
        "up-timeout-not-a-number",
        ("up", "--timeout", "soon"),
        "Invalid value for '--timeout' / '-t': Input should be a valid integer",
        "Try 'paxx up -h' for help.",
        CACHE,
    ),
    Case(
        "logs-tail-negative",
        ("logs", "--tail", "-1"),
        "Invalid value for '--tail' / '-n': Input should be greater than or equal to 0",
        "Try 'paxx logs -h' for help.",
        CACHE,
        prepare=("feature", "add", "cache"),
    ),
    Case(
        "gc-keep-zero",
        ("gc", "--keep", "0"),
        "Invalid value for '--keep': Input should be greater than or equal to 1",
        "Try 'paxx gc -h' for help.",
        CACHE,
        prepare=("feature", "add", "cache"),
    ),
    Case(
        "diff-generation-not-a-number",
        ("diff", "last"),
        "Invalid value for 'older'",
        "Try 'paxx diff -h' for help.",
        CACHE,
    ),
    Case(
        "up-unknown-option",
        ("up", "--detach"),
        "No such option: --detach",
        "Try 'paxx up -h' for help.",
        CACHE,
    ),
    Case(
        "feature-add-misspelled-option",
        ("feature", "add", "--frce", "cache"),
        "No such option: --frce (Possible options: --force)",
        "Try 'paxx feature add -h' for help.",
        {"pyproject.toml": BASE},
    ),
    Case(
        "feature-add-without-names",
        ("feature", "add"),
        "Missing argument 'names'.",
        "Try 'paxx feature add -h' for help.",
        {"pyproject.toml": BASE},
    ),
    Case(
        "unknown-command",
        ("upp",),
        "No such command 'upp'. Did you mean 'up'?",
        "Try 'paxx -h' for help.",
        {"pyproject.toml": BASE},
    ),
]


@pytest.mark.parametrize("case", USAGE_CASES, ids=[c.id for c in USAGE_CASES])
def test_usage_errors_from_the_parser_exit_2(
    case: Case, tmp_path: Path, paxx: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "app"
    make_tree(root, case, monkeypatch)
    if case.prepare:
        assert paxx(root, *case.prepare).code == 0
    before = tree_checksum(root)
    result = paxx(root, *case.args)
    assert result.code == case.code, result.output
    assert case.message in result.err
    assert case.hint in result.err
    assert "Traceback" not in result.err
    assert result.out == ""
    assert tree_checksum(root) == before
