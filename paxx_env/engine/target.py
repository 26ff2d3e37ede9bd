"""Which engine paxx talks to: a Docker context, DOCKER_HOST, or the docker CLI's current one.

paxx resolves it as the docker CLI does (`--context` > DOCKER_HOST > DOCKER_CONTEXT > the
context `docker context use` chose), and passes it on to every docker and Compose command
through the environment.
"""

from __future__ import annotations

import json
import os
import sys
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

    @property
    def ports_reach_here(self) -> bool:
        """Whether ports it publishes on its 127.0.0.1 are on this machine's.

        So for a local socket (Docker Desktop and the like forward them too) and a TCP
        endpoint on the loopback; over SSH, paxx forwards them (forward.py).
        """
        parts = urlsplit(self.endpoint)
        if parts.scheme in ("unix", "npipe", "ssh"):
            return True
        return parts.hostname in ("127.0.0.1", "localhost", "::1")

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


#: The last answer of current_target, with the variables it was given for.
_known: tuple[tuple[str, ...], EngineTarget] | None = None
#: What the docker CLI's choice depends on besides its configuration files.
_CHOICE = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "HOME")


def current_target() -> EngineTarget:
    """The engine the docker CLI would talk to now (one quick call, no engine contact).

    Asked once per choice of variables (DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG, HOME):
    `up` needs it before it starts anything and again for the status it prints.
    """
    global _known
    choice = tuple(os.environ.get(name, "") for name in _CHOICE)
    if _known is not None and _known[0] == choice:
        return _known[1]
    target = _without_asking() or _ask_target()
    _known = (choice, target)
    return target


#: The default context's endpoint on Linux and macOS, as `docker context inspect` says it.
DEFAULT_SOCKET = "unix:///var/run/docker.sock"


def _without_asking() -> EngineTarget | None:
    """The answer in the two common cases the docker CLI settles without a context store.

    DOCKER_HOST naming a socket (the CLI keeps `unix://` endpoints as they are; others it
    may rewrite, e.g. adding a default port), or no variable and no current context in the
    CLI's config.json. Anything else: None, and the CLI is asked.
    """
    host = os.environ.get("DOCKER_HOST", "")
    if host:
        return EngineTarget("default", host, True) if host.startswith("unix://") else None
    if os.environ.get("DOCKER_CONTEXT") or sys.platform == "win32":
        return None
    folder = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    try:
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as handle:
            current = json.load(handle).get("currentContext", "")
    except FileNotFoundError:
        current = ""
    except (OSError, ValueError, AttributeError):
        return None
    return EngineTarget("default", DEFAULT_SOCKET) if current in ("", "default") else None


def _ask_target() -> EngineTarget:
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
