"""Each task's dataset layout through the real fine-tune state machine: the shipped examples pass
as a user runs them (``tunestack simulate fine-tune examples/<file>.json``, no other flag), a bad
dataset of each task stops the first state naming the S3 key and the line, and an algorithm
without a known layout says so in the output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.simulator.conftest import EXAMPLES
from tunestack.cli import main
from tunestack.simulator.harness import Simulator, prefix_of
from tunestack.simulator.lineage import data_folder

BUCKET = "s3://tunestack-vision-data-simulated/"
FAILED_STATES = ["Validate input and dataset", "Notify the team", "Fine-tune failed"]

#: Example -> the layout its model reads and what the output reports of the shipped dataset.
GOOD = {
    "fine-tune-text": ("text classification", {"Rows": 120, "Labels": 2}),
    "fine-tune-sentence-pairs": ("sentence-pair classification", {"Rows": 12, "Labels": 2}),
    "fine-tune-vision": ("image classification", {"Classes": 3, "Images": 12}),
    "fine-tune-vision-tensorflow": ("image classification (TensorFlow)", {"Classes": 2, "Images": 6}),
    "fine-tune-tabular": ("tabular classification", {"TrainRows": 40, "ValidationRows": 12, "Columns": 5}),
    "fine-tune-llm-instructions": ("instruction tuning (text generation)", {"Records": 8, "Template": True}),
    "fine-tune-llm-chat": ("chat (text generation)", {"Conversations": 6, "Messages": 19}),
    "fine-tune-llm-domain": ("domain adaptation (text generation)", {"Train": {"File": "runbook.txt"}}),
}

#: Example -> a bad dataset for its model (file -> content) and what the error must say.
BAD: dict[str, tuple[dict[str, str | bytes], str]] = {
    "fine-tune-text": ({"data.csv": "label,text\n0,fine\n1,bad\n"}, "data.csv line 1: column 1 must be an integer"),
    "fine-tune-sentence-pairs": (
        {"data.csv": "0,Where?,Here.\n2,Who?,Me.\n"},
        "data.csv line 2: column 1 must be the class label 0 or 1, got 2",
    ),
    "fine-tune-vision": ({"roses/1.jpg": b"x", "tulips/2.png": b"x"}, "tulips/2.png: not an accepted image file"),
    "fine-tune-vision-tensorflow": (
        {"daisy/1.png": b"x", "dandelion/2.png": b"x", "loose.png": b"x"},
        "loose.png: images must be inside one sub-folder per class",
    ),
    "fine-tune-tabular": (
        {"train/data.csv": "0,1.5,2,3,4\n1,2.5,3\n"},
        "train/data.csv line 2: 3 columns where the data has 5",
    ),
    "fine-tune-llm-instructions": (
        {
            "template.json": json.dumps({"prompt": "{instruction}\n{context}", "completion": "{response}"}),
            "train.jsonl": '{"instruction": "a", "context": "b", "response": "c"}\n'
            '{"instruction": "a", "response": "c"}\n',
        },
        "train.jsonl line 2: the record has no 'context', which template.json names",
    ),
    "fine-tune-llm-chat": (
        {"train.jsonl": '{"dialog": [{"role": "assistant", "content": "Hello."}]}\n'},
        "train.jsonl line 1: message 1 has role 'assistant' where 'system' or 'user' belongs",
    ),
    "fine-tune-llm-domain": (
        {"part-1.txt": "Some text.", "part-2.txt": "More text."},
        "must hold exactly one .csv, .json or .txt file of text (found part-1.txt, part-2.txt)",
    ),
}


def load(name: str) -> tuple[Path, dict[str, Any]]:
    file = EXAMPLES / f"{name}.json"
    return file, json.loads(file.read_text())


@pytest.mark.parametrize("name", sorted(GOOD))
def test_each_example_simulates_to_success_with_no_other_flag(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    file, payload = load(name)
    assert data_folder(file, payload) is not None, f"{name} ships no dataset"
    assert main(["simulate", "fine-tune", str(file), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == "SUCCEEDED" and document["sagemaker_calls"].get("CreateTrainingJob") == 1
    dataset = document["output"]["Dataset"]
    layout, expected = GOOD[name]
    assert dataset["Checked"] is True and dataset["Layout"] == layout
    assert dataset["Source"] == f"{BUCKET}{prefix_of(payload)}"
    assert dataset["Format"].startswith("https://")
    for field, value in expected.items():
        assert dataset[field] == value or (isinstance(value, dict) and value.items() <= dataset[field].items())


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def test_a_bad_dataset_of_each_task_stops_the_first_state(vision: Simulator, tmp_path: Path) -> None:
    names = sorted(BAD)
    payloads = [load(name)[1] for name in names]
    uploads = {prefix_of(p): write(tmp_path / name, BAD[name][0]) for name, p in zip(names, payloads, strict=True)}
    results = vision.run_many("fine-tune", payloads, uploads=uploads)
    for name, payload, result in zip(names, payloads, results, strict=True):
        assert (result.status, result.error) == ("FAILED", "InvalidDataset"), name
        assert f"{BUCKET}{prefix_of(payload)}" in result.cause, name
        assert BAD[name][1] in result.cause, (name, result.cause)
        assert result.states == FAILED_STATES, name
        assert result.sagemaker_calls == {}, name


def test_a_bad_dataset_given_with_data_fails_the_cli_naming_key_and_line(tmp_path: Path) -> None:
    files, _ = BAD["fine-tune-llm-chat"]
    command = [sys.executable, "-m", "tunestack.cli", "simulate", "fine-tune", "examples/fine-tune-llm-chat.json"]
    result = subprocess.run(
        [*command, "--data", str(write(tmp_path, files)), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert (document["status"], document["error"]) == ("FAILED", "InvalidDataset")
    cause = document["cause"]  # one line per problem, no Lambda envelope
    assert cause == (
        f"{BUCKET}datasets/llm-chat/train.jsonl line 1: message 1 has role 'assistant' where 'system' or 'user' "
        "belongs (an optional system message, then user and assistant alternating from user)"
    )
    assert document["sagemaker_calls"] == {}


def test_an_algorithm_without_a_known_layout_says_so_in_the_output(vision: Simulator) -> None:
    payload = {
        "ModelName": "churn-xgboost",
        "Algorithm": {"BuiltInAlgorithm": "xgboost", "Version": "1.7-1"},
        "TrainingData": "datasets/churn/train/",
        "HyperParameters": {"objective": "binary:logistic", "num_round": "50"},
        "InstanceType": "ml.m5.xlarge",
    }
    result = vision.run("fine-tune", payload, uploads={"datasets/churn/train/": EXAMPLES / "data" / "churn" / "train"})
    assert result.status == "SUCCEEDED"
    assert result.output["Dataset"] == {
        "Source": f"{BUCKET}datasets/churn/train/",
        "Checked": False,
        "Reason": "dataset not checked: no layout is known for the built-in xgboost algorithm",
        "HoldsData": True,
    }
