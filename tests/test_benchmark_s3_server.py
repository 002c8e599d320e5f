"""The bench's indexed ListObjectsV2 answers exactly what moto's own answers, only without scanning
the bucket: so the image-check figure measures the check, not a different listing."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import S3Backend, s3_backends

from tests.conftest import ROOT

KEYS = [
    "flowers/",
    "flowers/a/",
    "flowers/loose.jpg",
    "other.txt",
    "flowers/a/b/c.jpg",
    *(f"flowers/class{i % 5}/img{i:04d}.jpg" for i in range(300)),
    *(f"flowers/class1/sub{i}/x.jpg" for i in range(5)),
]


@pytest.fixture(scope="module")
def server() -> Any:
    spec = importlib.util.spec_from_file_location("bench_s3_server", ROOT / "benchmarks" / "s3_server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def backend() -> Any:
    with mock_aws():
        found = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
        found.create_bucket("bench", "us-east-1")
        for key in KEYS:
            found.put_object("bench", key, b"x")
        yield found


def names(result: Any) -> tuple[list[str], bool]:
    return [k if isinstance(k, str) else k.name for k in result[0]], result[1]


@pytest.mark.parametrize(
    ("prefix", "delimiter", "start_after", "max_keys"),
    [
        ("flowers/", "/", None, 1000),
        ("flowers/", "/", None, 3),
        ("flowers/class1/", "/", None, 20),
        ("", "/", None, 1000),
        ("flowers/", None, None, 7),
        ("flowers/class1/", "/", "flowers/class1/img0100.jpg", 5),
        ("flowers/a", "/", None, 10),
        ("missing/", "/", None, 10),
    ],
)
def test_the_indexed_listing_equals_motos(
    server: Any, backend: Any, prefix: str, delimiter: str | None, start_after: str | None, max_keys: int
) -> None:
    bucket = backend.get_bucket("bench")
    args = (bucket, prefix, delimiter, None, start_after, max_keys)
    assert names(server.indexed_list_objects_v2(backend, *args)) == names(S3Backend.list_objects_v2(backend, *args))


def test_a_continued_listing_equals_motos(server: Any, backend: Any) -> None:
    bucket = backend.get_bucket("bench")
    token = S3Backend.list_objects_v2(backend, bucket, "flowers/", "/", None, None, 2)[2]
    args = (bucket, "flowers/", "/", token, None, 3)
    assert names(server.indexed_list_objects_v2(backend, *args)) == names(S3Backend.list_objects_v2(backend, *args))
