"""A Swarm and one stack on it: the node's state, secrets, deploying and removing the stack.

A stack's services, networks and volumes carry the label `com.docker.stack.namespace`
(`docker stack deploy` sets it); the secrets paxx creates carry `dev.paxx.stack`. Everything
here is found by those labels, never by a name alone. What the stack's services and tasks
are doing is in tasks.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from paxx_env.engine.docker import run_docker, run_docker_completed, shorten, unreachable
from paxx_env.errors import CommandFailed, EngineError

NAMESPACE_LABEL = "com.docker.stack.namespace"
#: On every Swarm secret paxx creates: the stack it belongs to, and the .env key it holds.
SECRET_STACK_LABEL = "dev.paxx.stack"
SECRET_KEY_LABEL = "dev.paxx.secret"
DEPLOY_TIMEOUT = 300


@dataclass(frozen=True)
class SwarmNode:
    """The engine's place in a Swarm, as `docker info` says."""

    #: inactive, pending, active, error or locked
    state: str
    #: whether the node is a manager (stacks are deployed through a manager)
    manager: bool


def swarm_node() -> SwarmNode:
    """The Swarm state of the engine paxx talks to (one call)."""
    out = run_docker(
        ["info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"]
    ).split()
    return SwarmNode(out[0] if out else "inactive", len(out) > 1 and out[1] == "true")


def run_on_manager(args: list[str]) -> str:
    """Run a command only a Swarm manager answers; "" on an engine in no Swarm (none runs)."""
    completed = run_docker_completed(args)
    if completed.returncode == 0:
        return completed.stdout
    if "not a swarm manager" in completed.stderr:
        return ""
    raise unreachable(completed.stderr) or CommandFailed(
        completed.args, completed.returncode, completed.stdout, completed.stderr
    )


# ----------------------------------------------------------------------------- secrets


def stack_secrets(stack: str) -> list[str]:
    """The names of the Swarm secrets paxx created for `stack`."""
    out = run_on_manager(
        ["secret", "ls", "--filter", f"label={SECRET_STACK_LABEL}={stack}", "--format", "{{.Name}}"]
    )
    return sorted(out.split())


def create_secret(stack: str, key: str, name: str, value: str) -> None:
    """Create a Swarm secret; the value goes to the docker CLI on stdin, never in a file."""
    run_docker(
        [
            "secret",
            "create",
            "--label",
            f"{SECRET_STACK_LABEL}={stack}",
            "--label",
            f"{SECRET_KEY_LABEL}={key}",
            name,
            "-",
        ],
        stdin=value,
    )


def remove_secrets(names: list[str]) -> None:
    """Remove Swarm secrets; one a service still uses stays (the engine refuses it)."""
    if names:
        run_docker(["secret", "rm", *names], check=False)


# ----------------------------------------------------------------------------- the stack


def deploy_stack(stack: str, document: str, env: Mapping[str, str]) -> None:
    """`docker stack deploy` of `document` (given on stdin), its variables from `env`.

    `--prune` removes services the document no longer has. The CLI returns once the
    services are created or updated; their tasks start in the background (tasks.py waits).
    """
    try:
        run_docker(
            ["stack", "deploy", "--compose-file", "-", "--prune", stack],
            stdin=document,
            env=env,
            timeout=DEPLOY_TIMEOUT,
        )
    except CommandFailed as exc:
        lines = [line for line in exc.stderr.strip().splitlines() if "--detach" not in line]
        raise EngineError(
            f"docker stack deploy {stack} failed: {shorten(lines[-1] if lines else str(exc))}",
            "run with -v for details; `paxx status` shows what runs",
            details="\n".join(lines),
        ) from None


def remove_stack(stack: str) -> None:
    """`docker stack rm`: asks the Swarm to remove the services and network (asynchronous)."""
    run_docker(["stack", "rm", stack], check=False)


def remove_services(stack: str, services: list[str]) -> None:
    """`docker service rm` of some of the stack's services (asynchronous too)."""
    if services:
        run_docker(["service", "rm", *[f"{stack}_{s}" for s in services]], check=False)


def stack_containers(stack: str, services: list[str] | None = None) -> list[str]:
    """The ids of the stack's containers on this node (running or not), or of `services`."""
    out = run_docker(
        [
            "ps",
            "--all",
            "--no-trunc",
            "--filter",
            f"label={NAMESPACE_LABEL}={stack}",
            "--format",
            '{{.ID}} {{.Label "com.docker.swarm.service.name"}}',
        ]
    )
    wanted = None if services is None else {f"{stack}_{s}" for s in services}
    rows = [line.split(" ", 1) for line in out.splitlines() if line.strip()]
    return [row[0] for row in rows if wanted is None or row[-1] in wanted]


def stack_networks(stack: str) -> list[str]:
    """The names of the stack's networks."""
    out = run_docker(
        [
            "network",
            "ls",
            "--filter",
            f"label={NAMESPACE_LABEL}={stack}",
            "--format",
            "{{.Name}}",
        ]
    )
    return sorted(out.split())


def remove_networks(names: list[str]) -> None:
    """Remove networks; one a container still uses stays (the engine refuses it)."""
    if names:
        run_docker(["network", "rm", *names], check=False)


def stack_volumes(stack: str, names: set[str]) -> list[str]:
    """The stack's volumes on this node whose short name is in `names`; others stay unseen."""
    out = run_docker(["volume", "ls", "--quiet", "--filter", f"label={NAMESPACE_LABEL}={stack}"])
    wanted = {f"{stack}_{name}" for name in names}
    return sorted(volume for volume in out.split() if volume in wanted)
