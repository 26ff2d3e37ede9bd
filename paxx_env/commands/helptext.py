"""`paxx --help` as the typer app draws it on a terminal 80 columns wide or wider.

`__main__` prints it without building the typer app, whose import costs more than the rest of
paxx's start-up (docs/benchmarks.md, P4). It is generated, not written: the unit test
tests/unit/test_helptext.py compares it with what the app draws and, with
PAXX_UPDATE_GOLDEN=1, writes it anew. On a narrower terminal the app draws the help itself.
"""

#: click draws help at most this wide (its max_width), so from here on the text is the same.
WIDTH = 80

TOP = """\
Usage: paxx [OPTIONS] COMMAND [ARGS]...

  paxx gives a Python web project a reproducible local service environment:
  Redis, PostgreSQL with pgvector, S3 (MinIO), mail (Mailpit), search
  (Meilisearch) and tracing (Jaeger), declared in pyproject.toml and run on
  Docker Compose (or, with `paxx up --target swarm`, as a stack on a Swarm).

    paxx feature add storage    declare a feature: Compose overlay, .env, dependencies
    paxx up                     start what is declared, wait until healthy
    paxx status                 state, health, ports and URLs of every service
    paxx down --volumes         stop, and delete this project's data

  Ports bind to 127.0.0.1 only; passwords are generated per project into .env.
  Docs: docs/commands/*.md and docs/features/*.md in the paxx repository.

Options:
  -v, --verbose            Print debug logs (commands run, timings).
  -C, --project-dir <dir>  Run as if paxx was started in this folder.
                           [default: .]
  --context <str>          The Docker context (engine) to use, as `docker
                           --context`. Default: DOCKER_HOST, DOCKER_CONTEXT,
                           or the engine the project's environment runs on.
  --version                Show the version.
  -h, --help               Show this message and exit.

Commands:
  init         Start a declaration: [tool.paxx] in pyproject.toml, or...
  up           Start the declared services and wait until every one is...
  status       Show state, health, host ports and URLs of every declared...
  logs         Print the logs of the services (Ctrl-C stops following).
  down         Stop and remove the project's containers; keep the data...
  doctor       Check the engine, Compose, health-check support, ports,...
  lock         Resolve every image tag to its registry digest and write...
  update       Re-resolve locked images deliberately and show what changed.
  generations  List the recorded generations: number, time, command and...
  diff         Show what changed between two generations (default: the...
  rollback     Restore the declaration, lock and generated files of a...
  gc           Delete old generations, keeping the most recent ones.
  env          Print the variables the app needs (secrets only with...
  run          Run a command with the app's variables set; its exit code...
  dashboard    Serve a live page of the environment on 127.0.0.1, until...
  feature      List, add and remove features (service profiles).
"""
