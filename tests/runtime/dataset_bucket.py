"""A moto S3 bucket that dataset tests fill with files and check against a layout."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tunestack_runtime.datasets import Layout, check_dataset

BUCKET = "team-bucket"
PREFIX = "datasets/ds/"
URI = f"s3://{BUCKET}/{PREFIX}"


def where(name: str) -> str:
    """The S3 URI an error names for ``name`` inside the dataset."""
    return f"{URI}{name}"


class Calls:
    """An S3 client that counts the requests made through it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.exceptions = client.exceptions
        self.counts: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] = self.counts.get(name, 0) + 1
            return method(*args, **kwargs)

        return counted


class DatasetBucket:
    def __init__(self, client: Any) -> None:
        self.s3 = client

    def put(self, files: Mapping[str, bytes | str | Any]) -> None:
        """Upload ``files`` (name under the dataset prefix -> content; dicts and lists as JSON)."""
        for name, content in files.items():
            if isinstance(content, str):
                body = content.encode()
            elif isinstance(content, bytes):
                body = content
            else:
                body = json.dumps(content).encode()
            self.s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}{name}", Body=body)

    def check(self, layout: Layout, files: Mapping[str, bytes | str | Any] | None = None) -> dict[str, Any]:
        if files is not None:
            self.put(files)
        return check_dataset(self.s3, layout, URI)

    def counting(self) -> Calls:
        return Calls(self.s3)


@pytest.fixture(scope="module")
def _s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def bucket(_s3: Any) -> Iterator[DatasetBucket]:
    """The bucket, empty for each test (one moto for the module: starting one per test is slow)."""
    yield DatasetBucket(_s3)
    for page in _s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            _s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})


def jsonl(*records: Any) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)
