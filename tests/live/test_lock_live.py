"""paxx.lock, the registry mirror and drift, on the real engine and a real registry.

The registry is the one Docker pulls through on this machine: a registry at 127.0.0.1:5000
(in CI, the offline hub's mirror). Tests that push there skip, saying so, when it is absent.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import Runner
from live.conftest import env_of

Make = Callable[..., Path]
REGISTRY = "127.0.0.1:5000"


def registry_up() -> bool:
    try:
        with urllib.request.urlopen(f"http://{REGISTRY}/v2/", timeout=3) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


needs_registry = pytest.mark.skipif(
    not registry_up(), reason=f"needs a writable registry at {REGISTRY} to push test images"
)


def docker(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(["docker", *args], input=stdin, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def push_variant(reference: str, marker: str) -> str:
    """Build a redis image that differs by a label, push it as `reference`; return its digest."""
    docker(
        "build",
        "-q",
        "-t",
        reference,
        "-",
        stdin=f"FROM redis:7.4.2-alpine\nLABEL paxx.test={marker}\n",
    )
    out = docker("push", reference)
    return out.split("digest: ")[1].split()[0]


@pytest.fixture
def pushed_reference() -> Iterator[str]:
    """A reference in a repository of its own on the registry; its local copies go at the end.

    Tests request it before `live`, so it is torn down after `live` has removed the project's
    containers: the images are then unused and can go.
    """
    reference = f"{REGISTRY}/paxx-test/redis-{uuid.uuid4().hex[:8]}:lock"
    yield reference
    forget_images(reference)


def forget_images(reference: str) -> None:
    """Remove every local reference (tag or digest) of the test images' repository.

    By reference, not by image id: the variants are built the same way in every run, so
    another run's repository may name the same image, and it keeps its tag.
    """
    repository = reference.rsplit(":", 1)[0]
    listed = docker("images", "--digests", "--format", "{{.Tag}} {{.Digest}}", repository)
    errors = []
    for line in listed.splitlines():
        tag, digest = line.split()
        for name in (f"{repository}:{tag}", f"{repository}@{digest}"):
            if "<none>" not in name:
                # Removing a tag may take its digest with it: "No such image" is fine.
                done = subprocess.run(["docker", "rmi", name], capture_output=True, text=True)
                errors.append(done.stderr.strip())
    left = docker("images", "--digests", "--format", "{{.Tag}} {{.Digest}}", repository)
    assert left == "", f"{repository} is left: {left}; " + "; ".join(filter(None, errors))


def override_image(root: Path, service: str, image: str) -> None:
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + f'\n[tool.paxx.services.{service}]\nimage = "{image}"\n'
    )


def running_image(root: Path, service: str) -> tuple[str, str]:
    """The reference the service's container was created from, and its image id."""
    project = env_of(root)["COMPOSE_PROJECT_NAME"]
    container = docker(
        "ps",
        "--quiet",
        "--filter",
        f"label=com.docker.compose.project={project}",
        "--filter",
        f"label=com.docker.compose.service={service}",
    )
    reference, image_id = docker(
        "inspect", "--format", "{{.Config.Image}} {{.Image}}", container
    ).split()
    return reference, image_id


def image_id(reference: str) -> str:
    return docker("image", "inspect", "--format", "{{.Id}}", reference)


@needs_registry
def test_redis_real_lock_pins_the_digest_until_update_moves_it(
    pushed_reference: str, live: Make, paxx: Runner
) -> None:
    reference = pushed_reference
    first = push_variant(reference, "one")
    root = live("locked", "cache", provider="redis")
    override_image(root, "redis", reference)

    locked = paxx(root, "lock")
    assert locked.code == 0, locked.output
    assert f"  redis: {reference}@{first}" in locked.out
    assert f'digest = "{first}"' in (root / "paxx.lock").read_text()
    assert f"image: {reference}@{first}" in (root / ".paxx/services/redis.yaml").read_text()

    second = push_variant(reference, "two")  # the tag now names other content
    assert second != first
    assert paxx(root, "up").code == 0
    assert running_image(root, "redis") == (
        f"{reference}@{first}",
        image_id(f"{reference}@{first}"),
    )

    again = paxx(root, "lock")
    assert "  redis: unchanged" in again.out, "lock keeps what still matches"
    updated = paxx(root, "update", "redis")
    assert updated.code == 0, updated.output
    assert f"  redis: {first} -> {second}" in updated.out
    assert paxx(root, "up").code == 0
    assert running_image(root, "redis") == (f"{reference}@{second}", image_id(reference))
    assert image_id(f"{reference}@{first}") != image_id(reference)
    history = paxx(root, "generations").out
    assert "update redis" in history and "lock updated" in history


def test_lock_fails_clearly_when_the_registry_cannot_be_reached(live: Make, paxx: Runner) -> None:
    root = live("unreachable", "cache", provider="redis")
    override_image(root, "redis", "127.0.0.1:5999/nobody/redis:1")
    before = (root / ".paxx/services/redis.yaml").read_bytes()
    result = paxx(root, "lock")
    assert result.code == 1
    error = [line for line in result.err.splitlines() if line.startswith("paxx: error:")]
    assert error and error[0].startswith(
        "paxx: error: cannot resolve 127.0.0.1:5999/nobody/redis:1: the registry did not answer"
    )
    assert not (root / "paxx.lock").exists()
    assert (root / ".paxx/services/redis.yaml").read_bytes() == before


def test_up_refuses_a_lock_that_does_not_match_the_declaration(live: Make, paxx: Runner) -> None:
    root = live("mismatch", "cache")
    assert paxx(root, "lock").code == 0
    assert paxx(root, "feature", "add", "email").code == 0
    result = paxx(root, "up")
    assert result.code == 2
    assert result.err.splitlines() == [
        "paxx: error: paxx.lock does not match the declaration: mailpit is not locked",
        "  fix: run `paxx lock` to resolve what changed (locked digests that still match are kept)",
    ]
    assert paxx(root, "lock").code == 0
    assert paxx(root, "up").code == 0


@needs_registry
def test_redis_real_runs_through_a_registry_mirror(
    live: Make, paxx: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = live("mirrored", "cache", provider="redis")
    committed = (root / ".paxx/services/redis.yaml").read_bytes()
    monkeypatch.setenv("PAXX_REGISTRY_MIRROR", REGISTRY)
    result = paxx(root, "up")
    assert result.code == 0, result.output
    assert running_image(root, "redis")[0] == f"{REGISTRY}/library/redis:7.4.2-alpine"
    assert (root / ".paxx/services/redis.yaml").read_bytes() == committed


def test_status_reports_drift_while_running(live: Make, paxx: Runner) -> None:
    root = live("drift", "cache", provider="redis")
    assert paxx(root, "up").code == 0
    clean = json.loads(paxx(root, "status", "--json").out)
    assert clean["drift"] == {
        "declaration_changed": False,
        "stale_containers": [],
        "edited_files": [],
        "kept_files": [],
        "lock": [],
    }
    assert clean["services"][0]["env_hash"] == clean["env_hash"]

    overlay = root / ".paxx/services/redis.yaml"
    overlay.write_text(overlay.read_text() + "# tuned by hand\n")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('features = ["cache"]', 'features = ["cache", "email"]')
    )
    drifted = json.loads(paxx(root, "status", "--json").out)["drift"]
    assert drifted["declaration_changed"] is True
    assert drifted["edited_files"] == [".paxx/services/redis.yaml"]
    text = paxx(root, "status").out
    assert "drift: edited by hand: .paxx/services/redis.yaml" in text

    overlay.write_text(overlay.read_text().replace("# tuned by hand\n", ""))
    assert paxx(root, "up").code == 0
    after = json.loads(paxx(root, "status", "--json").out)
    assert after["drift"]["declaration_changed"] is False
    assert after["drift"]["stale_containers"] == []
    assert {s["env_hash"] for s in after["services"]} == {after["env_hash"]}


def test_redis_real_a_clone_runs_the_locked_digest(
    live: Make, paxx: Runner, tmp_path: Path
) -> None:
    """Commit pyproject.toml + paxx.lock + generated files; a fresh clone runs the same bytes."""
    root = live("original", "cache", provider="redis")
    assert paxx(root, "lock").code == 0
    digest = (root / "paxx.lock").read_text().split('digest = "')[1].split('"')[0]
    clone = root.parent / "clone"
    clone.mkdir()
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and relative != ".env" and not relative.startswith(".paxx/local/"):
            (clone / relative).parent.mkdir(parents=True, exist_ok=True)
            (clone / relative).write_bytes(path.read_bytes())
    # Same [project].name: paxx gives the clone its own Compose project name on this machine.
    try:
        result = paxx(clone, "up")
        assert result.code == 0, result.output
        reference, running = running_image(clone, "redis")
        assert reference == f"redis:7.4.2-alpine@{digest}"
        assert running == image_id(f"redis@{digest}")
    finally:
        paxx(clone, "down", "--volumes", "--yes")
