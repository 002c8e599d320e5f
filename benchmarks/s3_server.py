"""A moto S3 server on 127.0.0.1 that holds one image dataset, for ``benchmarks/run.py``.

    python benchmarks/s3_server.py PORT IMAGES CLASSES {indexed|scanning}

The objects go straight into moto's backend before the server starts (putting 300,000 objects over
HTTP takes about 20 minutes here), and are then frozen out of the garbage collector's passes;
requests go over HTTP as any client's would. The server runs until it is killed.

moto answers every ListObjectsV2 by scanning and sorting every key of the bucket, so in moto one
request costs time in proportion to the bucket's size. S3 lists from its key index starting at the
prefix, so a request's cost follows the page it returns. ``indexed`` serves ListObjectsV2 the way S3
does: from a sorted index of the key names, from the prefix (or the continuation point) onwards,
stopping once a page is full, with the same response as moto's own. ``scanning`` leaves moto as is.
"""

from __future__ import annotations

import bisect
import gc
import sys
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import FakeDeleteMarker, S3Backend, s3_backends
from moto.server import main

BUCKET = "bench"
PREFIX = "flowers/"
#: The image body: a JPEG's first bytes (the check reads names, not contents).
BODY = b"\xff\xd8\xff"

_index: dict[int, tuple[int, list[str]]] = {}


def _names(bucket: Any) -> list[str]:
    """The bucket's key names, sorted; rebuilt when the number of keys changes."""
    size = len(bucket.keys)
    cached = _index.get(id(bucket))
    if cached is None or cached[0] != size:
        cached = (size, sorted(bucket.keys.keys()))
        _index[id(bucket)] = cached
    return cached[1]


def indexed_list_objects_v2(
    self: S3Backend,
    bucket: Any,
    prefix: str | None,
    delimiter: str | None,
    continuation_token: str | None,
    start_after: str | None,
    max_keys: int,
) -> Any:
    names = _names(bucket)
    prefix = prefix or ""
    after = self._pagination_tokens.get(continuation_token) if continuation_token else start_after
    at = bisect.bisect_left(names, prefix)
    if after:
        at = max(at, bisect.bisect_right(names, after))
    found: list[Any] = []
    while at < len(names) and names[at].startswith(prefix) and len(found) <= max_keys:
        name = names[at]
        rest = name[len(prefix) :]
        if delimiter and delimiter in rest:
            folder = f"{prefix}{rest.split(delimiter, 1)[0]}{delimiter}"
            if not after or folder > after:
                found.append(folder)
            # Past every key of this folder: the first name after folder[:-1] + delimiter + anything.
            at = bisect.bisect_left(names, folder[:-1] + chr(ord(delimiter) + 1))
            continue
        key = bucket.keys.get(name)
        if key is not None and not isinstance(key, FakeDeleteMarker):
            found.append(key)
        at += 1
    return self._truncate_result(found, max_keys)


def serve(port: int, images: int, classes: int, mode: str) -> None:
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
    backend.create_bucket(BUCKET, "us-east-1")
    for i in range(images):
        backend.put_object(BUCKET, f"{PREFIX}class{i % classes}/img{i:07d}.jpg", BODY)
    if mode == "indexed":
        S3Backend.list_objects_v2 = indexed_list_objects_v2  # type: ignore[method-assign]
        _names(backend.get_bucket(BUCKET))  # built once, before any request is timed
    # The objects live as long as the server: kept out of the garbage collector's passes, which would
    # otherwise walk all of them every so often and charge a large dataset's requests for it.
    gc.freeze()
    main(["-H", "127.0.0.1", "-p", str(port)])


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
