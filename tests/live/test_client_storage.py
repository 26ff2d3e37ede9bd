"""The storage module paxx generates, on each S3 provider (MinIO and RustFS) and on the local
filesystem.

Both S3 providers are stand-ins here: moto's S3 behind MinIO's and RustFS's command lines
(../shared/offline-hub/README.md). They verify Signature V4 (headers and presigned URLs) and
V2 presigned URLs as upstream does, so a wrong secret and a tampered or expired URL are
refused, and an unsigned GET of a private object gets 403. They keep data in memory only and
have none of MinIO's or RustFS's own behaviour (policies, IAM, virtual-host style).
"""

# No `from __future__ import annotations`: FastAPI must see the route annotations as objects.

import io
import os
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from live.conftest import App, providers_of

#: Every S3 provider runs the same tests (MinIO and RustFS: both stand-ins here).
PROVIDERS = pytest.mark.parametrize("provider", providers_of("storage"))

MIB = 1024 * 1024


async def _pieces(count: int, size: int) -> AsyncIterator[bytes]:
    for i in range(count):
        yield bytes([i]) * size


class _AsyncReader:
    """An object with only `async def read(size)`, like aiofiles' files."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    async def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@PROVIDERS
async def test_storage_standin_s3_round_trip_bucket_streams_presign(
    app_with: Callable[..., App], provider: str
) -> None:
    app = app_with("storage", provider=provider)
    storage = app.module("storage")
    settings = storage.StorageSettings()
    assert settings.storage_backend == "s3"
    assert settings.s3_bucket == app.env["S3_BUCKET"]

    async with storage.open_storage() as store:
        assert isinstance(store, storage.S3Storage)
        # The bucket does not exist before the first use...
        from botocore.exceptions import ClientError

        with pytest.raises(ClientError) as missing:
            await store.client.head_bucket(Bucket=store.bucket)
        assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

        # ...and is created by it. Bytes, a file, UploadFile, an async reader, a stream:
        assert await store.upload("docs/hello.txt", b"hello", "text/plain") == 5
        await store.client.head_bucket(Bucket=store.bucket)
        assert await store.upload("docs/file.bin", io.BytesIO(b"f" * 100_000)) == 100_000
        upload_file = UploadFile(io.BytesIO(b"from a form"), filename="form.txt")
        assert await store.upload("docs/form.txt", upload_file) == 11
        assert await store.upload("docs/reader.bin", _AsyncReader(b"r" * 70_000)) == 70_000
        store.part_size = 5 * MIB  # S3's smallest part: 11 MiB go up as 3 parts
        assert await store.upload("big/stream.bin", _pieces(11, MIB)) == 11 * MIB
        head = await store.client.head_object(Bucket=store.bucket, Key="big/stream.bin")
        assert head["ETag"].strip('"').endswith("-3"), "a multipart upload of 3 parts"
        assert head["ContentLength"] == 11 * MIB
        small = await store.client.head_object(Bucket=store.bucket, Key="docs/hello.txt")
        assert small["ContentType"] == "text/plain"

        assert await store.exists("docs/hello.txt")
        assert await store.exists("big/stream.bin")
        assert not await store.exists("docs/absent.txt")

        listed = [obj async for obj in store.list_objects("docs/")]
        assert [obj.key for obj in listed] == [
            "docs/file.bin",
            "docs/form.txt",
            "docs/hello.txt",
            "docs/reader.bin",
        ]
        assert [obj.size for obj in listed] == [100_000, 11, 5, 70_000]
        assert [obj.key async for obj in store.list_objects("docs/f")] == [
            "docs/file.bin",
            "docs/form.txt",
        ]
        assert len([obj async for obj in store.list_objects()]) == 5

        url = await store.presigned_url("docs/hello.txt", expires_in=120)
        endpoint = app.env["AWS_ENDPOINT_URL_S3"]
        assert url.startswith(f"{endpoint}/{store.bucket}/docs/hello.txt?")
        assert "X-Amz-Expires=120" in url and "X-Amz-Signature=" in url
        async with httpx.AsyncClient() as client:
            fetched = await client.get(url)
            assert fetched.status_code == 200
            assert fetched.content == b"hello"
            # Control: the same object without the signed query string is refused.
            assert (await client.get(url.split("?")[0])).status_code == 403

        assert await store.download("docs/hello.txt") == b"hello"
        stream = await store.download_stream("big/stream.bin", chunk_size=MIB)
        assert stream.size == 11 * MIB
        sizes = [len(chunk) async for chunk in stream]
        assert sum(sizes) == 11 * MIB and max(sizes) <= MIB
        assert (await store.download("big/stream.bin"))[-3:] == bytes([10]) * 3

        await store.delete("docs/hello.txt")
        assert not await store.exists("docs/hello.txt")
        await store.delete("docs/hello.txt")  # deleting a missing object is no error
        with pytest.raises(storage.ObjectNotFoundError):
            await store.download("docs/hello.txt")
        with pytest.raises(storage.ObjectNotFoundError):
            await store.download_stream("docs/hello.txt")
        with pytest.raises(storage.InvalidKeyError):
            await store.upload("../outside.txt", b"x")

    # A new client finds the bucket there and keeps using it (creation is idempotent).
    async with storage.open_storage() as again:
        await again.ensure_bucket()
        assert await again.download("docs/file.bin") == b"f" * 100_000


@PROVIDERS
async def test_storage_standin_exists_raises_auth_and_network_errors(
    app_with: Callable[..., App], provider: str
) -> None:
    app = app_with("storage", provider=provider)
    storage = app.module("storage")
    from botocore.exceptions import BotoCoreError, ClientError

    async with storage.open_storage() as store:
        await store.upload("there.txt", b"1")

    # Anonymous (unsigned) requests: a clean 403 on HEAD, which is a ClientError like a 404.
    import aioboto3
    from aiobotocore.config import AioConfig
    from botocore import UNSIGNED

    unsigned = AioConfig(signature_version=UNSIGNED, s3={"addressing_style": "path"})
    endpoint = app.env["AWS_ENDPOINT_URL_S3"]
    async with aioboto3.Session().client("s3", endpoint_url=endpoint, config=unsigned) as client:
        anonymous = storage.S3Storage(client, app.env["S3_BUCKET"], auto_create_bucket=False)
        with pytest.raises(ClientError) as refused:
            await anonymous.exists("there.txt")
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    # Another access key: refused (403 InvalidAccessKeyId). The stand-in sends an error body
    # with its answer to HEAD, which aiohttp reports as an HTTPClientError (a BotoCoreError);
    # real MinIO answers a bare 403 (a ClientError). Either way: raised, never False.
    for auto_create in (False, True):
        intruder = storage.StorageSettings(
            aws_access_key_id="intruder", storage_auto_create_bucket=auto_create
        )
        async with storage.open_storage(intruder) as store:
            with pytest.raises((ClientError, BotoCoreError), match=r"InvalidAccessKeyId|403"):
                await store.exists("there.txt")

    # Nothing listening: a connection error, not False.
    closed = storage.StorageSettings(aws_endpoint_url_s3=f"http://127.0.0.1:{_free_port()}")
    async with storage.open_storage(closed) as store:
        with pytest.raises(BotoCoreError, match="Could not connect"):
            await store.exists("there.txt")


@PROVIDERS
async def test_storage_standin_wrong_secret_is_rejected(
    app_with: Callable[..., App], provider: str
) -> None:
    app = app_with("storage", provider=provider)
    storage = app.module("storage")
    from botocore.exceptions import ClientError

    wrong = storage.StorageSettings(aws_secret_access_key="not-the-secret-key")
    async with storage.open_storage(wrong) as store:
        with pytest.raises(ClientError, match=r"403|SignatureDoesNotMatch"):
            await store.exists("anything.txt")


@PROVIDERS
async def test_storage_standin_tampered_or_expired_presigned_url_is_refused(
    app_with: Callable[..., App], provider: str
) -> None:
    import asyncio

    app = app_with("storage", provider=provider)
    storage = app.module("storage")
    async with storage.open_storage() as store:
        await store.upload("secret.txt", b"s")
        url = await store.presigned_url("secret.txt", expires_in=1)
        async with httpx.AsyncClient() as client:
            tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
            assert (await client.get(tampered)).status_code == 403
            await asyncio.sleep(2)
            assert (await client.get(url)).status_code == 403


@PROVIDERS
async def test_storage_standin_fastapi_streaming_upload_and_download(
    app_with: Callable[..., App], provider: str
) -> None:
    app = app_with("storage", provider=provider)
    storage = app.module("storage")
    web = FastAPI(lifespan=storage.storage_lifespan)
    Store = Annotated[storage.StorageBackend, Depends(storage.get_storage)]

    @web.put("/files/{name}")
    async def put_file(name: str, request: Request, store: Store) -> dict[str, int]:
        try:
            body = storage.limit_size(request.stream(), 400_000)
            size = await store.upload(f"uploads/{name}", body)
        except storage.UploadTooLargeError as error:
            raise HTTPException(413, str(error)) from None
        return {"size": size}

    @web.get("/files/{name}")
    async def get_file(name: str, store: Store) -> StreamingResponse:
        stream = await store.download_stream(f"uploads/{name}")
        headers = storage.download_headers(name)
        return StreamingResponse(stream, media_type=stream.content_type, headers=headers)

    body = os.urandom(300_000)
    async with web.router.lifespan_context(web):
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            put = await client.put("/files/a.bin", content=body)
            assert put.json() == {"size": len(body)}
            got = await client.get("/files/a.bin")
            assert got.status_code == 200
            assert got.content == body
            assert got.headers["content-type"] == "application/octet-stream"
            assert got.headers["content-disposition"] == "attachment; filename*=UTF-8''a.bin"
            assert got.headers["x-content-type-options"] == "nosniff"
            assert "sandbox" in got.headers["content-security-policy"]
            # past the limit: refused, and nothing is stored (the multipart upload is aborted)
            big = await client.put("/files/big.bin", content=os.urandom(10_000_000))
            assert big.status_code == 413
            assert not await web.state.storage.exists("uploads/big.bin")


async def test_storage_real_filesystem_local_backend_round_trip_and_traversal(
    app_with: Callable[..., App], tmp_path: Path
) -> None:
    """The local backend: the real filesystem (no service involved)."""
    app = app_with("storage")
    storage = app.module("storage")
    sandbox = tmp_path / "sandbox"
    root = sandbox / "files"
    settings = storage.StorageSettings(storage_backend="local", storage_local_root=root)
    async with storage.open_storage(settings) as store:
        assert isinstance(store, storage.LocalStorage)
        assert await store.upload("docs/hello.txt", b"hello") == 5
        assert await store.upload("docs/stream.bin", _pieces(3, 100_000)) == 300_000
        assert await store.upload("docs/file.bin", io.BytesIO(b"f" * 10)) == 10
        assert await store.upload("other.txt", _AsyncReader(b"o")) == 1
        assert (root / "docs" / "hello.txt").read_bytes() == b"hello"

        assert await store.exists("docs/hello.txt")
        assert not await store.exists("docs/absent.txt")
        assert not await store.exists("docs")  # a folder is not an object
        assert not await store.exists("docs/hello.txt/deeper")

        assert [o.key async for o in store.list_objects("docs/")] == [
            "docs/file.bin",
            "docs/hello.txt",
            "docs/stream.bin",
        ]
        assert [o.key async for o in store.list_objects("o")] == ["other.txt"]
        assert [o.size async for o in store.list_objects("docs/s")] == [300_000]

        assert await store.download("docs/stream.bin") == b"".join(
            bytes([i]) * 100_000 for i in range(3)
        )
        stream = await store.download_stream("docs/hello.txt", chunk_size=2)
        assert (stream.size, stream.content_type) == (5, "text/plain")
        assert [chunk async for chunk in stream] == [b"he", b"ll", b"o"]

        with pytest.raises(storage.PresignNotSupportedError, match="STORAGE_BACKEND=s3"):
            await store.presigned_url("docs/hello.txt")
        with pytest.raises(NotImplementedError):
            await store.presigned_url("docs/hello.txt")

        # An upload that fails half-way leaves neither the object nor a temporary file.
        async def broken() -> AsyncIterator[bytes]:
            yield b"partial"
            raise ConnectionResetError("client went away")

        with pytest.raises(ConnectionResetError):
            await store.upload("docs/broken.bin", broken())
        assert not (root / "docs" / "broken.bin").exists()
        assert list((root / ".incoming").iterdir()) == []

        await store.delete("docs/hello.txt")
        await store.delete("docs/stream.bin")
        await store.delete("docs/file.bin")
        await store.delete("docs/file.bin")
        assert not await store.exists("docs/hello.txt")
        assert not (root / "docs").exists(), "emptied folders are removed"
        with pytest.raises(storage.ObjectNotFoundError):
            await store.download("docs/hello.txt")
        with pytest.raises(storage.ObjectNotFoundError):
            await store.download_stream("docs/hello.txt")

        # Keys that would leave the root, or are not one plain relative path, are refused.
        outside = sandbox / "escaped.txt"
        bad_keys = [
            "../escaped.txt",
            "docs/../../escaped.txt",
            str(outside),
            "/etc/passwd",
            "a\x00b",
            "..\\escaped.txt",
            "",
            "docs//x",
            "docs/./x",
            "docs/",
            ".incoming/x",
        ]
        for key in bad_keys:
            for call in (
                lambda k: store.upload(k, b"x"),
                store.download,
                store.download_stream,
                store.exists,
                store.delete,
                store.presigned_url,
            ):
                with pytest.raises(storage.InvalidKeyError):
                    await call(key)
        with pytest.raises(ValueError):  # InvalidKeyError is a ValueError too
            await store.upload("../escaped.txt", b"x")
        for prefix in ("../", "/etc", "docs/../.."):
            with pytest.raises(storage.InvalidKeyError):
                async for _ in store.list_objects(prefix):
                    pass
        assert not outside.exists()
        assert sorted(p.name for p in sandbox.iterdir()) == ["files"]

        # exists() does not swallow errors: a symlink loop is an error, not "missing".
        (root / "loop").symlink_to(root / "loop")
        with pytest.raises(OSError, match=r"[Ll]evels of symbolic links|loop"):
            await store.exists("loop")
