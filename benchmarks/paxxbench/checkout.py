"""The paxx checkout under measurement: where it is, its catalog, and the state of its source."""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "docs" / "benchmarks.md"

#: (commit, digest of the source and catalog, whether there are local changes)
SourceState = tuple[str, str, bool]


def all_features() -> list[str]:
    """Every feature of the catalog in the checkout (profiles/NAME/profile.toml)."""
    return sorted(p.parent.name for p in (ROOT / "profiles").glob("*/profile.toml"))


def source_state() -> SourceState:
    """The checkout's commit, a digest of paxx's source and catalog, and local changes.

    ("", "", False) outside a git checkout. The digest covers the files' content (tracked
    and new), so comparing it before and after the run shows whether the code under
    measurement changed meanwhile; a commit of the same code does not change it.
    """
    if not (ROOT / ".git").exists():
        return "", "", False

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        ).stdout

    paths = ["--", "paxx_env", "services", "profiles", "pyproject.toml"]
    digest = hashlib.sha256()
    for name in sorted(
        git("ls-files", "--cached", "--others", "--exclude-standard", *paths).split()
    ):
        with contextlib.suppress(OSError):
            digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes() + b"\0")
    changed = bool(git("status", "--porcelain", *paths).strip())
    return git("rev-parse", "--short", "HEAD").strip(), digest.hexdigest()[:12], changed


def describe_source(before: SourceState, after: SourceState) -> str:
    """The source line of the Machine table."""
    commit, digest, changed = before
    if not commit:
        return "not a git checkout"
    text = f"commit {commit}" + (" with local changes" if changed else "")
    text += f" (source digest {digest})"
    if after[1] != digest:
        text += "; **the source changed during the run**, so measures mix two versions"
    return text
