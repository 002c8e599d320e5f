"""One ``data.csv`` of labelled text: text classification and sentence-pair classification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

from tunestack_runtime.datasets.reading import Budget, CountingReader, Location, csv_rows, open_object
from tunestack_runtime.errors import InvalidDataset

FILE_NAME = "data.csv"


@dataclass(frozen=True)
class CsvSummary:
    rows: int
    labels: tuple[int, ...]
    bytes_read: int
    sampled: bool


@dataclass(frozen=True)
class LabelledCsv:
    """``data.csv`` at the dataset's top level, no header: an integer label, then ``texts`` columns
    of non-empty text (1: a text; 2: a sentence pair). ``labels``, when given, are the only ones
    allowed (a sentence-pair model's binary layer takes 0 and 1)."""

    name: str
    source: str
    texts: tuple[str, ...]  # what each text column holds, as errors name it
    labels: tuple[int, ...] | None = None

    def check(self, s3: Any, location: Location) -> dict[str, Any]:
        key = f"{location.prefix}{FILE_NAME}"
        body = open_object(s3, location, key, f"a {self.name} dataset is one {FILE_NAME}")
        summary = self.check_stream(body, location.key_uri(key))
        return {"Rows": summary.rows, "Labels": len(summary.labels), "Sampled": summary.sampled}

    def check_stream(self, stream: BinaryIO, where: str, budget: Budget | None = None) -> CsvSummary:
        """Check a ``data.csv`` read from ``stream`` (an S3 body or a file); ``where`` names it.

        Memory holds one row and the set of labels seen.
        """
        budget = budget or Budget()
        counting = CountingReader(stream)
        labels: dict[str, int] = {}  # each label as written -> its value, checked once
        columns = len(self.texts) + 1
        rows = 0
        for line, row in csv_rows(counting, where, budget):
            rows += 1
            if len(row) < columns:
                self._refuse(row, line, where)
            if row[0] not in labels:
                labels[row[0]] = self._label(row, line, where)
            for text in row[1:columns]:
                if not text or text.isspace():
                    self._refuse(row, line, where)
        if rows == 0:
            raise InvalidDataset(f"{where}: the file is empty")
        values = sorted(set(labels.values()))
        if len(values) < 2:
            raise InvalidDataset(f"{where}: needs at least two distinct labels to classify, found {values}")
        return CsvSummary(rows=rows, labels=tuple(values), bytes_read=counting.count, sampled=budget.exhausted)

    def _refuse(self, row: list[str], line: int, where: str) -> None:
        """Raise the first problem of a row that lacks a label or a text."""
        self._label(row, line, where)
        for column, what in enumerate(self.texts, 2):
            if len(row) < column or not row[column - 1].strip():
                raise InvalidDataset(f"{where} line {line}: column {column} must hold non-empty text ({what})")

    def _label(self, row: list[str], line: int, where: str) -> int:
        if not row:
            raise InvalidDataset(f"{where} line {line}: empty line; every row needs a label and {self._needs()}")
        label = row[0].strip()
        if not (label.isdigit() and label.isascii()):
            hint = " (the file must have no header row)" if line == 1 else ""
            raise InvalidDataset(
                f"{where} line {line}: column 1 must be an integer class label, got {label[:40]!r}{hint}"
            )
        value = int(label)
        if self.labels is not None and value not in self.labels:
            allowed = " or ".join(str(v) for v in self.labels)
            raise InvalidDataset(f"{where} line {line}: column 1 must be the class label {allowed}, got {value}")
        return value

    def _needs(self) -> str:
        return " and ".join(self.texts)
