"""Waiting until a deployed stack runs every service's new spec, healthy, reported as events.

Swarm starts tasks in the background after `docker stack deploy` returns. A task whose
container has a health check is `running` only once the check has passed, so a service is
up when it has a running task made from the spec just deployed: its container carries that
spec's digest (stackfile.with_spec_labels). Comparing digests, not replica counts, tells an
old task that has not been replaced yet from a new one.
"""

from __future__ import annotations

import time

from paxx_env.engine.tasks import service_logs, task_states
from paxx_env.errors import Interrupted, ServiceFailed
from paxx_env.readiness import Emit, Event

POLL_SECONDS = 1.0
#: Swarm retries a failing task for ever; after this many failures of the new spec, paxx
#: reports the error instead of waiting out the timeout.
MAX_FAILURES = 3
LOG_LINES = 30
_FAILED = frozenset({"failed", "rejected", "orphaned"})


def wait_converged(stack: str, expected: dict[str, str], timeout: float, emit: Emit) -> None:
    """Return once every service runs a task of its `expected` spec digest; else raise."""
    started = time.monotonic()
    pending = dict(expected)
    errors: dict[str, str] = {}
    for service in pending:
        emit(Event(service, "starting"))
    try:
        while pending:
            tasks = task_states(stack)
            for service, spec in sorted(pending.items()):
                mine = [t for t in tasks if t.service == service and t.spec == spec]
                elapsed = time.monotonic() - started
                if any(t.state == "running" and t.desired == "running" for t in mine):
                    emit(Event(service, "healthy", elapsed))
                    del pending[service]
                    continue
                failed = [t for t in mine if t.state in _FAILED]
                if failed:
                    errors[service] = failed[0].error or failed[0].state
                if len(failed) >= MAX_FAILURES:
                    raise _failed(stack, service, elapsed, errors[service], emit)
            if pending and time.monotonic() - started > timeout:
                service = sorted(pending)[0]
                reason = errors.get(service, f"not running after {timeout:.0f} s")
                raise _failed(stack, service, timeout, reason, emit)
            if pending:
                time.sleep(POLL_SECONDS)
    except (KeyboardInterrupt, Interrupted):
        raise Interrupted(
            "interrupted while waiting; the Swarm goes on starting the services",
            "run `paxx status` to see them, or `paxx up --target swarm` to wait again",
        ) from None


def _failed(stack: str, service: str, elapsed: float, reason: str, emit: Emit) -> ServiceFailed:
    emit(Event(service, "failed", elapsed, reason))
    logs = service_logs(stack, service, LOG_LINES)
    return ServiceFailed(
        f"{service} did not become healthy on the Swarm: {reason}",
        "its last log lines are below; the other services keep running (`paxx status`)",
        details=f"--- docker service logs {stack}_{service} (last {LOG_LINES} lines) ---\n"
        + (logs or "(no output)"),
    )
