"""The cache module paxx generates, against Redis and Valkey (the real programs), each."""

# No `from __future__ import annotations`: FastAPI must see the route annotations as objects.

import asyncio
import time
from collections.abc import Callable
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from redis.exceptions import TimeoutError as RedisTimeoutError

from live.conftest import App, providers_of

PROVIDERS = pytest.mark.parametrize("provider", providers_of("cache"))


@PROVIDERS
async def test_cache_real_round_trip_ttl_lock_and_rate_limit(
    app_with: Callable[..., App], provider: str
) -> None:
    app = app_with("cache", provider=provider)
    cache_module = app.module("cache")
    async with cache_module.open_cache() as cache:
        await cache.set("user:1", {"name": "Ada", "tags": ["a", "b"]}, ttl=1)
        assert await cache.get("user:1") == {"name": "Ada", "tags": ["a", "b"]}
        assert 0 < (await cache.ttl("user:1")) <= 1
        await asyncio.sleep(1.2)
        assert await cache.get("user:1") is None
        assert await cache.get("missing", default="fallback") == "fallback"

        await cache.set("n", 1, ttl=0)  # 0: no expiry
        assert await cache.ttl("n") is None
        assert await cache.get("n") == 1
        await cache.set("d", 1)  # None: CACHE_DEFAULT_TTL (300)
        assert 290 < (await cache.ttl("d")) <= 300
        no_expiry = cache_module.Cache(cache.client, cache.prefix, default_ttl=0)
        await no_expiry.set("d", 2)  # CACHE_DEFAULT_TTL=0: no expiry either
        assert await cache.ttl("d") is None
        with pytest.raises(ValueError, match="ttl must be 0"):
            await cache.set("d", 3, ttl=-1)
        assert await cache.get("d") == 2
        assert await cache.delete("n", "absent") == 1

        calls = 0

        async def compute() -> int:
            nonlocal calls
            calls += 1
            return 42

        assert await cache.get_or_set("answer", compute) == 42
        assert await cache.get_or_set("answer", compute) == 42
        assert calls == 1

        async with cache.lock("job", timeout=5):
            other = cache.lock("job", blocking_timeout=0.2)
            from redis.exceptions import LockError

            with pytest.raises(LockError):
                async with other:
                    pass

        assert [await cache.allow("login:ada", limit=3, window_seconds=60) for _ in range(4)] == [
            True,
            True,
            True,
            False,
        ]


@PROVIDERS
async def test_cache_real_fastapi_lifespan_and_dependency(
    app_with: Callable[..., App], provider: str
) -> None:
    app = app_with("cache", provider=provider)
    cache_module = app.module("cache")
    web = FastAPI(lifespan=cache_module.cache_lifespan)

    @web.get("/hits")
    async def hits(
        cache: Annotated[cache_module.Cache, Depends(cache_module.get_cache)],
    ) -> dict[str, int]:
        count = int(await cache.get("hits", 0)) + 1
        await cache.set("hits", count)
        return {"hits": count}

    async with web.router.lifespan_context(web):
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            assert (await client.get("/hits")).json() == {"hits": 1}
            assert (await client.get("/hits")).json() == {"hits": 2}


@PROVIDERS
async def test_cache_real_a_stalled_server_times_out_instead_of_hanging(
    app_with: Callable[..., App], provider: str
) -> None:
    app = app_with("cache", provider=provider)
    cache_module = app.module("cache")
    assert cache_module.CacheSettings().cache_socket_timeout == 5.0
    settings = cache_module.CacheSettings(cache_socket_timeout=0.5)
    async with cache_module.open_cache() as admin, cache_module.open_cache(settings) as cache:
        await cache.set("k", 1)
        # The server holds every client's commands for 4 s (its own CLIENT PAUSE): a reply
        # that does not come in time is a TimeoutError, not a request hanging on.
        await admin.client.client_pause(4000, all=True)
        try:
            started = time.monotonic()
            with pytest.raises(RedisTimeoutError):
                await cache.get("k")
            assert time.monotonic() - started < 3
        finally:
            await asyncio.sleep(4)  # the pause ends on its own (CLIENT UNPAUSE would wait too)
        assert await cache.get("k") == 1
