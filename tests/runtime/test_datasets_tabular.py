"""Tabular datasets: train/ (or training/) and validation/ CSV, target first, categorical index."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runtime.dataset_bucket import DatasetBucket, _s3, bucket
from tunestack_runtime.datasets import layouts
from tunestack_runtime.errors import InvalidDataset

__all__ = ["_s3", "bucket"]

CLASSIFY = layouts.TABULAR_CLASSIFICATION
REGRESS = layouts.TABULAR_REGRESSION
GOOD = {
    "train/data.csv": "0,21.5,3.1,red\n1,80.2,9.9,blue\n2,65.0,7.7,red\n",
    "train/more.csv": "1,40.0,5.0,blue\n",
    "validation/data.csv": "0,22.0,3.0,red\n2,70.1,8.0,blue\n",
    "categorical_index.json": {"cat_index_list": [3]},
}


def test_a_tabular_dataset_is_summarized(bucket: DatasetBucket) -> None:
    report = bucket.check(CLASSIFY, GOOD)
    assert report["Layout"] == "tabular classification"
    assert report["Format"] == "https://docs.aws.amazon.com/sagemaker/latest/dg/InputOutput-LightGBM.html"
    assert (report["TrainRows"], report["ValidationRows"], report["Columns"]) == (4, 2, 4)
    assert report["CategoricalColumns"] == 1 and report["Sampled"] is False


def test_catboosts_training_folder_and_no_validation_are_accepted(bucket: DatasetBucket) -> None:
    report = bucket.check(REGRESS, {"training/part-1.csv": "3.5,1,2\n4.25,2,2\n"})
    assert (report["TrainRows"], report["Columns"]) == (2, 3) and "ValidationRows" not in report


def test_class_names_are_accepted_as_classification_targets(bucket: DatasetBucket) -> None:
    assert bucket.check(CLASSIFY, {"train/data.csv": "yes,1,2\nno,3,4\n"})["TrainRows"] == 2


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"data.csv": "0,1\n"}, r"datasets/ds/data.csv: not part of a tabular dataset; CSV files go in train/"),
        ({"validation/data.csv": "0,1\n"}, r"datasets/ds/: needs a train/ folder of CSV files"),
        ({"train/a.csv": "0,1\n", "training/b.csv": "0,1\n"}, r"has both train/ and training/"),
        ({"train/a.csv": "0,1\n", "test/a.csv": "0,1\n"}, r"datasets/ds/test/: not part of a tabular dataset"),
        ({"train/a.parquet": "x"}, r"datasets/ds/train/a.parquet: not a .csv file"),
        ({"train/": ""}, r"datasets/ds/train/: holds no CSV file"),
        ({"train/x/a.csv": "0,1\n"}, r"datasets/ds/train/x/: CSV folders must not hold sub-folders"),
        ({"train/a.csv": ""}, r"datasets/ds/train/a.csv: the file is empty"),
        ({"train/a.csv": "0\n1\n"}, r"train/a.csv line 1: needs the target and at least one feature column"),
        ({"train/a.csv": "0,1,2\n1,2\n"}, r"train/a.csv line 2: 2 columns where the data has 3"),
        ({"train/a.csv": "0,1\n0,1\n", "validation/a.csv": "0,1,2\n"}, r"validation/a.csv line 1: 3 columns"),
        ({"train/a.csv": "0,1\n ,2\n"}, r"train/a.csv line 2: column 1 \(the target\) is empty"),
        ({"train/a.csv": "target,f1\n0,1\n"}, r"train/a.csv line 1: looks like a header row \('target' above"),
        ({"train/a.csv": '0,"unclosed\n'}, r"train/a.csv line 1: not valid CSV"),
    ],
)
def test_each_tabular_rule_names_the_key_and_line(bucket: DatasetBucket, files: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidDataset, match=message):
        bucket.check(CLASSIFY, files)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1.5,2\nbig,3\n", r"train/a.csv line 2: column 1 must be the target, a number, got 'big'$"),
        ("price,size\n1,2\n", r"train/a.csv line 1: .*got 'price' \(the file must have no header row\)"),
    ],
)
def test_a_regression_target_must_be_a_number(bucket: DatasetBucket, content: str, message: str) -> None:
    with pytest.raises(InvalidDataset, match=message):
        bucket.check(REGRESS, {"train/a.csv": content})


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ([3], r"categorical_index.json: must be a JSON object \{\"cat_index_list\""),
        ({"cat_index": [1]}, r"must be a JSON object"),
        ({"cat_index_list": [0]}, r"cat_index_list holds 0; each must be a column number above 0 .* below 3"),
        ({"cat_index_list": [3]}, r"cat_index_list holds 3"),
        ({"cat_index_list": [True]}, r"cat_index_list holds True"),
        ({"cat_index_list": ["1"]}, r"cat_index_list holds '1'"),
        ({"cat_index_list": [1, 1]}, r"names a column twice: \[1, 1\]"),
        ("{not json", r"categorical_index.json line 1: not valid JSON"),
    ],
)
def test_the_categorical_index_follows_the_documented_shape(bucket: DatasetBucket, index: Any, message: str) -> None:
    with pytest.raises(InvalidDataset, match=message):
        bucket.check(CLASSIFY, {"train/a.csv": "0,1,x\n1,2,y\n", "categorical_index.json": index})
