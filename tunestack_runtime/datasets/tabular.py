"""Tabular models (LightGBM, CatBoost, XGBoost, scikit-learn, TabTransformer, AutoGluon).

A ``train/`` folder and an optional ``validation/`` folder of CSV files without a header, the
target in the first column and the features in the others, and an optional
``categorical_index.json`` beside the folders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tunestack_runtime.datasets.reading import Budget, Location, csv_rows, extension, list_level, read_document
from tunestack_runtime.errors import InvalidDataset

#: The training folder's names: ``train/`` in the LightGBM page and the JumpStart tabular notebooks,
#: ``training/`` in the CatBoost page ("Use only the training channel"); both describe one prefix.
TRAIN_FOLDERS = ("train", "training")
VALIDATION_FOLDER = "validation"
CATEGORICAL_INDEX = "categorical_index.json"
#: The categorical index's values: column numbers above 0 (the target) and below Int32.MaxValue.
INT32_MAX = 2_147_483_647


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class TabularCsv:
    """``regression``: the target must be a number (a classifier's may be a class name)."""

    name: str
    source: str
    regression: bool = False

    def check(self, s3: Any, location: Location) -> dict[str, Any]:
        top = list_level(s3, location)
        names = {key[len(location.prefix) :]: key for key in top.files}
        for name, key in sorted(names.items()):
            if name != CATEGORICAL_INDEX:
                raise InvalidDataset(
                    f"{location.key_uri(key)}: not part of a tabular dataset; CSV files go in train/ "
                    f"(and validation/), the only file beside them is an optional {CATEGORICAL_INDEX}"
                )
        train = [f for f in TRAIN_FOLDERS if f in top.folders]
        if not train:
            raise InvalidDataset(f"{location.uri}: needs a train/ folder of CSV files (found no train/ folder)")
        if len(train) > 1:
            raise InvalidDataset(f"{location.uri}: has both train/ and training/; keep the training data in one")
        for folder in sorted(top.folders):
            if folder not in (*train, VALIDATION_FOLDER):
                raise InvalidDataset(
                    f"{location.child(folder).uri}: not part of a tabular dataset (folders: train/, validation/)"
                )
        budget = Budget()
        columns: list[int] = []
        report: dict[str, Any] = {}
        for folder, label in ((train[0], "Train"), (VALIDATION_FOLDER, "Validation")):
            if folder in top.folders:
                report[f"{label}Rows"] = self._folder(s3, location.child(folder), budget, columns)
        if CATEGORICAL_INDEX in names:
            report["CategoricalColumns"] = len(self._categorical(s3, location, names[CATEGORICAL_INDEX], columns[0]))
        return {**report, "Columns": columns[0], "Sampled": budget.exhausted}

    def _folder(self, s3: Any, location: Location, budget: Budget, columns: list[int]) -> int:
        level = list_level(s3, location)
        if level.folders:
            raise InvalidDataset(f"{location.child(level.folders[0]).uri}: CSV folders must not hold sub-folders")
        for key in level.files:
            if extension(key) != ".csv":
                raise InvalidDataset(f"{location.key_uri(key)}: not a .csv file; {location.uri} holds CSV files only")
        if not level.files:
            raise InvalidDataset(f"{location.uri}: holds no CSV file")
        rows = 0
        for key in level.files:
            if budget.exhausted:
                break
            rows += self._file(s3, location, key, budget, columns)
        budget.exhausted = budget.exhausted or level.truncated  # more than a page of files: not all read
        return rows

    def _file(self, s3: Any, location: Location, key: str, budget: Budget, columns: list[int]) -> int:
        where = location.key_uri(key)
        body = s3.get_object(Bucket=location.bucket, Key=key)["Body"]
        rows = 0
        first_target = ""
        for line, row in csv_rows(body, where, budget):
            rows += 1
            if not columns:
                if len(row) < 2:
                    raise InvalidDataset(f"{where} line {line}: needs the target and at least one feature column")
                columns.append(len(row))
            if len(row) != columns[0]:
                raise InvalidDataset(
                    f"{where} line {line}: {len(row)} columns where the data has {columns[0]} (target, then features)"
                )
            target = row[0].strip()
            if not target:
                raise InvalidDataset(f"{where} line {line}: column 1 (the target) is empty")
            if self.regression and not _number(target):
                hint = " (the file must have no header row)" if line == 1 else ""
                raise InvalidDataset(
                    f"{where} line {line}: column 1 must be the target, a number, got {target!r}{hint}"
                )
            if line == 1:
                first_target = target
            elif rows == 2 and not _number(first_target) and _number(target):
                raise InvalidDataset(
                    f"{where} line 1: looks like a header row ({first_target!r} above numeric targets); "
                    "the file must have no header row"
                )
        if rows == 0:
            raise InvalidDataset(f"{where}: the file is empty")
        return rows

    def _categorical(self, s3: Any, location: Location, key: str, columns: int) -> list[int]:
        where = location.key_uri(key)
        document = read_document(s3, location, key)
        values = document.get("cat_index_list") if isinstance(document, dict) else None
        if not isinstance(values, list):
            raise InvalidDataset(f'{where}: must be a JSON object {{"cat_index_list": [column numbers]}}')
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < min(columns, INT32_MAX):
                raise InvalidDataset(
                    f"{where}: cat_index_list holds {value!r}; each must be a column number above 0 "
                    f"(column 0 is the target) and below {columns}, the number of columns"
                )
        if len(set(values)) != len(values):
            raise InvalidDataset(f"{where}: cat_index_list names a column twice: {values}")
        return values
