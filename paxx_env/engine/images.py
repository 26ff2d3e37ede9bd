"""Images: which are missing from the engine, and the registry digest a tag points to."""

from __future__ import annotations

import re
from collections.abc import Iterable

from paxx_env.engine.docker import run_docker, shorten
from paxx_env.errors import CommandFailed, EngineError

_PULLED_DIGEST = re.compile(r"^Digest: (sha256:[0-9a-f]{64})$", re.MULTILINE)


def missing_images(images: Iterable[str]) -> list[str]:
    """The images that are not in the engine's image store (one engine call)."""
    wanted = sorted(set(images))
    if not wanted:
        return []
    out = run_docker(
        ["image", "inspect", "--format", "{{json .RepoTags}}{{json .RepoDigests}}", *wanted],
        check=False,
    )
    present = set(re.findall(r'"([^"]+)"', out))
    return [image for image in wanted if not is_present(image, present)]


def repo_digests(images: Iterable[str]) -> dict[str, str]:
    """The registry digest of each image (repo:tag) the engine holds, in one engine call.

    Images that are not there, or that were built locally and never pulled, are left out.
    """
    wanted = sorted({familiar(image) for image in images})
    if not wanted:
        return {}
    out = run_docker(
        ["image", "inspect", "--format", "{{json .RepoTags}}\t{{json .RepoDigests}}", *wanted],
        check=False,
    )
    found: dict[str, str] = {}
    for line in out.splitlines():
        tags, _, digests = line.partition("\t")
        named = {familiar(t) for t in re.findall(r'"([^"]+)"', tags)}
        pinned = [familiar(d) for d in re.findall(r'"([^"]+)"', digests)]
        for image in wanted:
            if image in named and pinned:
                repository = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
                same = [d for d in pinned if d.partition("@")[0] == repository]
                found[image] = (same or pinned)[0].partition("@")[2]
    return found


def familiar(reference: str) -> str:
    """The short form Docker shows: docker.io/library/redis:7 -> redis:7."""
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/"):
        if reference.startswith(prefix):
            return reference[len(prefix) :]
    return reference


def is_present(image: str, present: set[str]) -> bool:
    """Whether a reference (repo:tag or repo:tag@digest) is among an image's tags/digests."""
    image = familiar(image)
    name, _, digest = image.partition("@")
    if digest:
        repository = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
        return f"{repository}@{digest}" in {familiar(p) for p in present}
    return image in {familiar(p) for p in present}


def resolve_digest(image: str) -> str:
    """Pull `image` the way the engine pulls (its registry or mirror); return its digest.

    `docker pull` asks the registry for the tag's current manifest even when the image is
    present, and prints the manifest digest: that is the digest a lock pins.
    """
    try:
        out = run_docker(["pull", image], timeout=900)
    except CommandFailed as exc:
        reason = exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else ""
        raise EngineError(
            f"cannot resolve {image}: the registry did not answer ({shorten(reason)})",
            "check the network or the engine's registry mirror (`docker pull IMAGE` shows the "
            "same error), then run the command again",
        ) from None
    match = _PULLED_DIGEST.search(out)
    if not match:
        raise EngineError(
            f"cannot resolve {image}: `docker pull` reported no digest",
            "pull it by hand (`docker pull IMAGE`) to see what the registry answers",
        )
    return match.group(1)
