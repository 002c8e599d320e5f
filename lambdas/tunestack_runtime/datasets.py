"""Checks of a training dataset's layout, streamed so memory does not grow with its size.

Text classification: one ``data.csv``, no header, an integer label in column 1 and non-empty text
in column 2. Image classification: one sub-folder per class under the dataset prefix, each holding
images whose extensions the model accepts, and at least two classes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from tunestack_runtime.errors import InvalidDataset

TEXT_FILE_NAME = "data.csv"
DEFAULT_IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg"})

#: Rows of a ``data.csv`` read before the check stops; past this the file is taken as sampled.
DEFAULT_MAX_ROWS = 50_000_000


@dataclass(frozen=True)
class TextDatasetSummary:
    rows: int
    labels: tuple[int, ...]
    bytes_read: int
    sampled: bool


@dataclass(frozen=True)
class ImageDatasetSummary:
    classes: dict[str, int]

    @property
    def images(self) -> int:
        return sum(self.classes.values())


def check_text_csv(stream: BinaryIO, where: str, *, max_rows: int = DEFAULT_MAX_ROWS) -> TextDatasetSummary:
    """Check a ``data.csv`` read from ``stream`` (an S3 body or a file); ``where`` names it in errors.

    Reads row by row: memory holds one row and the set of labels seen. Quoted fields that contain
    commas or newlines are read as CSV defines them.
    """
    counting = _CountingReader(stream)
    text = io.TextIOWrapper(counting, encoding="utf-8", newline="")  # type: ignore[type-var]
    labels: set[int] = set()
    rows = 0
    sampled = False
    try:
        for row in csv.reader(text):
            rows += 1
            if rows > max_rows:
                sampled = True
                rows -= 1
                break
            if not row:
                raise InvalidDataset(f"{where} line {rows}: empty line; every row needs a label and a text")
            label = row[0].strip()
            if not _is_label(label):
                hint = " (the file must have no header row)" if rows == 1 else ""
                raise InvalidDataset(
                    f"{where} line {rows}: column 1 must be an integer class label, got {label[:40]!r}{hint}"
                )
            if len(row) < 2 or not row[1].strip():
                raise InvalidDataset(f"{where} line {rows}: column 2 must hold non-empty text")
            labels.add(int(label))
    except UnicodeDecodeError as error:
        # Decoding runs a buffer ahead of the CSV reader, so only a lower bound of the line is known.
        raise InvalidDataset(f"{where}: not UTF-8 text at or after line {rows + 1} ({error.reason})") from None
    except csv.Error as error:
        raise InvalidDataset(f"{where} line {rows + 1}: not valid CSV ({error})") from None
    if rows == 0:
        raise InvalidDataset(f"{where}: the file is empty")
    if len(labels) < 2:
        raise InvalidDataset(f"{where}: needs at least two distinct labels to classify, found {sorted(labels)}")
    return TextDatasetSummary(rows=rows, labels=tuple(sorted(labels)), bytes_read=counting.count, sampled=sampled)


def _is_label(value: str) -> bool:
    return value.isdigit() and value.isascii()


class _CountingReader(io.RawIOBase):
    """Wraps a binary stream (e.g. botocore's StreamingBody) and counts the bytes read."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self._stream.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def check_image_folders(
    keys: Iterable[str],
    prefix: str,
    where: str,
    *,
    extensions: frozenset[str] = DEFAULT_IMAGE_EXTENSIONS,
) -> ImageDatasetSummary:
    """Check object keys under ``prefix`` (streamed, e.g. from a list paginator) as class folders.

    Memory holds one counter per class, not the keys.
    """
    classes: dict[str, int] = {}
    for key in keys:
        if not key.startswith(prefix):
            raise ValueError(f"key {key!r} is not under {prefix!r}")
        relative = key[len(prefix) :]
        if not relative or relative.endswith("/"):
            continue  # folder placeholder objects made by the console
        parts = relative.split("/")
        if len(parts) == 1:
            raise InvalidDataset(
                f"{where}{relative}: images must be inside one sub-folder per class, not at the dataset's top level"
            )
        if len(parts) > 2:
            raise InvalidDataset(f"{where}{relative}: class folders must not be nested; expected <class>/<image>")
        label, name = parts
        suffix = name[name.rfind(".") :].lower() if "." in name else ""
        if suffix not in extensions:
            raise InvalidDataset(
                f"{where}{relative}: not an accepted image file (extensions: {', '.join(sorted(extensions))})"
            )
        classes[label] = classes.get(label, 0) + 1
    if len(classes) < 2:
        raise InvalidDataset(f"{where}: needs at least two class folders with images, found {sorted(classes)}")
    return ImageDatasetSummary(classes=dict(sorted(classes.items())))


def check_dataset(s3: Any, kind: str | None, uri: str | None) -> dict[str, Any]:
    """Check the dataset at ``uri`` in S3 for an algorithm's ``kind`` ("text", "vision" or None).

    Returns what the execution reports about it; raises InvalidDataset naming the S3 key.
    """
    if uri is None:
        return {"Source": "the model's default dataset", "Checked": False}
    if kind is None:
        return {"Source": uri, "Checked": False, "Reason": "no layout is known for this algorithm"}
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    if kind == "text":
        key = f"{prefix}{TEXT_FILE_NAME}"
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        except s3.exceptions.NoSuchKey:
            raise InvalidDataset(f"s3://{bucket}/{key}: not found; text datasets are one data.csv") from None
        text = check_text_csv(body, f"s3://{bucket}/{key}")
        return {"Source": uri, "Checked": True, "Rows": text.rows, "Labels": len(text.labels), "Sampled": text.sampled}
    keys = (
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
    )
    images = check_image_folders(keys, prefix, f"s3://{bucket}/{prefix}")
    return {"Source": uri, "Checked": True, "Classes": len(images.classes), "Images": images.images}


def check_not_empty(s3: Any, uri: str) -> dict[str, Any]:
    """For algorithms whose layout tunestack does not know: the channel's prefix holds data."""
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    if not listed.get("KeyCount"):
        raise InvalidDataset(f"{uri}: no objects under this prefix")
    return {"Source": uri, "Checked": True, "Layout": "not checked for this algorithm; the prefix holds data"}
