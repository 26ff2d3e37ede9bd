"""The pytest plugin: every test gets its own slice of the running environment.

`plugin` is what pytest loads (entry point `pytest11`: `paxx`); it imports nothing heavy and
does nothing until a test asks for one of its fixtures. `environment` finds the project and
brings its services up (or checks them) once per process; `run` names each test's slice;
one module per protocol makes and removes a slice: `postgres`, `keyvalue` (Redis),
`buckets` (S3), `mailbox` (Mailpit), `indexes` (Meilisearch), `spans` (Jaeger); `settings`
points the app's variables at them. docs/testing.md is the user's guide.

The types of the fixtures' values, for annotations: `from paxx_env.testing import Mailbox,
Span, Spans` (loaded when first named, so that loading the plugin stays cheap).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paxx_env.testing.mailbox import Mailbox
    from paxx_env.testing.spans import Span, Spans

__all__ = ["Mailbox", "Span", "Spans"]
_HOMES = {"Mailbox": "mailbox", "Span": "spans", "Spans": "spans"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(f"paxx_env.testing.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
