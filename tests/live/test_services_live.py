"""Every service: feature add -> up -> healthy -> a real round trip from the host -> down."""

from __future__ import annotations

import json
import smtplib
import time
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from conftest import Runner
from live.conftest import env_of, port_variable, providers_of

Make = Callable[..., Path]


def up(paxx: Runner, root: Path) -> None:
    result = paxx(root, "up", "--timeout", "120")
    assert result.code == 0, result.output
    status = json.loads(paxx(root, "status", "--json").out)
    for service in status["services"]:
        assert service["state"] == "running", service
        assert service["health"] == "healthy", service
        for port in service["ports"]:
            assert port["host"] == "127.0.0.1" and port["published"], port


@pytest.mark.parametrize("provider", providers_of("cache"))
def test_resp_real_ping_and_round_trip(live: Make, paxx: Runner, provider: str) -> None:
    import redis

    root = live("cache", "cache", provider=provider)
    up(paxx, root)
    client = redis.Redis.from_url(env_of(root)["REDIS_URL"])
    assert client.ping() is True
    client.set("greeting", "hello", ex=60)
    assert client.get("greeting") == b"hello"
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=int(env_of(root)[port_variable(provider)]), password="wrong").ping()


def test_postgres_real_sql_and_pgvector(live: Make, paxx: Runner) -> None:
    import psycopg

    root = live("vector", "vector")
    up(paxx, root)
    with psycopg.connect(env_of(root)["DATABASE_URL"], autocommit=True) as conn:
        assert conn.execute("select 1 + 1").fetchone() == (2,)
        conn.execute("create extension if not exists vector")
        row = conn.execute("select '[1,2,3]'::vector <-> '[1,2,4]'::vector").fetchone()
        assert row is not None and row[0] == pytest.approx(1.0)


@pytest.mark.parametrize("provider", providers_of("storage"))
def test_s3_standin_put_and_get(live: Make, paxx: Runner, provider: str) -> None:
    import boto3

    root = live("storage", "storage", provider=provider)
    up(paxx, root)
    env = env_of(root)
    s3 = boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL_S3"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
    s3.create_bucket(Bucket=env["S3_BUCKET"])
    s3.put_object(Bucket=env["S3_BUCKET"], Key="hello.txt", Body=b"hello paxx")
    body = s3.get_object(Bucket=env["S3_BUCKET"], Key="hello.txt")["Body"].read()
    assert body == b"hello paxx"


def test_mailpit_standin_smtp_send_and_read_back(live: Make, paxx: Runner) -> None:
    root = live("email", "email")
    up(paxx, root)
    env = env_of(root)
    message = EmailMessage()
    message["From"] = "app@example.test"
    message["To"] = "user@example.test"
    message["Subject"] = "paxx live test"
    message.set_content("hello from paxx")
    with smtplib.SMTP(env["SMTP_HOST"], int(env["SMTP_PORT"]), timeout=10) as smtp:
        smtp.send_message(message)
    with urllib.request.urlopen(f"{env['MAILPIT_URL']}/api/v1/messages", timeout=10) as reply:
        messages = json.load(reply)["messages"]
    assert [m["Subject"] for m in messages] == ["paxx live test"]


def test_meilisearch_standin_health_and_master_key(live: Make, paxx: Runner) -> None:
    import httpx

    root = live("search", "search")
    up(paxx, root)
    env = env_of(root)
    assert httpx.get(f"{env['MEILI_URL']}/health").json() == {"status": "available"}
    assert httpx.get(f"{env['MEILI_URL']}/version").status_code == 401
    keyed = httpx.get(
        f"{env['MEILI_URL']}/version",
        headers={"Authorization": f"Bearer {env['MEILI_MASTER_KEY']}"},
    )
    assert keyed.status_code == 200


def test_jaeger_standin_otlp_span_is_queryable(live: Make, paxx: Runner) -> None:
    import httpx

    root = live("tracing", "tracing")
    up(paxx, root)
    env = env_of(root)
    now = time.time_ns()
    span = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": env["OTEL_SERVICE_NAME"]}}
                    ]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "name": "GET /items",
                                "kind": 2,
                                "startTimeUnixNano": str(now),
                                "endTimeUnixNano": str(now + 1_000_000),
                            }
                        ]
                    }
                ],
            }
        ]
    }
    sent = httpx.post(f"{env['OTEL_EXPORTER_OTLP_ENDPOINT']}/v1/traces", json=span)
    assert sent.status_code == 200
    ui = f"http://127.0.0.1:{env['PAXX_JAEGER_UI_PORT']}"
    traces = httpx.get(f"{ui}/api/traces", params={"service": env["OTEL_SERVICE_NAME"]}).json()
    names = [s["operationName"] for t in traces["data"] for s in t["spans"]]
    assert names == ["GET /items"]
