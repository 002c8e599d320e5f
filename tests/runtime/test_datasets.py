"""Dataset layout checks: text data.csv and image class folders."""

from __future__ import annotations

import io

import pytest
from tunestack_runtime.datasets import check_image_folders, check_text_csv
from tunestack_runtime.errors import InvalidDataset

WHERE = "s3://team-bucket/datasets/news/data.csv"


def csv_bytes(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def test_valid_text_dataset_is_summarized() -> None:
    summary = check_text_csv(csv_bytes('0,good film\n1,"bad, and long"\n2,"two\nlines"\n1,meh\n'), WHERE)
    assert summary.rows == 4
    assert summary.labels == (0, 1, 2)
    assert summary.bytes_read == len('0,good film\n1,"bad, and long"\n2,"two\nlines"\n1,meh\n')
    assert not summary.sampled


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "label,text\n0,a\n1,b\n",
            r"line 1: column 1 must be an integer class label, got 'label' \(the file must have no header",
        ),
        ("0,a\nx,b\n", r"line 2: column 1 must be an integer class label, got 'x'"),
        ("0,a\n-1,b\n", r"line 2: column 1 must be an integer class label, got '-1'"),
        ("0,a\n1.5,b\n", r"line 2: column 1 must be an integer class label"),
        ("0,a\n1\n", r"line 2: column 2 must hold non-empty text"),
        ("0,a\n1,   \n", r"line 2: column 2 must hold non-empty text"),
        ("0,a\n\n1,b\n", r"line 2: empty line"),
        ("", r"the file is empty"),
        ("1,a\n1,b\n", r"needs at least two distinct labels"),
    ],
)
def test_each_text_rule_names_the_file_and_line(content: str, message: str) -> None:
    with pytest.raises(InvalidDataset, match=message) as caught:
        check_text_csv(csv_bytes(content), WHERE)
    assert str(caught.value).startswith(WHERE)


def test_text_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(InvalidDataset, match=r"data.csv: not UTF-8 text at or after line 1"):
        check_text_csv(io.BytesIO(b"0,a\n1,\xff\xfe\n"), WHERE)


def test_reading_stops_at_the_row_limit_and_says_it_sampled() -> None:
    body = "".join(f"{i % 3},text {i}\n" for i in range(1000))
    summary = check_text_csv(csv_bytes(body), WHERE, max_rows=100)
    assert summary.rows == 100 and summary.sampled
    assert summary.bytes_read < len(body)


def test_image_class_folders_are_counted() -> None:
    keys = ["ds/", "ds/roses/", "ds/roses/1.jpg", "ds/roses/2.JPEG", "ds/tulips/a.jpg"]
    summary = check_image_folders(iter(keys), "ds/", "s3://b/ds/")
    assert summary.classes == {"roses": 2, "tulips": 1}
    assert summary.images == 3


def test_png_is_accepted_only_when_the_model_accepts_it() -> None:
    keys = ["ds/a/1.png", "ds/b/2.png"]
    with pytest.raises(InvalidDataset, match=r"s3://b/ds/a/1.png: not an accepted image file"):
        check_image_folders(keys, "ds/", "s3://b/ds/")
    assert check_image_folders(keys, "ds/", "s3://b/ds/", extensions=frozenset({".png"})).images == 2


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (["ds/a/1.jpg", "ds/loose.jpg"], r"s3://b/ds/loose.jpg: images must be inside one sub-folder per class"),
        (["ds/a/1.jpg", "ds/b/c/2.jpg"], r"s3://b/ds/b/c/2.jpg: class folders must not be nested"),
        (["ds/a/1.jpg", "ds/b/notes.txt"], r"s3://b/ds/b/notes.txt: not an accepted image file"),
        (["ds/a/1.jpg", "ds/a/2.jpg"], r"needs at least two class folders with images, found \['a'\]"),
        ([], r"needs at least two class folders"),
    ],
)
def test_each_image_rule_names_the_key(keys: list[str], message: str) -> None:
    with pytest.raises(InvalidDataset, match=message):
        check_image_folders(keys, "ds/", "s3://b/ds/")
