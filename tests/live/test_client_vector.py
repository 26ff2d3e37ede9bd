"""The vector module paxx generates, against PostgreSQL + pgvector (the real programs)."""

# No `from __future__ import annotations`: FastAPI must see the route annotations as objects,
# and SQLAlchemy reads the models' `Mapped[...]` annotations.

import asyncio
import uuid
from collections.abc import Callable
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.orm import Mapped, mapped_column

from live.conftest import App

QUERY = [1.0, 0.0, 0.0]
#: Known vectors whose order by cosine distance from QUERY differs from their order by L2.
VECTORS = {
    "far-same-direction": [10.0, 0.0, 0.0],  # cosine 0, L2 9
    "near-tilted": [1.0, 0.5, 0.0],  # cosine 1 - 1/sqrt(1.25), L2 0.5
    "orthogonal": [0.0, 1.0, 0.0],  # cosine 1, L2 sqrt(2)
    "opposite": [-1.0, 0.0, 0.0],  # cosine 2, L2 2
}


async def _extensions(conn: AsyncConnection) -> list[str]:
    return list(await conn.scalars(text("SELECT extname FROM pg_extension ORDER BY extname")))


async def test_vector_real_hnsw_indexes_and_nearest_by_cosine_and_l2(
    app_with: Callable[..., App],
) -> None:
    app = app_with("vector")
    db_module = app.module("db")
    vector = app.module("vector")

    class Item(db_module.Base):
        __tablename__ = "items"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        embedding: Mapped[list[float]] = mapped_column(vector.Embedding(3))
        __table_args__ = (vector.hnsw_index("items_embedding_cosine", "embedding", "cosine"),)

    async with vector.open_vector_db() as db:
        await db.create_tables()
        # The L2 index is added to the existing table from the model's attribute.
        l2_index = vector.hnsw_index("items_embedding_l2", Item.embedding, "l2", m=8)
        async with db.engine.begin() as conn:
            await conn.run_sync(l2_index.create, checkfirst=True)
            result = await conn.execute(text("SELECT indexname, indexdef FROM pg_indexes"))
            definitions = {name: definition for name, definition in result}
        assert (
            "USING hnsw (embedding vector_cosine_ops) WITH (m='16', ef_construction='64')"
            in definitions["items_embedding_cosine"]
        )
        assert (
            "USING hnsw (embedding vector_l2_ops) WITH (m='8', ef_construction='64')"
            in definitions["items_embedding_l2"]
        )

        async with db.session() as session:
            session.add_all(Item(name=n, embedding=v) for n, v in VECTORS.items())
            await session.commit()

        async with db.session() as session:
            by_cosine = await vector.nearest_by_cosine(session, Item, Item.embedding, QUERY)
            assert [hit.row.name for hit in by_cosine] == [
                "far-same-direction",
                "near-tilted",
                "orthogonal",
                "opposite",
            ]
            assert [hit.distance for hit in by_cosine] == pytest.approx(
                [0.0, 1 - 1 / 1.25**0.5, 1.0, 2.0], abs=1e-6
            )
            assert by_cosine[0].row.embedding == [10.0, 0.0, 0.0]

            by_l2 = await vector.nearest_by_l2(session, Item, Item.embedding, QUERY, limit=3)
            assert [hit.row.name for hit in by_l2] == ["near-tilted", "orthogonal", "opposite"]
            assert [hit.distance for hit in by_l2] == pytest.approx([0.5, 2**0.5, 2.0], abs=1e-6)

        # Each query is served by the index of its own metric (sequential scans forbidden, so
        # the planner must use one if it can).
        for metric, index_name in [
            ("cosine", "items_embedding_cosine"),
            ("l2", "items_embedding_l2"),
        ]:
            async with db.session() as session:
                await session.execute(text("SET LOCAL enable_seqscan = off"))
                hits = await vector.nearest(
                    session, Item, Item.embedding, QUERY, metric=metric, limit=4, ef_search=1
                )
                # pgvector's HNSW scan returns at most ef_search rows: ef_search was applied.
                assert len(hits) == 1
                operator = "<=>" if metric == "cosine" else "<->"
                plan = "\n".join(
                    await session.scalars(
                        text(
                            "EXPLAIN SELECT id FROM items "
                            f"ORDER BY embedding {operator} '[1,0,0]' LIMIT 4"
                        )
                    )
                )
                assert f"Index Scan using {index_name} on items" in plan, plan


async def test_vector_real_extension_created_where_it_was_missing(
    app_with: Callable[..., App],
) -> None:
    app = app_with("vector")
    db_module = app.module("db")
    vector = app.module("vector")
    admin = create_async_engine(db_module.async_url(app.env["DATABASE_URL"]))

    # A database that has never seen the extension, as on a volume made before `vector`.
    fresh = f"fresh_{uuid.uuid4().hex[:8]}"
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f"CREATE DATABASE {fresh}"))
    settings = db_module.DatabaseSettings(
        database_url=app.env["DATABASE_URL"].rsplit("/", 1)[0] + f"/{fresh}"
    )
    try:
        async with db_module.open_db(settings) as db, db.engine.connect() as conn:
            assert "vector" not in await _extensions(conn)
        for _ in range(2):  # creating it is idempotent
            async with vector.open_vector_db(settings) as db, db.engine.connect() as conn:
                assert "vector" in await _extensions(conn)
                distance = await conn.scalar(text("SELECT '[1,2]'::vector <-> '[1,5]'"))
                assert distance == 3.0
    finally:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f"DROP DATABASE IF EXISTS {fresh} WITH (FORCE)"))

    # The app's own database, extension dropped: the FastAPI lifespan creates it again.
    async with admin.begin() as conn:
        await conn.execute(text("DROP EXTENSION IF EXISTS vector"))
        assert "vector" not in await _extensions(conn)
    await admin.dispose()

    class Doc(db_module.Base):
        __tablename__ = "docs"
        id: Mapped[int] = mapped_column(primary_key=True)
        embedding: Mapped[list[float]] = mapped_column(vector.Embedding(2))

    web = FastAPI(lifespan=vector.vector_lifespan)

    @web.get("/nearest")
    async def nearest(
        x: float, y: float, session: Annotated[Any, Depends(db_module.get_session)]
    ) -> list[int]:
        hits = await vector.nearest_by_l2(session, Doc, Doc.embedding, [x, y], limit=2)
        return [hit.row.id for hit in hits]

    async with web.router.lifespan_context(web):
        await web.state.db.create_tables()
        async with web.state.db.session() as session:
            session.add_all([Doc(id=1, embedding=[0, 0]), Doc(id=2, embedding=[5, 5])])
            await session.commit()
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            response = await client.get("/nearest", params={"x": 4, "y": 4})
            assert response.json() == [2, 1]


async def test_vector_real_many_workers_start_at_once_on_a_fresh_database(
    app_with: Callable[..., App],
) -> None:
    """N workers open one fresh database at the same moment: none fails on the DDL race."""
    app = app_with("vector")
    db_module = app.module("db")
    vector = app.module("vector")
    admin = create_async_engine(db_module.async_url(app.env["DATABASE_URL"]))

    class Chunk(db_module.Base):
        __tablename__ = "chunks"
        id: Mapped[int] = mapped_column(primary_key=True)
        embedding: Mapped[list[float]] = mapped_column(vector.Embedding(2))
        __table_args__ = (vector.hnsw_index("chunks_embedding_cosine", "embedding"),)

    fresh = f"fresh_{uuid.uuid4().hex[:8]}"
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f"CREATE DATABASE {fresh}"))
    settings = db_module.DatabaseSettings(
        database_url=app.env["DATABASE_URL"].rsplit("/", 1)[0] + f"/{fresh}"
    )
    workers = 8
    ready = asyncio.Barrier(workers)

    async def start_worker() -> None:
        async with db_module.open_db(settings) as db:
            async with db.engine.connect():  # connected before the others begin: a tight race
                pass
            await ready.wait()
            await vector.ensure_extension(db.engine)
            await db.create_tables()

    try:
        results = await asyncio.gather(
            *(start_worker() for _ in range(workers)), return_exceptions=True
        )
        assert [r for r in results if r is not None] == []
        async with vector.open_vector_db(settings) as db, db.engine.connect() as conn:
            assert "vector" in await _extensions(conn)
            assert await conn.scalar(text("SELECT count(*) FROM chunks")) == 0
    finally:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f"DROP DATABASE IF EXISTS {fresh} WITH (FORCE)"))
        await admin.dispose()
