"""Which engine paxx talks to: a Docker context, DOCKER_HOST, or the docker CLI's current one.

paxx resolves it as the docker CLI does (`--context` > DOCKER_HOST > DOCKER_CONTEXT > the
context `docker context use` chose), and passes it on to every docker and Compose command
through the environment, so python-on-whales and the CLI agree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from paxx_env.engine.docker import run_docker_completed
from paxx_env.errors import UsageError


@dataclass(frozen=True)
class SshEndpoint:
    """The parts of an ssh://[user@]host[:port] engine endpoint."""

    host: str
    user: str = ""
    port: int | None = None

    @property
    def destination(self) -> str:
        """What `ssh` takes as its destination: user@host, or host."""
        return f"{self.user}@{self.host}" if self.user else self.host


@dataclass(frozen=True)
class EngineTarget:
    """An engine: the context that names it ("default" for none) and its endpoint."""

    context: str
    endpoint: str
    #: Chosen for this command (--context, DOCKER_CONTEXT or DOCKER_HOST), not by default.
    explicit: bool = False

    @property
    def ssh(self) -> SshEndpoint | None:
        """The ssh endpoint, when the engine is reached over SSH."""
        parts = urlsplit(self.endpoint)
        if parts.scheme != "ssh" or not parts.hostname:
            return None
        return SshEndpoint(parts.hostname, parts.username or "", parts.port)

    def describe(self) -> str:
        """How messages name it: `context remote (ssh://me@box)` or the endpoint alone."""
        if self.context and self.context != "default":
            return f"context {self.context} ({self.endpoint})"
        return self.endpoint


def choose_context(name: str) -> None:
    """Talk to the engine of context `name` from now on (the global --context option).

    As with `docker --context`, the option wins over DOCKER_HOST. An unknown context is a
    UsageError.
    """
    _switch(name)
    current_target()


def _switch(name: str) -> None:
    os.environ.pop("DOCKER_HOST", None)
    os.environ["DOCKER_CONTEXT"] = name


def current_target() -> EngineTarget:
    """The engine the docker CLI would talk to now (one quick call, no engine contact)."""
    completed = run_docker_completed(
        ["context", "inspect", "--format", "{{.Name}}\t{{.Endpoints.docker.Host}}"], timeout=10
    )
    explicit = bool(os.environ.get("DOCKER_CONTEXT") or os.environ.get("DOCKER_HOST"))
    if completed.returncode != 0:
        name = os.environ.get("DOCKER_CONTEXT", "")
        raise UsageError(
            f"the Docker context {name!r} does not exist" if name else "no Docker context",
            "`docker context ls` lists them; pass one with --context NAME",
        )
    context, _, endpoint = completed.stdout.strip().partition("\t")
    return EngineTarget(context, endpoint, explicit)


def use_target(target: EngineTarget) -> None:
    """Talk to `target` from now on: its context when it has one, else its endpoint."""
    if target.context and target.context != "default":
        _switch(target.context)
    else:
        os.environ.pop("DOCKER_CONTEXT", None)
        os.environ["DOCKER_HOST"] = target.endpoint
