"""Domain adaptation (text generation): one file of text, CSV, JSON or TXT.

Either the dataset's top level holds the one file (the folder is the training channel, as with
JumpStart's ``training-datasets/sec_amazon``), or it holds ``train/`` and an optional
``validation/`` folder of one file each. Text is read up to a bound.
"""

from __future__ import annotations

import codecs
import io
import json
from dataclasses import dataclass
from typing import Any

from tunestack_runtime.datasets.reading import (
    Budget,
    Level,
    Location,
    csv_rows,
    extension,
    json_lines,
    list_level,
    open_object,
)
from tunestack_runtime.datasets.text_generation import single_folder
from tunestack_runtime.errors import InvalidDataset

#: Bytes of one .txt file read before the check stops and reports "sampled".
MAX_TEXT_BYTES = 64 * 1024 * 1024

#: The files domain adaptation reads, and how the text is taken from each.
DOMAIN_EXTENSIONS = (".csv", ".json", ".txt")
#: A .json file holding one array is parsed whole up to this size; a larger one is left unchecked.
MAX_JSON_ARRAY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class DomainText:
    """One CSV, JSON or TXT file of text: at the dataset's top level (the folder is the training
    channel), or as ``train/`` and an optional ``validation/`` folder of one file each."""

    name: str
    source: str

    def check(self, s3: Any, location: Location) -> dict[str, Any]:
        level = list_level(s3, location)
        if level.folders:
            for folder in level.folders:
                if folder not in ("train", "validation"):
                    raise InvalidDataset(
                        f"{location.child(folder).uri}: not part of a domain-adaptation dataset "
                        "(one file of text, or train/ and validation/ folders of one file each)"
                    )
            if level.files:
                raise InvalidDataset(
                    f"{location.key_uri(level.files[0])}: with train/ and validation/ folders, "
                    "the text goes inside them"
                )
            if "train" not in level.folders:
                raise InvalidDataset(f"{location.uri}: has validation/ but no train/ folder")
            report = {}
            for folder in ("train", "validation"):
                if folder in level.folders:
                    inner = location.child(folder)
                    report[folder.capitalize()] = self._one_file(s3, inner, list_level(s3, inner))
            return report
        return {"Train": self._one_file(s3, location, level)}

    def _one_file(self, s3: Any, location: Location, level: Level) -> dict[str, Any]:
        single_folder(level, location)
        if len(level.files) != 1:
            found = ", ".join(k[len(location.prefix) :] for k in level.files[:5]) or "none"
            raise InvalidDataset(
                f"{location.uri}: must hold exactly one .csv, .json or .txt file of text (found {found})"
            )
        key = level.files[0]
        where = location.key_uri(key)
        kind = extension(key)
        if kind not in DOMAIN_EXTENSIONS:
            raise InvalidDataset(f"{where}: not a .csv, .json or .txt file")
        body = open_object(s3, location, key, "a file of text")
        reader = {".txt": _text_file, ".csv": _csv_file, ".json": _json_file}[kind]
        return {"File": key[len(location.prefix) :], **reader(body, where)}


def _text_file(body: Any, where: str) -> dict[str, Any]:
    """UTF-8 text with something in it, read a chunk at a time up to ``MAX_TEXT_BYTES``."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    read = lines = 0
    has_text = False
    while read < MAX_TEXT_BYTES:
        chunk = body.read(min(1 << 16, MAX_TEXT_BYTES - read))
        if not chunk:
            break
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as error:
            line = lines + chunk[: error.start].count(b"\n") + 1
            raise InvalidDataset(f"{where} line {line}: not UTF-8 text ({error.reason})") from None
        read += len(chunk)
        lines += chunk.count(b"\n")
        has_text = has_text or bool(text.strip())
    sampled = read >= MAX_TEXT_BYTES and bool(body.read(1))
    if not sampled:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            raise InvalidDataset(f"{where} line {lines + 1}: not UTF-8 text ({error.reason})") from None
    if not has_text:
        raise InvalidDataset(f"{where}: holds no text")
    return {"Bytes": read, "Sampled": sampled}


def _csv_file(body: Any, where: str) -> dict[str, Any]:
    """A header row names the columns; the text is the ``text`` column, or the first."""
    budget = Budget()
    column = 0
    rows = 0
    for line, row in csv_rows(body, where, budget):
        if line == 1:
            if not row:
                raise InvalidDataset(f"{where} line 1: the header row is empty")
            column = row.index("text") if "text" in row else 0
            continue
        rows += 1
        if len(row) <= column or not row[column].strip():
            raise InvalidDataset(f"{where} line {line}: no text in column {column + 1}")
    if rows == 0:
        raise InvalidDataset(f"{where}: needs a header row and at least one row of text")
    return {"Rows": rows, "Sampled": budget.exhausted}


def _json_file(body: Any, where: str) -> dict[str, Any]:
    """JSON Lines of objects (the text in ``text``, or the first field), or a JSON array of them."""
    head = body.read(1)
    while head and head.isspace():
        head = body.read(1)
    if head == b"[":
        data = head + body.read(MAX_JSON_ARRAY_BYTES)
        if len(data) > MAX_JSON_ARRAY_BYTES:
            return {"Records": None, "Sampled": True}  # too large to parse whole within the bound
        try:
            records = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidDataset(f"{where}: not a valid JSON array ({error})") from None
        for number, record in enumerate(records, 1):
            _text_record(record, f"{where} record {number}")
        return {"Records": len(records), "Sampled": False}
    budget = Budget()
    count = 0
    for line, record in json_lines(io.BufferedReader(_Prepend(head, body)), where, budget):  # type: ignore[arg-type]
        count += 1
        _text_record(record, f"{where} line {line}")
    if count == 0:
        raise InvalidDataset(f"{where}: holds no record")
    return {"Records": count, "Sampled": budget.exhausted}


def _text_record(record: Any, where: str) -> None:
    if not isinstance(record, dict) or not record:
        raise InvalidDataset(f"{where}: a record must be a JSON object with a text field")
    value = record["text"] if "text" in record else next(iter(record.values()))
    if not isinstance(value, str) or not value.strip():
        field = "text" if "text" in record else next(iter(record))
        raise InvalidDataset(f"{where}: the field {field!r} must hold text")


class _Prepend(io.RawIOBase):
    """A stream with bytes already read put back in front."""

    def __init__(self, head: bytes, stream: Any) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
