"""The search module paxx generates, on each provider: Meilisearch (a stand-in here) and
PostgreSQL full-text search in the db feature's database (real).

The Meilisearch stand-in matches each word of a query as a case-insensitive substring and has
no relevance ranking or typo tolerance, so the `standin` tests assert which documents match,
never their order. Ranking, stemming and query syntax are asserted on PostgreSQL, the
provider that runs no search service: SEARCH_BACKEND comes from .env, as paxx writes it.
"""

# No `from __future__ import annotations`: FastAPI must see the route annotations as objects.

import json
from collections.abc import Callable
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from meilisearch_python_sdk.errors import MeilisearchApiError
from sqlalchemy import text

from conftest import Runner
from live.conftest import App, providers_of

ARTICLES = [
    {"id": "pg", "title": "PostgreSQL text search", "body": "Search with tsvector: search fast."},
    {"id": "pasta", "title": "Cooking pasta", "body": "Boil water, then search for salt."},
    {"id": 7, "title": "Gardening", "body": "Tomatoes need sun.", "tags": ["summer", "Garden"]},
]


def ids(documents: list[dict[str, Any]]) -> list[Any]:
    return [d["id"] for d in documents]


async def test_search_standin_meilisearch_index_search_replace_delete(
    app_with: Callable[..., App],
) -> None:
    app = app_with("search", provider="meilisearch")  # no db: no PostgreSQL backend
    search_module = app.module("search")
    assert not hasattr(search_module, "PostgresBackend")
    settings = search_module.SearchSettings()
    assert settings.search_backend == "meilisearch"
    assert settings.meili_master_key.get_secret_value() == app.env["MEILI_MASTER_KEY"]
    assert app.env["MEILI_MASTER_KEY"] not in repr(settings)

    async with search_module.open_search() as search:
        assert isinstance(search, search_module.MeilisearchBackend)
        await search.index_documents("articles", ARTICLES)
        # Each change waited for its task: the documents are searchable at once.
        assert sorted(ids(await search.search("articles", "SEARCH")), key=str) == ["pasta", "pg"]
        assert ids(await search.search("articles", "tomatoes")) == [7]
        assert ids(await search.search("articles", "garden")) == [7]  # strings in lists too
        assert await search.search("articles", "bicycle") == []
        assert (await search.search("articles", "tomatoes"))[0] == ARTICLES[2]

        pages = [await search.search("articles", "", page=p, per_page=2) for p in (1, 2, 3)]
        assert [len(p) for p in pages] == [2, 1, 0]
        assert sorted(ids(pages[0] + pages[1]), key=str) == [7, "pasta", "pg"]

        # Same id: the document is replaced, not merged.
        await search.index_documents("articles", [{"id": "pasta", "title": "Risotto"}])
        assert ids(await search.search("articles", "risotto")) == ["pasta"]
        assert ids(await search.search("articles", "boil")) == []
        assert await search.search("articles", "risotto") == [{"id": "pasta", "title": "Risotto"}]

        await search.delete_documents("articles", ["pasta", 7, "never-indexed"])
        assert ids(await search.search("articles", "")) == ["pg"]
        # Indexes are separate; a missing one is empty, and deleting from it is not an error.
        assert await search.search("other", "search") == []
        await search.delete_documents("other", ["pg"])
        with pytest.raises(ValueError, match="'id'"):
            await search.index_documents("articles", [{"title": "no id"}])


async def test_search_standin_meilisearch_needs_the_master_key(
    app_with: Callable[..., App],
) -> None:
    app = app_with("search", provider="meilisearch")
    search_module = app.module("search")
    wrong = search_module.SearchSettings(meili_master_key="not-the-key")
    async with search_module.open_search(wrong) as search:
        with pytest.raises(MeilisearchApiError) as raised:
            await search.index_documents("articles", ARTICLES)
        assert raised.value.status_code == 403
        assert raised.value.code == "invalid_api_key"

    # Without the db feature there is no PostgreSQL backend to pick, and the error says why.
    postgres = search_module.SearchSettings(search_backend="postgres")
    with pytest.raises(search_module.SearchError, match="paxx feature add db"):
        await search_module.create_backend(postgres)


#: What answers on each provider here (a new provider must be classified to be collected).
PROGRAM = {"meilisearch": "standin", "postgres": "real"}
#: The lifespan and dependency run on each provider; the id says which program answers.
ON_EACH = pytest.mark.parametrize(
    "provider", [pytest.param(p, id=f"{PROGRAM[p]}-{p}") for p in providers_of("search")]
)


@ON_EACH
async def test_search_fastapi_lifespan_and_dependency(
    app_with: Callable[..., App], provider: str
) -> None:
    app = app_with("search", provider=provider)
    search_module = app.module("search")
    web = FastAPI(lifespan=search_module.search_lifespan)
    Search = Annotated[search_module.SearchBackend, Depends(search_module.get_search)]

    @web.put("/articles")
    async def put(articles: list[dict[str, Any]], search: Search) -> None:
        await search.index_documents("articles", articles)

    @web.get("/search")
    async def find(q: str, search: Search) -> list[dict[str, Any]]:
        return await search.search("articles", q)

    async with web.router.lifespan_context(web):
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            assert (await client.put("/articles", json=ARTICLES)).status_code == 200
            found = (await client.get("/search", params={"q": "sun"})).json()
            assert found == [ARTICLES[2]]


async def test_search_real_postgres_ranked_full_text_search(
    app_with: Callable[..., App], paxx: Runner
) -> None:
    app = app_with("search", provider="postgres")
    search_module = app.module("search")
    assert app.env["SEARCH_BACKEND"] == "postgres" and "MEILI_URL" not in app.env
    status = json.loads(paxx(app.root, "status", "--json").out)
    assert [s["name"] for s in status["services"]] == ["postgres"]  # no search service

    async with search_module.open_search() as search:
        assert isinstance(search, search_module.PostgresBackend)
        await search.index_documents("articles", ARTICLES)

        # Ranked: "pg" says search three times, "pasta" once; stemming finds "searching".
        assert ids(await search.search("articles", "search")) == ["pg", "pasta"]
        assert ids(await search.search("articles", "Searching")) == ["pg", "pasta"]
        assert await search.search("articles", "tomato") == [ARTICLES[2]]
        # websearch_to_tsquery: all words, "phrases", or, -excluded.
        assert ids(await search.search("articles", "search water")) == ["pasta"]
        assert ids(await search.search("articles", '"text search"')) == ["pg"]
        assert ids(await search.search("articles", '"search text"')) == []
        assert sorted(ids(await search.search("articles", "pasta or tomatoes")), key=str) == [
            7,
            "pasta",
        ]
        assert ids(await search.search("articles", "search -pasta")) == ["pg"]
        assert await search.search("articles", "the") == []  # only a stop word

        # Paging: an empty query lists every document, by id.
        pages = [await search.search("articles", "", page=p, per_page=2) for p in (1, 2, 3)]
        assert [ids(p) for p in pages] == [[7, "pasta"], ["pg"], []]
        assert ids(await search.search("articles", "search", per_page=1, page=2)) == ["pasta"]

        # Same id: replaced. Other indexes: separate.
        await search.index_documents("articles", [{"id": "pasta", "title": "Risotto"}])
        await search.index_documents("other", [{"id": "pasta", "title": "Boil an egg"}])
        assert ids(await search.search("articles", "boil")) == []
        assert await search.search("articles", "risotto") == [{"id": "pasta", "title": "Risotto"}]
        assert ids(await search.search("other", "boil")) == ["pasta"]

        await search.delete_documents("articles", ["pasta", 7, "never-indexed"])
        assert ids(await search.search("articles", "")) == ["pg"]
        assert ids(await search.search("other", "")) == ["pasta"]
        await search.delete_documents("missing-index", ["pg"])

        # The table: a generated tsvector column with a GIN index that the search uses.
        async with search.engine.begin() as conn:
            generated = await conn.scalar(
                text(
                    "SELECT is_generated FROM information_schema.columns"
                    " WHERE table_name = 'search_documents' AND column_name = 'content'"
                )
            )
            assert generated == "ALWAYS"
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(
                await conn.scalars(
                    text(
                        "EXPLAIN SELECT id FROM search_documents WHERE content @@"
                        " websearch_to_tsquery('english', 'search')"
                    )
                )
            )
            assert "Bitmap Index Scan on search_documents_content_idx" in plan, plan


async def test_search_real_postgres_shares_the_apps_engine(
    app_with: Callable[..., App],
) -> None:
    app = app_with("search", provider="postgres")
    search_module = app.module("search")
    db_module = app.module("db")
    settings = search_module.SearchSettings(search_backend="postgres", search_pg_table="found")
    async with db_module.open_db() as db:
        async with search_module.open_search(settings, engine=db.engine) as search:
            assert search.engine is db.engine
            await search.index_documents("notes", [{"id": 1, "text": "Shared pools"}])
            assert await search.search("notes", "pool") == [{"id": 1, "text": "Shared pools"}]
        # Closing the search backend left the app's engine working.
        async with db.engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM found")) == 1

    with pytest.raises(ValueError, match="text search configuration"):
        search_module.PostgresBackend(db.engine, language="english'; DROP TABLE found; --")
