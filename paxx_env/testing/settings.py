"""paxx_settings: the app's variables, pointing at this test's slices of the environment.

Every variable that names a shared resource is replaced by the test's own, and the fixture
that makes it is requested (so it is cleaned up after the test too): DATABASE_URL by
paxx_db_url, REDIS_URL by paxx_redis_url, S3_BUCKET by paxx_s3_bucket, EMAIL_FROM by
paxx_mailbox's sender. Three more keep what a test does apart from other tests:
WEBSOCKET_CHANNEL_PREFIX (Redis pub/sub is not per database), OTEL_RESOURCE_ATTRIBUTES (the
`paxx.test` attribute paxx_spans looks for) and OTEL_BSP_SCHEDULE_DELAY (spans leave after
50 ms instead of 5 s). The fixture also sets them all in os.environ for the test's duration.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from paxx_env.testing.environment import Environment
from paxx_env.testing.spans import resource_attributes

#: Variable -> the fixture whose value replaces it, when the project has the variable.
SLICED = {
    "DATABASE_URL": "paxx_db_url",
    "REDIS_URL": "paxx_redis_url",
    "S3_BUCKET": "paxx_s3_bucket",
}
#: Milliseconds between span exports (the SDK's default is 5000).
SPAN_EXPORT_DELAY_MS = "50"


def settings_for(
    environment: Environment, namespace: str, fixture: Callable[[str], Any]
) -> dict[str, str]:
    """The app's variables for one test; `fixture` is request.getfixturevalue."""
    values = dict(environment.variables)
    for variable, name in SLICED.items():
        if variable in values:
            values[variable] = str(fixture(name))
    if "REDIS_URL" in values:
        values["WEBSOCKET_CHANNEL_PREFIX"] = f"{namespace}:ws:"
    if "MAILPIT_URL" in values:
        values["EMAIL_FROM"] = fixture("paxx_mailbox").sender
    if "OTEL_EXPORTER_OTLP_ENDPOINT" in values:
        current = os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
        values["OTEL_RESOURCE_ATTRIBUTES"] = resource_attributes(current, namespace)
        values["OTEL_BSP_SCHEDULE_DELAY"] = SPAN_EXPORT_DELAY_MS
    return values
