"""An S3 bucket of each test's own: created before the test, emptied and removed after it.

botocore (which the storage feature installs, through aioboto3) signs the requests; its
synchronous client is enough for the few calls a bucket's life takes. After the test every
object version, delete marker and unfinished multipart upload goes, then the bucket.
"""

from __future__ import annotations

import importlib
from typing import Any

from paxx_env.errors import PaxxError

#: The region S3 creates buckets in when the request names none.
DEFAULT_REGION = "us-east-1"


class Buckets:
    """A client of the project's S3 service."""

    def __init__(self, client: Any, region: str, errors: tuple[type[Exception], ...]) -> None:
        self._client = client
        self._region = region
        self._errors = errors

    def create(self, name: str) -> str:
        """Create the bucket `name`."""
        where = {}
        if self._region != DEFAULT_REGION:
            where = {"CreateBucketConfiguration": {"LocationConstraint": self._region}}
        self._call("create", name, lambda: self._client.create_bucket(Bucket=name, **where))
        return name

    def remove(self, name: str) -> None:
        """Delete every object version and upload in the bucket, then the bucket."""
        self._call("empty", name, lambda: self._empty(name))
        self._call("remove", name, lambda: self._client.delete_bucket(Bucket=name))

    def _empty(self, name: str) -> None:
        pages = self._client.get_paginator("list_object_versions").paginate(Bucket=name)
        for page in pages:
            found = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            keys = [{"Key": o["Key"], "VersionId": o["VersionId"]} for o in found]
            if keys:
                self._client.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
        uploads = self._client.get_paginator("list_multipart_uploads").paginate(Bucket=name)
        for page in uploads:
            for upload in page.get("Uploads", []):
                self._client.abort_multipart_upload(
                    Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"]
                )

    def exists(self, name: str) -> bool:
        """Whether the bucket `name` exists."""
        names = self._call("list", name, self._client.list_buckets)["Buckets"]
        return any(bucket["Name"] == name for bucket in names)

    def _call(self, verb: str, name: str, call: Any) -> Any:
        try:
            return call()
        except self._errors as error:
            raise PaxxError(
                f"S3 could not {verb} the bucket {name}: {error}",
                "run `paxx status` to see whether the storage service is healthy",
            ) from None

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()


def open_buckets(variables: dict[str, str]) -> Buckets:
    """A client of the S3 service the app's variables name."""
    try:
        session = importlib.import_module("botocore.session")
        config = importlib.import_module("botocore.config")
        exceptions = importlib.import_module("botocore.exceptions")
    except ImportError:
        raise PaxxError(
            "paxx_s3_bucket talks to S3 with botocore, which is not installed here",
            "install the project's dependencies (the storage feature adds aioboto3, which "
            "brings botocore), e.g. `pip install -e .`",
        ) from None
    region = variables.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    client = session.get_session().create_client(
        "s3",
        endpoint_url=variables["AWS_ENDPOINT_URL_S3"],
        aws_access_key_id=variables.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=variables.get("AWS_SECRET_ACCESS_KEY"),
        region_name=region,
        config=config.Config(
            s3={"addressing_style": "path"}, retries={"max_attempts": 2}, connect_timeout=5
        ),
    )
    errors = (exceptions.BotoCoreError, exceptions.ClientError)
    return Buckets(client, region, errors)
