"""The db module paxx generates, against PostgreSQL (the real program)."""

# No `from __future__ import annotations`: FastAPI must see the route annotations as objects,
# and SQLAlchemy reads the models' `Mapped[...]` annotations.

from collections.abc import Callable
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI
from sqlalchemy import String, func, make_url, select, text
from sqlalchemy.orm import Mapped, mapped_column

from live.conftest import App


async def test_db_real_engine_sessions_and_tables(app_with: Callable[..., App]) -> None:
    app = app_with("db")
    db_module = app.module("db")

    class Note(db_module.Base):
        __tablename__ = "notes"
        id: Mapped[int] = mapped_column(primary_key=True)
        text: Mapped[str] = mapped_column(String(200))

    # DATABASE_URL says postgresql://; the engine gets asyncpg, and quoted credentials survive.
    settings = db_module.DatabaseSettings()
    url_text = str(settings.database_url.get_secret_value())
    assert url_text.startswith("postgresql://")
    password = make_url(url_text).password
    assert password and password not in repr(settings) + str(settings.database_url)
    assert settings.database_echo is False
    url = db_module.async_url("postgresql://app:p%40ss%2Fw%3Ard@127.0.0.1:5433/shop")
    assert (url.drivername, url.username, url.password, url.port, url.database) == (
        "postgresql+asyncpg",
        "app",
        "p@ss/w:rd",
        5433,
        "shop",
    )

    async with db_module.open_db() as db:
        assert db.engine.dialect.driver == "asyncpg"
        async with db.engine.connect() as conn:
            version = (await conn.execute(text("SHOW server_version"))).scalar_one()
            assert version.startswith("17."), version
            database = (await conn.execute(text("SELECT current_database()"))).scalar_one()
            assert database == app.env["POSTGRES_DB"]

        await db.create_tables()
        await db.create_tables()  # idempotent
        async with db.session() as session:
            session.add_all([Note(text="first"), Note(text="second")])
            await session.commit()
        async with db.session() as session:
            session.add(Note(text="never committed"))
            await session.flush()
            assert await session.scalar(select(func.count()).select_from(Note)) == 3
        # The session closed without a commit: its work was rolled back.
        async with db.session() as session:
            notes = (await session.scalars(select(Note).order_by(Note.id))).all()
            assert [n.text for n in notes] == ["first", "second"]

    # Committed rows are in the database, seen through a new pool.
    async with db_module.open_db() as db, db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Note)) == 2


async def test_db_real_fastapi_lifespan_and_session_dependency(
    app_with: Callable[..., App],
) -> None:
    app = app_with("db")
    db_module = app.module("db")

    class Todo(db_module.Base):
        __tablename__ = "todos"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str]

    web = FastAPI(lifespan=db_module.db_lifespan)
    Session = Annotated[Any, Depends(db_module.get_session)]

    @web.post("/todos")
    async def add(title: str, session: Session, commit: bool = True) -> dict[str, Any]:
        todo = Todo(title=title)
        session.add(todo)
        await session.flush()
        if commit:
            await session.commit()
        return {"id": todo.id}

    @web.get("/todos")
    async def titles(session: Session) -> list[str]:
        return list(await session.scalars(select(Todo.title).order_by(Todo.id)))

    async with web.router.lifespan_context(web):
        await web.state.db.create_tables()
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            assert (await client.post("/todos", params={"title": "milk"})).status_code == 200
            dropped = await client.post("/todos", params={"title": "eggs", "commit": False})
            assert dropped.status_code == 200
            assert (await client.get("/todos")).json() == ["milk"]
