"""The spans one test produced, read from the tracing backend's query API (Jaeger's).

The app exports its spans over OTLP as it always does. paxx_settings adds the resource
attribute `paxx.test=NAMESPACE` (OTEL_RESOURCE_ATTRIBUTES, which the OpenTelemetry SDK reads
when a tracer provider is made) and a 50 ms export delay (OTEL_BSP_SCHEDULE_DELAY); the
fixture asks Jaeger for the traces of OTEL_SERVICE_NAME carrying that attribute since the
test began. Spans arrive when the app's provider exports them: end the app's lifespan (the
generated telemetry module then flushes) or call `telemetry.force_flush()`, or let `wait`
poll. Jaeger cannot delete traces: they stay until it restarts (its storage is in memory).
"""

from __future__ import annotations

import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from paxx_env.testing.webapi import call

WHAT = "the tracing backend"
#: The label of the tracing service's URL that serves the query API (Jaeger's UI port).
QUERY_URL = "ui"
#: The resource attribute that marks a test's spans.
ATTRIBUTE = "paxx.test"
POLL_SECONDS = 0.05


def resource_attributes(current: str, namespace: str) -> str:
    """OTEL_RESOURCE_ATTRIBUTES with this test's attribute added."""
    mine = f"{ATTRIBUTE}={namespace}"
    return f"{current},{mine}" if current.strip() else mine


@dataclass(frozen=True)
class Span:
    """One span, as the backend stored it."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    start_us: int
    duration_us: int
    attributes: dict[str, Any] = field(default_factory=dict)


class Spans:
    """The spans of one test in the tracing backend."""

    def __init__(self, api: str, service: str, namespace: str, since_us: int) -> None:
        self.api = api.rstrip("/")
        self.service = service
        self.namespace = namespace
        self._since_us = since_us

    @property
    def attribute(self) -> tuple[str, str]:
        """The resource attribute (key, value) this test's spans carry."""
        return ATTRIBUTE, self.namespace

    def all(self) -> list[Span]:
        """Every span of this test that the backend has now, in start order."""
        query = urllib.parse.urlencode(
            {
                "service": self.service,
                "tags": json.dumps({ATTRIBUTE: self.namespace}),
                "start": self._since_us,
                "end": int(time.time() * 1e6) + 1_000_000,
                "limit": 1000,
            }
        )
        found = call("GET", f"{self.api}/api/traces?{query}", what=WHAT) or {}
        spans = [span for trace in found.get("data") or [] for span in _spans_of(trace)]
        return sorted(spans, key=lambda span: (span.start_us, span.name))

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[Span]:
        """The test's spans once there are at least `count` (AssertionError after `timeout` s)."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.all()
            if len(spans) >= count:
                return spans
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"expected {count} span(s) of {self.service} with {ATTRIBUTE}="
                    f"{self.namespace} within {timeout:g} s, the backend has {len(spans)} "
                    "(flush the app's tracer provider: end its lifespan, or force_flush())"
                )
            time.sleep(POLL_SECONDS)


def _spans_of(trace: dict[str, Any]) -> list[Span]:
    processes = trace.get("processes") or {}
    spans = []
    for raw in trace.get("spans") or []:
        references = raw.get("references") or []
        parents = [r["spanID"] for r in references if r.get("refType") == "CHILD_OF"]
        process = processes.get(raw.get("processID"), {})
        spans.append(
            Span(
                name=raw["operationName"],
                trace_id=raw["traceID"],
                span_id=raw["spanID"],
                parent_id=parents[0] if parents else None,
                service=process.get("serviceName", ""),
                start_us=int(raw.get("startTime", 0)),
                duration_us=int(raw.get("duration", 0)),
                attributes={t["key"]: t.get("value") for t in raw.get("tags") or []},
            )
        )
    return spans
