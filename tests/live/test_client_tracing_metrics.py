"""/metrics of the telemetry module paxx generates: its bearer token, and the sum over the
workers of a real `uvicorn --workers 2` in prometheus_client's multiprocess mode."""

import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi import FastAPI

from live.conftest import App
from live.test_client_tracing import running, samples

TOKEN = "s3cret-metrics-token-0123456789"

WEB = """\
import os

from fastapi import FastAPI

from {package}.telemetry import setup_telemetry

app = FastAPI()
setup_telemetry(app)


@app.get("/pid")
async def pid() -> int:
    return os.getpid()
"""


async def test_tracing_standin_metrics_token_guards_only_the_metrics_path(
    app_with: Callable[..., App],
) -> None:
    app = app_with("tracing")
    telemetry_module = app.module("telemetry")
    settings = telemetry_module.TelemetrySettings(
        otel_service_name="guarded", tracing_enabled=False, metrics_token=TOKEN
    )
    web = FastAPI()

    @web.get("/ping")
    async def ping() -> str:
        return "pong"

    telemetry_module.setup_telemetry(web, settings)
    async with running(web) as client:
        assert (await client.get("/ping")).text == '"pong"'  # other routes stay open
        refused = await client.get("/metrics")
        assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "Bearer")
        assert refused.text == ""
        for wrong in ["Bearer nope", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x"]:
            answer = await client.get("/metrics", headers={"Authorization": wrong})
            assert answer.status_code == 401, wrong
        scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert scraped.status_code == 200
        assert samples(scraped.text, "http_requests_total") == {("GET", "/ping", "200"): 1.0}

    # A token too short to be a secret is refused when the settings are read.
    try:
        telemetry_module.TelemetrySettings(otel_service_name="x", metrics_token="short")
    except ValueError as error:
        assert "metrics_token" in str(error)
    else:
        raise AssertionError("a 5-character METRICS_TOKEN was accepted")


async def _get(sock: Path, path: str, token: str | None = None) -> httpx.Response:
    """One request on a connection of its own (so the kernel may hand it to any worker)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.AsyncHTTPTransport(uds=str(sock))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        return await client.get(path, headers=headers)


async def _wait_until_serving(sock: Path, server: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(60):
        while True:
            assert server.poll() is None, "uvicorn exited"
            try:
                if (await _get(sock, "/pid")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)


async def test_tracing_standin_metrics_sum_over_two_uvicorn_workers(
    app_with: Callable[..., App],
) -> None:
    app = app_with("tracing")
    (app.root / app.package / "web.py").write_text(WEB.format(package=app.package))
    with tempfile.TemporaryDirectory(prefix="paxx-metrics-", dir="/tmp") as folder:
        sock = Path(folder) / "app.sock"  # short: a socket path has at most 107 bytes
        (Path(folder) / "multiproc").mkdir()
        env = {
            **os.environ,
            "PYTHONPATH": str(app.root),
            "PROMETHEUS_MULTIPROC_DIR": str(Path(folder) / "multiproc"),
            "METRICS_TOKEN": TOKEN,
            "TRACING_ENABLED": "false",
        }
        command = [sys.executable, "-m", "uvicorn", f"{app.package}.web:app"]
        server = subprocess.Popen(
            [*command, "--workers", "2", "--uds", str(sock)],
            cwd=app.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await _wait_until_serving(sock, server)
            pids: set[int] = set()
            total = 1  # the request that saw the server up
            async with asyncio.timeout(60):
                while len(pids) < 2 or total < 40:  # until both workers have served some
                    answers = await asyncio.gather(*(_get(sock, "/pid") for _ in range(10)))
                    pids |= {answer.json() for answer in answers}
                    total += len(answers)
            assert (await _get(sock, "/metrics")).status_code == 401
            for _ in range(6):  # whichever worker answers, it reports every worker's requests
                scraped = await _get(sock, "/metrics", TOKEN)
                assert scraped.status_code == 200
                counts = samples(scraped.text, "http_requests_total")
                assert counts == {("GET", "/pid", "200"): float(total)}, (pids, counts)
        finally:
            server.terminate()
            server.wait(timeout=30)
