"""Names and references paxx accepts: services, features, variables, images, projects."""

from __future__ import annotations

import re

#: A service or feature name: lowercase, digits and dashes.
NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}\Z")
#: The label on every container paxx generates; `status` and `down` act on these only.
PAXX_LABEL = "dev.paxx.service"
#: An environment variable name as paxx writes it.
ENV_KEY = re.compile(r"^[A-Z_][A-Z0-9_]*\Z")

_IMAGE = re.compile(
    r"^(?:(?P<host>[a-zA-Z0-9.-]+(?::\d+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?\Z"
)


def check_image_reference(reference: str) -> str:
    """Return what is wrong with an image reference, or "" when it is acceptable.

    paxx refuses untagged images and `:latest`: the environment would float.
    """
    match = _IMAGE.match(reference)
    if not match:
        return f"{reference!r} is not a valid image reference (expected REPOSITORY:TAG)"
    if not match["tag"]:
        return f"{reference!r} has no tag; pin a version such as {reference}:1.2.3"
    if match["tag"] == "latest":
        return f"{reference!r} uses :latest; pin a version instead"
    return ""


def split_image(reference: str) -> tuple[str, str, str]:
    """Split `repo:tag@digest` into its repository, tag and digest ("" when absent)."""
    rest, _, digest = reference.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        return rest[:colon], rest[colon + 1 :], digest
    return rest, "", digest


def project_slug(text: str) -> str:
    """A Compose project name made from `text`: lowercase letters, digits, dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if not slug or not slug[0].isalnum():
        slug = "app" + (f"-{slug}" if slug else "")
    return slug[:40].rstrip("-")


def check_services(requested: list[str], declared: list[str]) -> list[str]:
    """Service names given on the command line, each one declared (else a UsageError)."""
    import difflib

    from paxx_env.errors import UsageError

    for name in requested:
        if name not in declared:
            close = difflib.get_close_matches(name, declared, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UsageError(
                f"{name!r} is not a service of this project",
                hint + f"declared services: {', '.join(declared) or 'none'}",
            )
    return list(dict.fromkeys(requested))
