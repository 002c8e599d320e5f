"""Reading a dataset from S3 at a cost that does not grow with its size.

Listings go one folder level at a time (``Delimiter="/"``) and stop at a page; object bodies are
streamed and the readers stop at a bound. Errors name the object as ``s3://bucket/key``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from tunestack_runtime.errors import InvalidDataset

#: One ListObjectsV2 page: the most keys (and folders) a listing of one level returns.
PAGE = 1000
#: Rows of the CSV files of one dataset read before the check stops and reports "sampled".
MAX_ROWS = 1_000_000
#: JSON Lines records of one dataset read before the check stops and reports "sampled".
MAX_RECORDS = 100_000
#: Small documents read whole (template.json, categorical_index.json); larger ones are refused.
MAX_DOCUMENT_BYTES = 1024 * 1024
#: The longest line (and CSV field) read: memory stays bounded even for a file without line breaks.
MAX_LINE = 16 * 1024 * 1024
# Python's csv module refuses fields over 128 KiB by default, shorter than a long text or document.
csv.field_size_limit(MAX_LINE)


@dataclass(frozen=True)
class Location:
    """A dataset's S3 prefix; ``prefix`` is empty or ends with ``/``."""

    bucket: str
    prefix: str

    @classmethod
    def from_uri(cls, uri: str) -> Location:
        bucket, _, prefix = uri[len("s3://") :].partition("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(bucket, prefix)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def key_uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def child(self, name: str) -> Location:
        """The folder ``name`` (without its trailing slash) under this one."""
        return Location(self.bucket, f"{self.prefix}{name}/")


@dataclass(frozen=True)
class Level:
    """One level of a listing: the objects directly under a prefix and its sub-folders' names."""

    files: tuple[str, ...]  # full keys; the folder's own placeholder object is left out
    folders: tuple[str, ...]  # names without the prefix or the trailing slash
    truncated: bool = False


def list_level(s3: Any, location: Location, *, max_keys: int = PAGE) -> Level:
    """The files and sub-folders directly under ``location``: one request, at most ``max_keys``."""
    page = s3.list_objects_v2(Bucket=location.bucket, Prefix=location.prefix, Delimiter="/", MaxKeys=max_keys)
    files = tuple(o["Key"] for o in page.get("Contents", []) if o["Key"] != location.prefix)
    folders = tuple(p["Prefix"][len(location.prefix) : -1] for p in page.get("CommonPrefixes", []))
    return Level(files=files, folders=folders, truncated=bool(page.get("IsTruncated")))


def holds_data(s3: Any, location: Location) -> bool:
    """Whether an object other than the folder's own placeholder (the console's "folder") is there."""
    listed = s3.list_objects_v2(Bucket=location.bucket, Prefix=location.prefix, MaxKeys=2)
    return any(o["Key"] != location.prefix or location.prefix == "" for o in listed.get("Contents", []))


def open_object(s3: Any, location: Location, key: str, what: str) -> BinaryIO:
    """The streaming body of ``key``; a missing object fails naming it and ``what`` it should be."""
    try:
        body: BinaryIO = s3.get_object(Bucket=location.bucket, Key=key)["Body"]
    except s3.exceptions.NoSuchKey:
        raise InvalidDataset(f"{location.key_uri(key)}: not found; {what}") from None
    return body


def read_document(s3: Any, location: Location, key: str) -> Any:
    """A small JSON document read whole: template.json, categorical_index.json."""
    where = location.key_uri(key)
    data = open_object(s3, location, key, "expected a JSON document").read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidDataset(f"{where}: larger than {MAX_DOCUMENT_BYTES} bytes; expected a small JSON document")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidDataset(f"{where}: not UTF-8 text ({error.reason})") from None
    except json.JSONDecodeError as error:
        raise InvalidDataset(f"{where} line {error.lineno}: not valid JSON ({error.msg})") from None


class CountingReader(io.RawIOBase):
    """Wraps a binary stream (e.g. botocore's StreamingBody) and counts the bytes read."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


@dataclass
class Budget:
    """What one dataset's check may still read; shared by its files so the total stays bounded."""

    # Read when a check starts (not when this module loads), so the bounds can be set per run.
    rows: int = field(default_factory=lambda: MAX_ROWS)
    records: int = field(default_factory=lambda: MAX_RECORDS)
    exhausted: bool = False


def csv_rows(stream: BinaryIO | io.RawIOBase, where: str, budget: Budget) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each CSV row; stops when the budget's rows run out.

    Quoted fields holding commas or newlines are read as CSV defines them; the line number is the
    one the row starts on. Memory holds one row. ``stream`` is read through a buffer as it comes
    (wrap it in a CountingReader first to know how much was read).
    """
    raw = stream if isinstance(stream, io.RawIOBase) else CountingReader(stream)  # type: ignore[arg-type]
    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")  # type: ignore[type-var]
    reader = csv.reader(_bounded_lines(text, where), strict=True)  # an unclosed quote is an error
    left = budget.rows
    line = 1
    try:
        for row in reader:
            if left <= 0:
                budget.exhausted = True
                return
            left -= 1
            yield line, row
            line = reader.line_num + 1
    except UnicodeDecodeError as error:
        # Decoding runs a buffer ahead of the CSV reader, so only a lower bound of the line is known.
        raise InvalidDataset(f"{where}: not UTF-8 text at or after line {line} ({error.reason})") from None
    except csv.Error as error:
        raise InvalidDataset(f"{where} line {line}: not valid CSV ({error})") from None
    finally:
        budget.rows = left


def _bounded_lines(text: io.TextIOBase, where: str) -> Iterator[str]:
    read = text.readline
    number = 0
    while True:
        line = read(MAX_LINE + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE:
            raise InvalidDataset(f"{where} line {number}: longer than {MAX_LINE} characters")
        yield line


def json_lines(stream: BinaryIO, where: str, budget: Budget) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) of each non-blank line of a JSON Lines file, within the budget."""
    for number, raw in enumerate(_lines(stream, where), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidDataset(f"{where} line {number}: not UTF-8 text ({error.reason})") from None
        if not line.strip():
            continue
        if budget.records <= 0:
            budget.exhausted = True
            return
        budget.records -= 1
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as error:
            raise InvalidDataset(f"{where} line {number}: not a JSON value ({error.msg})") from None


def _lines(stream: BinaryIO, where: str, chunk: int = 1 << 16) -> Iterator[bytes]:
    """Byte lines of a stream, read a chunk at a time; a line longer than ``MAX_LINE`` is refused."""
    pending = b""
    number = 0
    while True:
        data = stream.read(chunk)
        if not data:
            break
        pending += data
        *whole, pending = pending.split(b"\n")
        number += len(whole)
        yield from whole
        if len(pending) > MAX_LINE:
            raise InvalidDataset(f"{where} line {number + 1}: longer than {MAX_LINE} bytes")
    if pending:
        yield pending


def extension(key: str) -> str:
    """The lower-cased extension of the key's last segment, with its dot (``.jpg``), or ``""``."""
    name = key.rsplit("/", 1)[-1]
    return name[name.rfind(".") :].lower() if "." in name else ""
