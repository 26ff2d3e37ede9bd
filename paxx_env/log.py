"""Debug logging with structlog, switched on by `paxx -v`.

structlog costs about 150 ms to import, so it is imported only when -v asks for it; without
-v, `debug` is a no-op. Values of keys that look secret are masked before they are printed.
"""

from __future__ import annotations

import re
import sys
from collections.abc import MutableMapping
from typing import Any

_logger: Any = None
_SECRETISH = re.compile(r"PASSWORD|SECRET|TOKEN|KEY|AUTH", re.IGNORECASE)


def enable() -> None:
    """Print debug events to stderr from now on."""
    global _logger
    import structlog

    structlog.configure(
        processors=[
            _mask_secrets,
            structlog.processors.TimeStamper(fmt="%H:%M:%S.%f", utc=False),
            structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()),
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    _logger = structlog.get_logger("paxx")


def debug(event: str, **fields: Any) -> None:
    """Log a debug event when -v is on."""
    if _logger is not None:
        _logger.debug(event, **fields)


def _mask_secrets(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if key != "event" and _SECRETISH.search(key) and isinstance(value, str):
            event[key] = "***"
    return event
