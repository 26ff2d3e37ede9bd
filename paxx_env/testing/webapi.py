"""JSON over HTTP with the standard library, for the services' APIs (Mailpit, Meilisearch, Jaeger).

urllib keeps the plugin free of a dependency of its own; every call is one short request to
a service on 127.0.0.1.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from paxx_env.errors import PaxxError

TIMEOUT = 10.0


def call(
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    what: str,
    missing_ok: bool = False,
) -> Any:
    """Send one request; the decoded JSON answer, None for an empty one, else its text.

    Mailpit answers a deletion with the text `ok`.
    `what` names the service in errors. A 404 gives None when `missing_ok`.
    """
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            raw = answer.read()
            is_json = "json" in answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        if missing_ok and error.code == 404:
            return None
        detail = error.read().decode(errors="replace")[:300]
        raise PaxxError(
            f"{what} answered {method} {_path(url)} with HTTP {error.code}: {detail}",
            "run `paxx status` to see whether it is healthy, and `paxx logs` for its output",
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise PaxxError(
            f"{what} at {url.split('/', 3)[2]} does not answer ({reason})",
            "run `paxx status` to see whether it runs, or `paxx up` to start it",
        ) from None
    if not raw.strip():
        return None
    return json.loads(raw) if is_json else raw.decode(errors="replace")


def _path(url: str) -> str:
    parts = url.split("/", 3)
    return "/" + parts[3] if len(parts) > 3 else "/"
