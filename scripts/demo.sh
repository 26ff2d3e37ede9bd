#!/usr/bin/env bash
# The four-command flow in a throwaway project: feature add -> up -> status -> down --volumes.
set -euo pipefail
demo=$(mktemp -d "${TMPDIR:-/tmp}/paxx-demo.XXXXXX")
cleanup() { (cd "$demo" && paxx down --volumes --yes >/dev/null 2>&1 || true); rm -rf "$demo"; }
trap cleanup EXIT
cd "$demo"
cat > pyproject.toml <<'TOML'
[project]
name = "paxx-demo"
version = "0.1.0"
dependencies = []
TOML
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step paxx feature add storage
step paxx up
step paxx status
step grep -E '^(PAXX_MINIO_PORT|MINIO_ROOT_USER|AWS_ENDPOINT_URL_S3)=' .env
step paxx down --volumes --yes
