"""Checks before `paxx up` starts anything: host ports, and secrets against their data.

Each refuses with a clear error rather than letting a container fail, or lock the app out
of its own data.
"""

from __future__ import annotations

from datetime import datetime

from paxx_env.engine.containers import describe_port_holder
from paxx_env.errors import ConflictError, PaxxError
from paxx_env.ports import port_is_free
from paxx_env.state import State, secret_fingerprint


def check_ports(
    state: State, values: dict[str, str], services: list[str], skip: set[int] | None = None
) -> None:
    """Refuse when a host port of a service about to start is taken.

    Ports in `skip` are held by paxx's own forward from a remote engine.
    """
    for service in services:
        for key in state.services[service].ports:
            port = int(values[key])
            if port not in (skip or set()) and not port_is_free(port):
                holder = describe_port_holder(port)
                by = f" by {holder}" if holder else ""
                raise PaxxError(
                    f"port {port} ({key}, for {service}) is taken{by}",
                    f"stop that process, or delete {key} from .env and run `paxx up` again "
                    "to pick a free port",
                )


def check_secrets_match_volumes(
    state: State, values: dict[str, str], services: list[str], created: dict[str, str]
) -> None:
    """Refuse to start a service whose data volume predates the secrets in .env.

    Its data was initialized with other credentials (say .env was deleted and paxx generated
    new ones); starting it would lock the app out, and the old secret can only come back
    from a copy of the old .env. `created` holds the creation time of each existing volume.
    """
    generated = {
        key: record.split(" ")[0]
        for key, record in state.secrets.items()
        if record.endswith(f" {secret_fingerprint(values.get(key, ''))}")
    }
    for service in services:
        keys = state.services[service].secrets
        for volume in state.services[service].volumes if keys else ():
            name = f"{state.project}_{volume}"
            volume_time = _parse_time(created.get(name, ""))
            if volume_time is None:
                continue
            newer = [k for k in keys if _after(generated.get(k, ""), volume_time)]
            if newer:
                raise ConflictError(
                    f"the data volume {name} is older than {', '.join(newer)} "
                    f"in .env, so {service} would not accept the new credentials",
                    "restore the old values in .env, or delete the data with "
                    "`paxx down --volumes` to start afresh",
                )


def _after(text: str, moment: datetime) -> bool:
    parsed = _parse_time(text)
    return parsed is not None and parsed > moment


def _parse_time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
