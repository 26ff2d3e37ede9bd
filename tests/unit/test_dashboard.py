"""`paxx dashboard` over HTTP: the token, the Host and Origin checks, every endpoint, and no
secret in any answer unless revealed.

The real command runs in a subprocess against a project whose services are declared; the
engine is a socket nobody listens on (DOCKER_HOST), so no Docker engine is needed and the
page reports that it cannot reach one. tests/live/test_dashboard_live.py drives the page in
a browser against a running environment.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from conftest import DashboardProcess, declare, make_project, run_cli
from paxx_env import envblock
from paxx_env.fsio import exclusive_lock
from paxx_env.paths import project_lock_path

pytestmark = pytest.mark.skipif(
    shutil.which("docker") is None, reason="needs the docker CLI (not an engine)"
)
NOWHERE = "unix:///nonexistent/docker.sock"
VENDORED = Path(__file__).parents[2] / "paxx_env" / "dashboard" / "VENDORED.md"
Start = Callable[..., DashboardProcess]


def declared(root: Path, env: dict[str, str] | None = None) -> Path:
    """`root`, with Redis and MinIO declared (and their files rendered)."""
    # The providers the secrets below are named after, in one `feature add` (one generation).
    declare(root, ["cache", "storage"], {"cache": "redis", "storage": "minio"})
    added = run_cli(root, "feature", "add", "cache", "storage", env=env)
    assert added.code == 0, added.output
    return root


@pytest.fixture
def board(project: Path, dashboard: Start) -> Iterator[DashboardProcess]:
    """A dashboard of its own (for the tests that press buttons), with no engine to ask."""
    yield dashboard(declared(project), {"DOCKER_HOST": NOWHERE})


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DashboardProcess]]:
    """One dashboard for the tests that only look (it starts in seconds, not instantly)."""
    env = {"XDG_STATE_HOME": str(tmp_path_factory.mktemp("state")), "DOCKER_HOST": NOWHERE}
    root = declared(make_project(tmp_path_factory.mktemp("shared") / "app", "shared"), env)
    process = DashboardProcess(root, env)
    yield root, process
    process.stop()


@pytest.fixture
def looking(shared: tuple[Path, DashboardProcess]) -> DashboardProcess:
    return shared[1]


def secrets_of(root: Path) -> list[str]:
    block = envblock.read_env((root / ".env").read_text()).block
    return [block["REDIS_PASSWORD"], block["MINIO_ROOT_PASSWORD"]]


#: One client for every request (a new one each time costs more than the request).
HTTP = httpx.Client(timeout=30)


def get(board: DashboardProcess, path: str, **kwargs: object) -> httpx.Response:
    return HTTP.get(board.base + path, **kwargs)  # type: ignore[arg-type]


def post(board: DashboardProcess, path: str, data: dict[str, str] | None = None) -> httpx.Response:
    headers = {"X-Paxx-Token": board.token, "Origin": board.origin}
    return HTTP.post(board.base + path, data=data or {}, headers=headers)


def read_stream(board: DashboardProcess, path: str, until: Callable[[str], bool]) -> str:
    """A server-sent event stream, read until `until` holds for what came (at most 30 s)."""
    text = ""
    deadline = time.monotonic() + 30
    with HTTP.stream("GET", f"{board.base}{path}") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for chunk in response.iter_text():
            text += chunk
            if until(text) or time.monotonic() > deadline:
                break
    return text


def event_data(stream: str, name: str) -> list[str]:
    """The data of every event called `name` in a stream."""
    found = []
    for block in stream.split("\n\n"):
        lines = block.split("\n")
        if f"event: {name}" in lines:
            found.append("\n".join(line[6:] for line in lines if line.startswith("data: ")))
    return found


def progress_says(words: str) -> Callable[[str], bool]:
    """Whether the last progress part in a stream so far holds `words`."""
    return lambda stream: any(words in data for data in event_data(stream, "progress")[-1:])


ROUTES = [
    ("GET", "/"),
    ("GET", "/events"),
    ("GET", "/logs/redis"),
    ("GET", "/status.json"),
    ("GET", "/static/htmx.min.js"),
    ("GET", "/static/dashboard.js"),
    ("POST", "/up"),
    ("POST", "/down"),
    ("POST", "/restart/redis"),
    ("POST", "/variables/REDIS_PASSWORD"),
]


def test_every_request_without_the_token_is_refused(looking: DashboardProcess) -> None:
    for method, path in ROUTES:
        for token in ("", "?token=", "?token=not-the-token", f"?token={looking.token[:-1]}"):
            response = HTTP.request(
                method, looking.base + path + token, headers={"Origin": looking.origin}, timeout=30
            )
            assert response.status_code == 403, (method, path, token)
            assert response.text == (
                "paxx: error: this dashboard needs its token\n"
                "  fix: open the URL `paxx dashboard` printed (it ends in ?token=...)\n"
            )
        wrong_header = HTTP.request(
            method,
            looking.base + path,
            headers={"Origin": looking.origin, "X-Paxx-Token": "x" + looking.token},
            timeout=30,
        )
        assert wrong_header.status_code == 403


def test_the_token_in_the_url_or_the_header_opens_the_page(looking: DashboardProcess) -> None:
    by_url = get(looking, f"/?token={looking.token}")
    by_header = get(looking, "/", headers={"X-Paxx-Token": looking.token})
    assert by_url.status_code == by_header.status_code == 200
    assert "<h1>shared" in by_url.text and 'data-variable="REDIS_PASSWORD"' in by_url.text


def test_another_host_name_is_refused(looking: DashboardProcess) -> None:
    """A page that rebinds its own DNS name to 127.0.0.1 still sends its name as Host."""
    response = get(
        looking, f"/?token={looking.token}", headers={"Host": f"evil.test:{looking.port}"}
    )
    assert response.status_code == 421
    assert get(
        looking, f"/?token={looking.token}", headers={"Host": f"localhost:{looking.port}"}
    ).is_success


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://evil.test"},
        {"Origin": "http://127.0.0.1:8000"},
        {"Origin": "null"},
        {"Origin": "{origin}", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "{origin}", "Sec-Fetch-Site": "same-site"},
    ],
    ids=["no origin", "other site", "other port", "opaque", "cross-site", "same-site"],
)
def test_a_post_from_another_page_is_refused(
    looking: DashboardProcess, headers: dict[str, str]
) -> None:
    sent = {k: v.format(origin=looking.origin) for k, v in headers.items()}
    for path in ("/up", "/down", "/restart/redis", "/variables/REDIS_PASSWORD"):
        response = HTTP.post(
            f"{looking.base}{path}?token={looking.token}",
            data={"reveal": "1"},
            headers=sent,
            timeout=30,
        )
        assert response.status_code == 403, path
        assert response.text == "paxx: error: a request from another site was refused\n"


def test_no_cors_and_the_security_headers(looking: DashboardProcess) -> None:
    preflight = HTTP.request(
        "OPTIONS",
        f"{looking.base}/up?token={looking.token}",
        headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "POST"},
        timeout=30,
    )
    assert preflight.status_code == 405
    page = get(looking, f"/?token={looking.token}", headers={"Origin": "http://evil.test"})
    for response in (preflight, page):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    assert page.headers["referrer-policy"] == "no-referrer"  # the URL holds the token
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_the_page_works_offline_with_vendored_htmx(looking: DashboardProcess) -> None:
    page = get(looking, f"/?token={looking.token}").text
    scripts = re.findall(r'<script src="([^"]+)"', page)
    styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert scripts and styles
    for url in scripts + styles:
        assert url.startswith("/static/"), url  # nothing from a CDN
        assert get(looking, url).status_code == 200
    table = VENDORED.read_text()
    for name in ("htmx.min.js", "sse.min.js"):
        served = get(looking, f"/static/{name}?token={looking.token}").content
        row = next(line for line in table.splitlines() if line.startswith(f"| `{name}`"))
        assert hashlib.sha256(served).hexdigest() in row, name
    assert 'version:"2.0.11"' in get(looking, f"/static/htmx.min.js?token={looking.token}").text


def test_an_engine_that_does_not_answer_is_shown_and_the_page_stays_up(
    looking: DashboardProcess,
) -> None:
    page = get(looking, f"/?token={looking.token}").text
    assert f"paxx: error: the Docker engine is not reachable at {NOWHERE}" in page
    assert "fix: start it (e.g. `sudo systemctl start docker`) or point DOCKER_HOST at it" in page
    assert "generation</dt><dd><strong>1</strong>" in page
    assert "<code>paxx feature add cache storage</code>" in page


def test_no_secret_in_any_answer_unless_revealed(shared: tuple[Path, DashboardProcess]) -> None:
    root, board = shared
    secrets = secrets_of(root)
    pages = ["/", "/status.json", "/static/dashboard.js"]
    answers = [get(board, f"{path}?token={board.token}").text for path in pages]
    answers.append(
        read_stream(board, f"/events?token={board.token}", lambda t: "event: variables" in t)
    )
    answers.append(read_stream(board, f"/logs/redis?token={board.token}", lambda t: "\n\n" in t))
    answers.append(post(board, "/variables/REDIS_PASSWORD", {"reveal": "0"}).text)
    for answer in answers:
        for secret in secrets:
            assert secret not in answer
    page = answers[0]
    assert 'data-variable="REDIS_PASSWORD"' in page and 'data-variable="REDIS_URL"' in page
    assert "PAXX_REDIS_PORT" in page  # not a secret: shown as is


def test_a_click_reveals_one_secret_and_hides_it_again(
    shared: tuple[Path, DashboardProcess],
) -> None:
    root, board = shared
    redis_password, minio_password = secrets_of(root)
    shown = post(board, "/variables/REDIS_PASSWORD", {"reveal": "1"})
    assert shown.status_code == 200
    assert f'<code class="revealed">{redis_password}</code>' in shown.text
    assert minio_password not in shown.text
    url = post(board, "/variables/REDIS_URL", {"reveal": "1"}).text
    assert redis_password in url  # the URL holds the password: hidden and revealed alike
    hidden = post(board, "/variables/REDIS_PASSWORD", {"reveal": "0"})
    assert redis_password not in hidden.text and "masked" in hidden.text
    assert post(board, "/variables/NO_SUCH_VARIABLE", {"reveal": "1"}).status_code == 404


def test_the_events_stream_sends_every_part_then_each_change(looking: DashboardProcess) -> None:
    stream = read_stream(
        looking, f"/events?token={looking.token}", lambda t: all(f"event: {n}" in t for n in PARTS)
    )
    assert stream.startswith("retry: 1000\n\n")
    for name in PARTS:
        assert len(event_data(stream, name)) == 1
    (services,) = event_data(stream, "services")
    assert "the Docker engine is not reachable" in services


PARTS = ("summary", "services", "progress", "variables")


def test_status_json_is_what_paxx_status_json_prints(looking: DashboardProcess) -> None:
    """With no engine there is no report to give: 503. (The live test checks a real one.)"""
    response = get(looking, f"/status.json?token={looking.token}")
    assert response.status_code == 503
    assert json.loads(response.text) == {}


def test_logs_of_an_unknown_service_say_which_services_there_are(
    looking: DashboardProcess,
) -> None:
    stream = read_stream(looking, f"/logs/nope?token={looking.token}", lambda t: "problem" in t)
    assert event_data(stream, "problem") == [
        "'nope' is not a service of this project\ndeclared services: minio, redis"
    ]


def test_the_buttons_answer_and_up_prints_what_the_cli_prints(board: DashboardProcess) -> None:
    assert post(board, "/restart/nope").status_code == 404
    started = post(board, "/up")
    assert started.status_code == 202, started.text
    assert "paxx up started" in started.text
    stream = read_stream(board, f"/events?token={board.token}", progress_says("fix: start it"))
    progress = event_data(stream, "progress")[-1]
    assert f"paxx: error: the Docker engine is not reachable at {NOWHERE}" in progress
    assert "  fix: start it (e.g. `sudo systemctl start docker`) or point DOCKER_HOST at it" in (
        progress
    )


def test_deleting_the_data_needs_the_project_name_typed(
    project: Path, board: DashboardProcess
) -> None:
    name = envblock.read_env((project / ".env").read_text()).block["COMPOSE_PROJECT_NAME"]
    for form in (
        {"volumes": "1"},
        {"volumes": "1", "confirm": ""},
        {"volumes": "1", "confirm": "x"},
    ):
        refused = post(board, "/down", form)
        assert refused.status_code == 400
        assert f"type {name} to delete its data" in refused.text
    assert post(board, "/down", {"volumes": "1", "confirm": name}).status_code == 202


def test_an_action_waits_for_the_project_lock_like_any_paxx_command(
    project: Path, board: DashboardProcess
) -> None:
    with exclusive_lock(project_lock_path(project)):
        assert post(board, "/up").status_code == 202
        stream = read_stream(board, f"/events?token={board.token}", progress_says("waiting"))
        assert "waiting for another paxx command on this project" in stream
        assert post(board, "/down").status_code == 409  # one action at a time
        assert "fix:" not in event_data(stream, "progress")[-1]
    stream = read_stream(board, f"/events?token={board.token}", progress_says("fix: start it"))
    assert "paxx: error: the Docker engine is not reachable" in event_data(stream, "progress")[-1]


def test_ctrl_c_stops_it_at_once_with_130_and_frees_the_port(
    project: Path, board: DashboardProcess
) -> None:
    with HTTP.stream("GET", f"{board.base}/events?token={board.token}") as events:
        next(events.iter_text())
        started = time.monotonic()
        code, err = board.stop()
        assert time.monotonic() - started < 5
    assert (code, err) == (130, "paxx dashboard stopped.\n")
    with pytest.raises(ConnectionRefusedError):  # nothing listens on the port any more
        socket.create_connection(("127.0.0.1", board.port), timeout=5)


def test_it_opens_the_url_in_the_browser_unless_told_not_to(
    project: Path, dashboard: Start, tmp_path: Path
) -> None:
    """$BROWSER is the command Python's webbrowser module runs: here, one that notes the URL."""
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(0o755)
    env = {"DOCKER_HOST": NOWHERE, "BROWSER": str(browser)}
    shown = dashboard(declared(project), env, opens=True)
    deadline = time.monotonic() + 30
    while not opened.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert opened.read_text() == shown.url + "\n"
    not_shown = dashboard(project, env)
    assert get(not_shown, f"/?token={not_shown.token}").is_success
    not_shown.stop()
    assert opened.read_text() == shown.url + "\n"


def test_a_taken_port_is_two_lines(project: Path) -> None:
    assert run_cli(project, "feature", "add", "cache").code == 0
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli(project, "dashboard", "--no-open", "--port", str(port))
    assert result.code == 2
    assert result.err.splitlines() == [
        f"paxx: error: port {port} on 127.0.0.1 is taken",
        "  fix: choose another with --port, or leave --port out to get a free one",
    ]


def test_without_the_extra_it_says_how_to_install_it(project: Path) -> None:
    """The extra is hidden from the import system (None in sys.modules), as if not installed."""
    hide = "import sys; sys.modules.update(starlette=None, uvicorn=None); "
    run = "from paxx_env.__main__ import main; sys.argv = ['paxx', 'dashboard']; main()"
    done = subprocess.run(
        [sys.executable, "-c", hide + run], cwd=project, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "paxx: error: `paxx dashboard` needs the dashboard extra, which is not installed "
        "(no starlette or uvicorn)",
        "  fix: install it with `pip install 'paxx[dashboard]'`, then run `paxx dashboard` again",
    ]


def test_the_command_line_does_not_load_the_dashboard(tmp_path: Path) -> None:
    code = (
        "import sys; from paxx_env.commands.app import main\n"
        "try: main(['--help'])\n"
        "except SystemExit: pass\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn')"
        " or m.startswith('paxx_env.dashboard')]\n"
        "print(loaded, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stderr.strip() == "[]"
    assert "dashboard" in done.stdout
    help_text = " ".join(run_cli(tmp_path, "dashboard", "--help").out.split())
    assert "127.0.0.1 only" in help_text and "pip install 'paxx[dashboard]'" in help_text
