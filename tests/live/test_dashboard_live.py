"""`paxx dashboard` in a real browser against a live environment.

Debian's chromium (/usr/bin/chromium, installed by .ci/run), driven by Playwright for Python;
nothing is downloaded or installed at run time. The services are the offline hub's images:
Redis is the real program, MinIO is a stand-in (hence `standin` in the names). The
screenshot goes to tests/output/dashboard.png (a CI artefact; docs/commands/dashboard.png is
a copy of one, taken with Mailpit declared too).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import DashboardProcess, Runner

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOT = Path(__file__).parents[1] / "output" / "dashboard.png"
#: The brief's promise: a change in the engine shows on the page within this many seconds.
WITHIN = 2.0


@pytest.fixture
def page() -> Iterator[Any]:
    """A chromium page (1440 x 900), closed with its browser when the test ends."""
    if not CHROMIUM.exists():
        reason = "needs Debian's chromium at /usr/bin/chromium (`apt-get install chromium`)"
        if os.environ.get("PAXX_REQUIRE_LIVE"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            tab = browser.new_page(viewport={"width": 1440, "height": 900})
            errors: list[str] = []
            tab.on("pageerror", lambda error: errors.append(str(error)))
            yield tab
            assert not errors, f"the page's scripts failed: {errors}"
        finally:
            browser.close()


def container_of(root: Path, service: str) -> str:
    project = json.loads((root / ".paxx/local/state.json").read_text())["project"]
    return _docker(
        "ps",
        "--all",
        "--quiet",
        "--filter",
        f"label=com.docker.compose.project={project}",
        "--filter",
        f"label=com.docker.compose.service={service}",
    )


def _docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in _proc_state(pid)


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return "Z"


def test_dashboard_real_redis_standin_minio_live_in_chromium(
    live: Callable[..., Path],
    paxx: Runner,
    dashboard: Callable[..., DashboardProcess],
    page: Any,
) -> None:
    from playwright.sync_api import expect

    root = live("shop", "cache", "storage", providers={"cache": "redis", "storage": "minio"})
    started = paxx(root, "up", "--timeout", "120")
    assert started.code == 0, started.output
    board = dashboard(root)
    page.goto(board.url)

    # Every declared service, healthy, with its image, digest, ports and links to its UI.
    status = json.loads(paxx(root, "status", "--json").out)
    for service in status["services"]:
        row = page.locator(f'tr.service[data-service="{service["name"]}"]')
        expect(row).to_have_attribute("data-health", "healthy")
        expect(row.locator("td.image")).to_contain_text(service["image"])
        expect(row.locator("code.digest")).to_contain_text("sha256:")
        for port in service["ports"]:
            expect(row.locator("td.ports")).to_contain_text(f"127.0.0.1:{port['port']} → ")
        for label, url in service["urls"].items():
            if url.startswith("http"):
                expect(row.get_by_role("link", name=f"{label} ↗")).to_have_attribute("href", url)
            else:
                expect(row.locator("td.links")).to_contain_text(url)
    expect(page.locator(".drift li.ok")).to_contain_text("No drift")
    expect(page.locator("#summary")).to_contain_text("generation")

    # Secrets masked until one is revealed with a click.
    secret = (root / ".env").read_text().split("REDIS_PASSWORD=")[1].split("\n")[0].strip("'\"")
    assert secret not in page.content()
    page.locator('tr[data-variable="REDIS_PASSWORD"] button').click()
    expect(page.locator('tr[data-variable="REDIS_PASSWORD"] code.revealed')).to_have_text(secret)
    page.locator('tr[data-variable="REDIS_PASSWORD"] button').click()
    expect(page.locator('tr[data-variable="REDIS_PASSWORD"] .masked')).to_be_visible()

    # The logs pane follows a service, and shows a line the test writes into its output:
    # MinIO's, whose main process runs as root, so `docker exec` can write to its output
    # (Redis drops to its own user, who cannot reopen the output pipe the engine made).
    page.locator('tr.service[data-service="minio"] button[data-logs]').click()
    expect(page.locator("#log-status")).to_contain_text("following minio")
    expect(page.locator("#log-lines .line").first).to_be_visible()
    marker = f"paxx-dashboard-test-{uuid.uuid4().hex[:8]}"
    _docker("exec", container_of(root, "minio"), "sh", "-c", f"echo {marker} > /proc/1/fd/1")
    expect(page.locator("#log-lines .line", has_text=marker)).to_be_visible()
    page.fill("#log-filter", marker)
    expect(page.locator("#log-lines .line:visible")).to_have_count(1)
    page.fill("#log-filter", "")
    expect(page.locator("#log-lines .line:visible")).not_to_have_count(1)

    page.locator('tr.service[data-service="redis"] button[data-logs]').click()
    expect(page.locator("#log-lines .line", has_text="Ready to accept connections")).to_be_visible()
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # `docker stop` in another terminal: the row turns within two seconds, no reload.
    _docker("stop", container_of(root, "redis"))
    stopped = time.monotonic()
    row = page.locator('tr.service[data-service="redis"]')
    expect(row).to_have_attribute("data-state", "exited", timeout=WITHIN * 1000)
    assert time.monotonic() - stopped < WITHIN
    expect(row.locator(".badge").first).to_have_text("exited")

    # The page's own status matches `paxx status --json`.
    served = json.loads(page.request.get(f"{board.base}/status.json?token={board.token}").text())
    assert {s["name"]: s["state"] for s in served["services"]} == {
        "minio": "running",
        "redis": "exited",
    }

    # An unhealthy container shows its last health-check output under its row. This one
    # stands for a container paxx made for a service no longer declared; its check fails
    # at once (the catalog's services take a 10 s interval and 3 retries to turn unhealthy).
    project = json.loads((root / ".paxx/local/state.json").read_text())["project"]
    _docker(
        "run",
        "--detach",
        "--label",
        f"com.docker.compose.project={project}",
        "--label",
        "com.docker.compose.service=leftover",
        "--label",
        "dev.paxx.service=leftover",
        "--health-cmd",
        "echo the check says no; exit 1",
        "--health-interval",
        "1s",
        "--health-retries",
        "1",
        served["services"][-1]["image"],
    )
    leftover = page.locator('tr.service[data-service="leftover"]')
    expect(leftover).to_have_attribute("data-health", "unhealthy", timeout=20_000)
    expect(leftover).to_contain_text("not declared")
    expect(page.locator('tr.health-output[data-service="leftover"] pre')).to_have_text(
        "the check says no"
    )

    # Drift, as `paxx status` reports it: a generated file edited by hand.
    overlay = root / ".paxx/services/minio.yaml"
    overlay.write_text(overlay.read_text() + "# tuned by hand\n")
    expect(page.locator(".drift li.warn", has_text="edited by hand")).to_contain_text(
        "drift: edited by hand: .paxx/services/minio.yaml (paxx keeps your edit"
    )

    # The redis logs ended with its container; follow MinIO's again for the next check.
    expect(page.locator("#log-status")).to_contain_text("the log stream ended")
    page.locator('tr.service[data-service="minio"] button[data-logs]').click()
    expect(page.locator("#log-lines .line", has_text=marker)).to_be_visible()

    # Ctrl-C: exit 130 at once, the docker commands it read are gone, the port is free.
    children = board.children()
    assert len(children) == 2  # docker events, docker compose logs --follow
    code, err = board.stop()
    assert (code, err) == (130, "paxx dashboard stopped.\n")
    assert not [pid for pid in children if alive(pid)]
    with pytest.raises(ConnectionRefusedError):  # nothing listens on the port any more
        socket.create_connection(("127.0.0.1", board.port), timeout=5)


def test_dashboard_buttons_real_redis_restart_down_up_delete_data(
    live: Callable[..., Path],
    paxx: Runner,
    dashboard: Callable[..., DashboardProcess],
    page: Any,
) -> None:
    """Restart, Down, Up and Delete data, with the lines the CLI prints."""
    from playwright.sync_api import expect

    root = live("buttons", "cache", provider="redis")
    started = paxx(root, "up", "--timeout", "120")
    assert started.code == 0, started.output
    board = dashboard(root)
    page.goto(board.url)
    row = page.locator('tr.service[data-service="redis"]')
    expect(row).to_have_attribute("data-health", "healthy")
    progress = page.locator("#progress")
    done = page.locator('#progress .progress-title[data-state="done"]')

    def press(button: Any, title: str) -> None:
        button.click()
        expect(page.locator("#notice")).to_contain_text(f"{title} started")
        expect(done).to_contain_text(f"$ {title}", timeout=120_000)

    press(row.get_by_role("button", name="Restart"), "restart redis")
    expect(progress.locator("pre")).to_contain_text("stopping")
    expect(progress.locator("pre")).to_contain_text(re.compile(r"redis +healthy in \d+\.\d s"))
    expect(row).to_have_attribute("data-health", "healthy")

    press(page.get_by_role("button", name="Down", exact=True), "paxx down")
    expect(progress.locator("pre")).to_contain_text("Stopped and removed: redis.")
    expect(progress.locator("pre")).to_contain_text("Data volumes kept")
    expect(row).to_have_attribute("data-state", "not created")

    press(page.get_by_role("button", name="Up", exact=True), "paxx up")
    expect(progress.locator("pre")).to_contain_text(re.compile(r"redis +healthy in \d+\.\d s"))
    expect(row).to_have_attribute("data-health", "healthy")

    project = json.loads((root / ".paxx/local/state.json").read_text())["project"]
    page.locator("#delete-data summary").click()
    destroy = page.get_by_role("button", name="Delete data")
    page.fill('input[name="confirm"]', project + "x")
    expect(destroy).to_be_disabled()
    page.fill('input[name="confirm"]', project)
    press(destroy, "paxx down --volumes")
    expect(progress.locator("pre")).to_contain_text(
        f"These volumes and all the data in them will be deleted:\n  {project}_redis-data"
    )
    expect(progress.locator("pre")).to_contain_text(f"Deleted 1 volume(s): {project}_redis-data.")
    assert _docker("volume", "ls", "--quiet", "--filter", f"name={project}_") == ""
    code, _ = board.stop()
    assert code == 130
