"""A user's test file, run inside a generated project (every feature) with its own venv.

tests/live/test_generated_project.py copies it into that project as tests/test_services.py
and runs it with the project's own pytest, from the project folder, after `paxx up`: it reaches
every service through the generated modules (installed from the project's wheel) and the .env
paxx wrote, and nothing else. It is not collected by paxx's own test run.
"""

import asyncio
import contextlib
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import uvicorn
import websockets
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic_settings import BaseSettings, SettingsConfigDict
from shop import cache, db, mail, search, storage, tasks, telemetry, vector, websocket
from sqlalchemy.orm import Mapped, mapped_column

RUN = uuid.uuid4().hex[:8]


class ServiceUrls(BaseSettings):
    """Where to look at what the services received: paxx writes these into .env too."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    mailpit_url: str
    paxx_jaeger_ui_port: int


class Doc(db.Base):
    __tablename__ = "standalone_docs"
    id: Mapped[int] = mapped_column(primary_key=True)
    embedding: Mapped[list[float]] = mapped_column(vector.Embedding(3))


def test_the_generated_package_runs_from_the_installed_wheel() -> None:
    installed = Path(mail.__file__).resolve()
    assert "site-packages" in installed.parts, installed
    assert Path(sys.prefix).resolve() in installed.parents


async def test_cache_real() -> None:
    async with cache.open_cache() as store:
        await store.set(f"greeting:{RUN}", {"text": "hello"}, ttl=30)
        assert await store.get(f"greeting:{RUN}") == {"text": "hello"}


async def test_db_and_vector_real_nearest_row() -> None:
    async with vector.open_vector_db() as database:
        await database.create_tables()
        async with database.session() as session:
            session.add_all([Doc(embedding=[1.0, 0.0, 0.0]), Doc(embedding=[0.0, 1.0, 0.0])])
            await session.commit()
            hits = await vector.nearest(session, Doc, Doc.embedding, [0.9, 0.1, 0.0], limit=1)
            assert hits[0].row.embedding == [1.0, 0.0, 0.0]


async def test_tasks_real_job_runs_in_a_burst_worker() -> None:
    async with tasks.open_task_queue() as queue:
        job_id = f"hello:{RUN}"
        assert await queue.enqueue(tasks.say_hello, "Ada", job_id=job_id) is not None
        assert await tasks.run_queued_jobs() >= 1
        assert await queue.result(job_id) == "Hello, Ada!"


async def test_storage_standin_upload_download_presigned_url() -> None:
    async with storage.open_storage() as store:
        assert await store.upload(f"{RUN}/hello.txt", b"hello") == 5
        assert await store.download(f"{RUN}/hello.txt") == b"hello"
        url = await store.presigned_url(f"{RUN}/hello.txt", expires_in=60)
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).content == b"hello"


async def test_email_standin_template_shipped_in_the_wheel() -> None:
    subject = f"Welcome {RUN}"
    async with mail.open_mailer() as mailer:
        await mailer.send_template(
            "welcome", {"name": "Ada"}, to="ada@example.com", subject=subject
        )
    async with httpx.AsyncClient(base_url=ServiceUrls().mailpit_url) as client:
        messages = (await client.get("/api/v1/messages")).json()["messages"]
        (found,) = [m for m in messages if m["Subject"] == subject]
        message = (await client.get(f"/api/v1/message/{found['ID']}")).json()
    assert "Ada" in message["Text"] and "Ada" in message["HTML"]


async def test_search_standin_index_and_find() -> None:
    index = f"standalone_{RUN}"
    async with search.open_search() as engine:
        await engine.index_documents(index, [{"id": "1", "title": "hello world"}])
        assert [hit["id"] for hit in await engine.search(index, "hello")] == ["1"]


async def test_tracing_standin_span_reaches_jaeger() -> None:
    app = FastAPI()
    spans = telemetry.setup_telemetry(app)
    name = f"standalone {RUN}"
    with spans.tracer("standalone").start_as_current_span(name):
        pass
    assert spans.force_flush()
    spans.shutdown()
    service = spans.settings.otel_service_name
    url = f"http://127.0.0.1:{ServiceUrls().paxx_jaeger_ui_port}/api/traces"
    async with httpx.AsyncClient() as client:
        for _ in range(50):
            traces = (await client.get(url, params={"service": service})).json()["data"]
            if any(s["operationName"] == name for t in traces for s in t["spans"]):
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"span {name!r} not in Jaeger")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def _serve(app: FastAPI) -> AsyncIterator[str]:
    """The app on uvicorn over real TCP (the server and WebSocket library paxx declared)."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.05)
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_websocket_real_room_broadcast_over_uvicorn() -> None:
    app = FastAPI(lifespan=websocket.websocket_lifespan)

    @app.websocket("/rooms/{room}/{user}")
    async def chat(socket_: WebSocket, room: str, user: str) -> None:
        manager: websocket.ConnectionManager = socket_.app.state.websockets
        await manager.connect(socket_, client_id=user)
        await manager.join(socket_, room)
        await manager.send(socket_, {"joined": room})
        try:
            while True:
                text = await socket_.receive_text()
                await manager.broadcast(room, {"from": user, "text": text}, exclude=socket_)
        except WebSocketDisconnect:
            pass
        finally:
            await manager.disconnect(socket_)

    async with (
        _serve(app) as base,
        websockets.connect(f"{base}/rooms/{RUN}/ada") as ada,
        websockets.connect(f"{base}/rooms/{RUN}/bob") as bob,
    ):
        assert await ada.recv() == f'{{"joined": "{RUN}"}}'
        assert await bob.recv() == f'{{"joined": "{RUN}"}}'
        await ada.send("hi")
        assert await asyncio.wait_for(bob.recv(), 5) == '{"from": "ada", "text": "hi"}'
