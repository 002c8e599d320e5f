"""Dataset layouts: labelled data.csv (text and sentence pairs), image class folders, the layout a
model's spec chooses, and what the output says when no layout is known."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.runtime.dataset_bucket import URI, DatasetBucket, _s3, bucket, where
from tunestack_runtime.datasets import check_dataset, images, layouts, reading
from tunestack_runtime.datasets.reading import Budget
from tunestack_runtime.errors import InvalidDataset, InvalidInput

__all__ = ["_s3", "bucket"]

FIXTURES = Path(__file__).resolve().parents[2] / "tunestack" / "simulator" / "fixtures" / "jumpstart"
CSV = where("data.csv")
TEXT = layouts.TEXT_CLASSIFICATION
PAIRS = layouts.SENTENCE_PAIR_CLASSIFICATION


def stream(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


# -- text classification: data.csv, label then text ---------------------------------------------


def test_a_text_dataset_is_summarized_with_its_format(bucket: DatasetBucket) -> None:
    body = '0,good film\n1,"bad, and long"\n2,"two\nlines"\n1,meh\n'
    report = bucket.check(TEXT, {"data.csv": body})
    assert report == {
        "Source": URI,
        "Checked": True,
        "Layout": "text classification",
        "Format": "https://docs.aws.amazon.com/sagemaker/latest/dg/text-classification-tensorflow-inputoutput.html",
        "Rows": 4,
        "Labels": 3,
        "Sampled": False,
    }
    summary = TEXT.check_stream(stream(body), CSV)
    assert summary.labels == (0, 1, 2) and summary.bytes_read == len(body)


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
        ('0,"a\nb"\nz,c\n', r"line 3: column 1 must be an integer"),  # a quoted newline counts
        ('0,a\n1,"open\n', r"line 2: not valid CSV"),
        ("", r"the file is empty"),
        ("1,a\n1,b\n", r"needs at least two distinct labels"),
    ],
)
def test_each_text_rule_names_the_file_and_line(content: str, message: str) -> None:
    with pytest.raises(InvalidDataset, match=message) as caught:
        TEXT.check_stream(stream(content), CSV)
    assert str(caught.value).startswith(CSV)


def test_text_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(InvalidDataset, match=r"data.csv: not UTF-8 text at or after line 1"):
        TEXT.check_stream(io.BytesIO(b"0,a\n1,\xff\xfe\n"), CSV)


def test_reading_stops_at_the_row_bound_and_says_it_sampled() -> None:
    body = "".join(f"{i % 3},text {i}\n" for i in range(1000))
    summary = TEXT.check_stream(stream(body), CSV, Budget(rows=100))
    assert summary.rows == 100 and summary.sampled
    assert summary.bytes_read < len(body)


def test_a_long_text_is_read_and_a_line_without_end_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    long_text = "word " * 100_000  # 500 KB: over the csv module's default 128 KiB field limit
    assert TEXT.check_stream(stream(f'0,"{long_text}"\n1,short\n'), CSV).rows == 2
    monkeypatch.setattr(reading, "MAX_LINE", 1000)
    with pytest.raises(InvalidDataset, match=r"data.csv line 2: longer than 1000 characters"):
        TEXT.check_stream(stream("0,a\n1," + "x" * 5000), CSV)


def test_a_missing_data_csv_is_named(bucket: DatasetBucket) -> None:
    with pytest.raises(InvalidDataset, match=r"datasets/ds/data.csv: not found; a text classification dataset is one"):
        bucket.check(TEXT, {"train.csv": "0,a\n1,b\n"})


# -- sentence pairs: data.csv, 0/1 label, sentence 1, sentence 2 ---------------------------------


def test_a_sentence_pair_dataset_is_summarized(bucket: DatasetBucket) -> None:
    report = bucket.check(PAIRS, {"data.csv": '0,"Where is it?",It is here.\n1,Who?,"Me, I think."\n'})
    assert (report["Layout"], report["Rows"], report["Labels"]) == ("sentence-pair classification", 2, 2)
    assert report["Format"].endswith("Amazon_JumpStart_Sentence_Pair_Classification.ipynb")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("0,a,b\n2,c,d\n", r"line 2: column 1 must be the class label 0 or 1, got 2"),
        ("0,a,b\n1,c\n", r"line 2: column 3 must hold non-empty text \(the second sentence\)"),
        ("0,a,b\n1, ,d\n", r"line 2: column 2 must hold non-empty text \(the first sentence\)"),
        ("label,s1,s2\n0,a,b\n", r"line 1: column 1 must be an integer class label, got 'label' \(the file must"),
        ("1,a,b\n1,c,d\n", r"needs at least two distinct labels"),
    ],
)
def test_each_sentence_pair_rule_names_the_file_and_line(content: str, message: str) -> None:
    with pytest.raises(InvalidDataset, match=message) as caught:
        PAIRS.check_stream(stream(content), CSV)
    assert str(caught.value).startswith(CSV)


# -- image classification: class folders, sampled ------------------------------------------------


def test_tensorflow_image_folders_take_png(bucket: DatasetBucket) -> None:
    files = {"daisy/1.png": b"x", "daisy/2.JPG": b"x", "dandelion/3.jpeg": b"x", "dandelion/": b""}
    report = bucket.check(layouts.TENSORFLOW_IMAGES, files)
    assert report["Format"] == "https://docs.aws.amazon.com/sagemaker/latest/dg/IC-TF-inputoutput.html"
    assert (report["Classes"], report["Images"], report["Sampled"]) == (2, 3, False)


def test_other_frameworks_take_jpeg_only(bucket: DatasetBucket) -> None:
    with pytest.raises(InvalidDataset, match=r"datasets/ds/daisy/1.png: not an accepted image file .*\.jpeg, \.jpg"):
        bucket.check(layouts.JPEG_IMAGES, {"daisy/1.png": b"x", "roses/2.jpg": b"x"})


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (["a/1.jpg", "loose.jpg"], r"datasets/ds/loose.jpg: images must be inside one sub-folder per class"),
        (["a/1.jpg", "b/c/2.jpg"], r"datasets/ds/b/c/: class folders must not be nested"),
        (["a/1.jpg", "b/notes.txt"], r"datasets/ds/b/notes.txt: not an accepted image file"),
        (["a/1.jpg", "a/2.jpg"], r"datasets/ds/: needs at least two class folders with images, found \['a'\]"),
        (["a/1.jpg", "b/"], r"needs at least two class folders with images, found \['a'\]"),
        ([], r"needs at least two class folders"),
    ],
)
def test_each_image_rule_names_the_key(bucket: DatasetBucket, files: list[str], message: str) -> None:
    with pytest.raises(InvalidDataset, match=message):
        bucket.check(layouts.JPEG_IMAGES, dict.fromkeys(files, b"x"))


def test_large_classes_are_sampled_and_counted_as_at_least(bucket: DatasetBucket) -> None:
    per_class = images.KEYS_PER_CLASS + 5
    bucket.put({f"{c}/{i:03d}.jpg": b"x" for c in ("a", "b") for i in range(per_class)})
    bucket.put({"c/1.jpg": b"x"})
    report = bucket.check(layouts.JPEG_IMAGES)
    assert report["Classes"] == 3
    assert report["Images"] == f"at least {2 * images.KEYS_PER_CLASS + 1}"
    assert report["Sampled"] is True


def test_a_bad_key_beyond_the_sample_is_not_seen(bucket: DatasetBucket) -> None:
    """What sampling gives up: only the first keys of each class are looked at."""
    bucket.put({f"a/{i:03d}.jpg": b"x" for i in range(images.KEYS_PER_CLASS)} | {"a/zzz.txt": b"x", "b/1.jpg": b"x"})
    assert bucket.check(layouts.JPEG_IMAGES)["Sampled"] is True


def test_image_requests_do_not_grow_with_the_number_of_images(bucket: DatasetBucket) -> None:
    def requests(per_class: int, prefix: str) -> dict[str, int]:
        bucket.put({f"{prefix}/c{c}/{i:04d}.jpg": b"x" for c in range(3) for i in range(per_class)})
        client = bucket.counting()
        check_dataset(client, layouts.JPEG_IMAGES, f"{URI}{prefix}/")
        return client.counts

    assert requests(10, "small") == requests(400, "large") == {"list_objects_v2": 1 + 3}


# -- the layout a spec chooses -------------------------------------------------------------------


def spec_defaults(model_id: str) -> dict[str, str]:
    """The algorithm hyperparameters a fixture spec declares, at their defaults."""
    spec_file = next((FIXTURES / "community_models" / model_id).glob("specs_v*.json"))
    spec = json.loads(spec_file.read_text())
    return {h["name"]: str(h["default"]) for h in spec["hyperparameters"] if h.get("scope") != "container"}


@pytest.mark.parametrize(
    ("model_id", "layout"),
    [
        ("huggingface-tc-bert-base-cased", layouts.TEXT_CLASSIFICATION),
        ("huggingface-spc-bert-base-cased", layouts.SENTENCE_PAIR_CLASSIFICATION),
        ("pytorch-ic-mobilenet-v2", layouts.JPEG_IMAGES),
        ("tensorflow-ic-bit-m-r101x1-ilsvrc2012-classification-1", layouts.TENSORFLOW_IMAGES),
        ("catboost-classification-model", layouts.TABULAR_CLASSIFICATION),
        ("meta-textgeneration-llama-3-1-70b", layouts.DOMAIN_ADAPTATION),  # both modes default to False
    ],
)
def test_each_catalog_model_reads_the_layout_of_its_task(model_id: str, layout: layouts.Layout) -> None:
    assert layouts.for_jumpstart(model_id, spec_defaults(model_id)) == layout


LLAMA = spec_defaults("meta-textgeneration-llama-3-1-70b")


def test_the_text_generation_mode_follows_the_hyperparameters() -> None:
    model = "meta-textgeneration-llama-3-1-70b"
    instruction = layouts.for_jumpstart(model, {**LLAMA, "instruction_tuned": "True"})
    assert isinstance(instruction, layouts.InstructionRecords)
    assert instruction.default_fields == ("instruction", "context", "response")
    assert layouts.for_jumpstart(model, {**LLAMA, "chat_dataset": "true"}) == layouts.CHAT
    with pytest.raises(InvalidInput, match=r"\$\.HyperParameters: at most one of instruction_tuned and chat_dataset"):
        layouts.for_jumpstart(model, {**LLAMA, "instruction_tuned": "True", "chat_dataset": "True"})
    tuned = layouts.for_jumpstart(model, LLAMA, tuned={"instruction_tuned"})
    assert isinstance(tuned, layouts.Unchecked) and "instruction_tuned is tuned" in tuned.reason


@pytest.mark.parametrize(
    ("model_id", "hyperparameters", "expected"),
    [
        # Published ids beyond the catalog, as their task segments and hyperparameters say.
        ("tensorflow-tc-bert-en-uncased-l-12-h-768-a-12-2", {}, layouts.TEXT_CLASSIFICATION),
        ("tensorflow-spc-bert-en-cased-L-12-H-768-A-12-2", {}, layouts.SENTENCE_PAIR_CLASSIFICATION),
        ("tensorflow-ic-imagenet-mobilenet-v2-100-224-classification-4", {}, layouts.TENSORFLOW_IMAGES),
        ("mxnet-ic-resnet18", {}, layouts.JPEG_IMAGES),
        ("lightgbm-regression-model", {}, layouts.TABULAR_REGRESSION),
        ("pytorch-tabtransformerclassification-model", {}, layouts.TABULAR_CLASSIFICATION),
        ("huggingface-textgeneration1-gpt-j-6b", {"epoch": "3"}, layouts.DOMAIN_ADAPTATION),
        ("huggingface-llm-falcon-3-7B-Instruct", {"instruction_tuned": "False"}, layouts.DOMAIN_ADAPTATION),
        ("meta-textgenerationneuron-llama-3-8b", {"instruction_tuned": "False"}, layouts.DOMAIN_ADAPTATION),
        # The defaults of published specs in the SageMaker Python SDK's tests (branch master-v2,
        # tests/unit/sagemaker/jumpstart/constants.py): Gemma 7B Instruct 1.1.0 and Llama 2 7B Chat
        # 2.0.4 train on chat data by default; Llama 2 Neuron 1.0.0 declares neither mode.
        ("huggingface-llm-gemma-7b-instruct", {"instruction_tuned": "False", "chat_dataset": "True"}, layouts.CHAT),
        ("meta-textgeneration-llama-2-7b-f", {"instruction_tuned": "False", "chat_dataset": "True"}, layouts.CHAT),
        ("meta-textgenerationneuron-llama-2-7b", {"max_steps": "20"}, layouts.DOMAIN_ADAPTATION),
        ("sklearn-classification-linear", {}, layouts.TABULAR_CLASSIFICATION),
        ("autogluon-classification-ensemble", {}, layouts.TABULAR_CLASSIFICATION),
    ],
)
def test_other_published_models_are_read_by_task(model_id: str, hyperparameters: dict, expected: object) -> None:
    assert layouts.for_jumpstart(model_id, hyperparameters) == expected


def test_flan_t5_instruction_tuning_defaults_to_prompt_and_completion() -> None:
    layout = layouts.for_jumpstart("huggingface-text2text-flan-t5-xl", {"instruction_tuned": "True"})
    assert isinstance(layout, layouts.InstructionRecords) and layout.default_fields == ("prompt", "completion")
    other = layouts.for_jumpstart("huggingface-text2text-flan-t5-xl", {"instruction_tuned": "False"})
    assert isinstance(other, layouts.Unchecked)
    assert other.reason.startswith("dataset not checked: no layout is known for task text2text")


@pytest.mark.parametrize(
    ("model_id", "task"),
    [
        ("pytorch-od1-fasterrcnn-resnet50-fpn", "od1"),
        ("mxnet-semseg-fcn-resnet50-ade", "semseg"),
        ("huggingface-eqa-bert-base-cased", "eqa"),
        ("model-txt2img-stabilityai-stable-diffusion-v2-1-base", "txt2img"),
        ("huggingface-text2text-flan-t5-base", "text2text"),  # 2.2.3 declares no instruction_tuned
    ],
)
def test_a_task_without_a_known_layout_is_said_not_checked(bucket: DatasetBucket, model_id: str, task: str) -> None:
    layout = layouts.for_jumpstart(model_id, {})
    report = bucket.check(layout, {"anything/a.bin": b"x"})
    assert report == {
        "Source": URI,
        "Checked": False,
        "Reason": f"dataset not checked: no layout is known for task {task} ({model_id})",
        "HoldsData": True,
    }


@pytest.mark.parametrize("files", [{}, {"": b""}])  # nothing, or only the console's folder placeholder
def test_an_unchecked_dataset_must_still_hold_data(bucket: DatasetBucket, files: dict[str, bytes]) -> None:
    with pytest.raises(InvalidDataset, match=r"s3://team-bucket/datasets/ds/: no objects under this prefix"):
        bucket.check(layouts.for_builtin("image-classification"), files)


def test_the_default_dataset_is_not_checked() -> None:
    assert check_dataset(None, layouts.TEXT_CLASSIFICATION, None) == {
        "Source": "the model's default dataset",
        "Checked": False,
    }
