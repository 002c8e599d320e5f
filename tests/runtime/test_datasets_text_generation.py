"""Text-generation datasets: instruction tuning (template.json), chat, domain adaptation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.runtime.dataset_bucket import DatasetBucket, _s3, bucket, jsonl
from tunestack_runtime.datasets import layouts, reading
from tunestack_runtime.datasets.text_generation import InstructionRecords
from tunestack_runtime.errors import InvalidDataset

__all__ = ["_s3", "bucket"]

LLAMA = "meta-textgeneration-llama-3-1-70b"
INSTRUCTIONS = layouts.for_jumpstart(LLAMA, {"instruction_tuned": "True", "chat_dataset": "False"})
TEMPLATE = {"prompt": "Answer from the notes.\n{question}\n\nNotes: {notes}", "completion": " {answer}"}
RECORD = {"question": "Where?", "notes": "Here.", "answer": "There."}
DEFAULT_RECORD = {"instruction": "Say hi", "context": "", "response": "hi"}


def test_instruction_records_fill_the_templates_fields(bucket: DatasetBucket) -> None:
    report = bucket.check(INSTRUCTIONS, {"template.json": TEMPLATE, "a.jsonl": jsonl(RECORD, RECORD), "b.jsonl": ""})
    assert report["Layout"] == "instruction tuning (text generation)"
    assert report["Format"].endswith("/jumpstart-foundation-models-fine-tuning-instruction-based.html")
    assert (report["Records"], report["Files"], report["Template"]) == (2, 2, True)
    assert report["Fields"] == ["question", "notes", "answer"]


def test_without_a_template_the_default_fields_are_needed(bucket: DatasetBucket) -> None:
    report = bucket.check(INSTRUCTIONS, {"train.jsonl": jsonl(DEFAULT_RECORD) + "\n"})
    assert report["Fields"] == ["instruction", "context", "response"] and report["Template"] is False


def test_flan_t5_without_a_template_needs_prompt_and_completion(bucket: DatasetBucket) -> None:
    flan = layouts.for_jumpstart("huggingface-text2text-flan-t5-xl", {"instruction_tuned": "True"})
    with pytest.raises(InvalidDataset, match=r"train.jsonl line 1: the record has no 'prompt', 'completion'"):
        bucket.check(flan, {"train.jsonl": jsonl(DEFAULT_RECORD)})


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"template.json": TEMPLATE, "a.jsonl": jsonl(RECORD, {"question": "q", "answer": "a"})},
            r"datasets/ds/a.jsonl line 2: the record has no 'notes', which template.json names",
        ),
        (
            {"a.jsonl": jsonl({"prompt": "p", "completion": "c"})},
            r"a.jsonl line 1: the record has no 'instruction', 'context', 'response', which the default template",
        ),
        ({"a.jsonl": jsonl(DEFAULT_RECORD, ["not", "an", "object"])}, r"a.jsonl line 2: a record must be a JSON"),
        ({"a.jsonl": '{"instruction": "x",\n'}, r"a.jsonl line 1: not a JSON value"),
        ({"a.jsonl": b'{"a": "\xff"}\n'}, r"a.jsonl line 1: not UTF-8 text"),
        ({"a.json": jsonl(DEFAULT_RECORD)}, r"datasets/ds/a.json: not read for training; the folder holds .jsonl"),
        ({"template.json": TEMPLATE}, r"datasets/ds/: holds no .jsonl file \(the .jsonl extension is required\)"),
        ({"a.jsonl": "\n\n"}, r"datasets/ds/: the .jsonl files hold no record"),
        ({"a.jsonl": jsonl(DEFAULT_RECORD), "more/b.jsonl": "{}"}, r"datasets/ds/more/: the training data must be in"),
        ({"template.json": {"prompt": "{q}"}, "a.jsonl": "{}"}, r"template.json: needs a 'completion' string"),
        ({"template.json": {"prompt": "{q", "completion": ""}, "a.jsonl": "{}"}, r"'prompt' is not a valid template"),
        ({"template.json": {"prompt": "{}", "completion": ""}, "a.jsonl": "{}"}, r"a placeholder without a field name"),
        ({"template.json": ["prompt"], "a.jsonl": "{}"}, r"template.json: must be a JSON object"),
    ],
)
def test_each_instruction_rule_names_the_key_and_line(
    bucket: DatasetBucket, files: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidDataset, match=message):
        bucket.check(INSTRUCTIONS, files)


def test_records_stop_at_the_bound_and_say_so(bucket: DatasetBucket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_RECORDS", 10)
    bad_after_the_bound = jsonl(*[DEFAULT_RECORD] * 10) + "not json\n"
    report = bucket.check(InstructionRecords("x", "y", ("instruction",)), {"a.jsonl": bad_after_the_bound})
    assert (report["Records"], report["Sampled"]) == (10, True)


def test_a_line_longer_than_the_bound_is_refused(bucket: DatasetBucket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_LINE", 100_000)
    body = jsonl(DEFAULT_RECORD) + '{"instruction": "' + "x" * 300_000  # no line break in sight
    with pytest.raises(InvalidDataset, match=r"a.jsonl line 2: longer than 100000 bytes"):
        bucket.check(INSTRUCTIONS, {"a.jsonl": body})


# -- chat -----------------------------------------------------------------------------------------

CHAT = layouts.for_jumpstart(LLAMA, {"instruction_tuned": "False", "chat_dataset": "True"})
TALK = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": "Bye"},
    {"role": "assistant", "content": "Bye."},
]


def test_chat_records_in_the_documented_role_order(bucket: DatasetBucket) -> None:
    files = {"a.jsonl": jsonl({"dialog": TALK}, {"messages": TALK[1:3]}, {"conversations": TALK[1:4]})}
    report = bucket.check(CHAT, files)
    assert (report["Layout"], report["Conversations"], report["Messages"]) == ("chat (text generation)", 3, 10)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"dialog": TALK, "messages": TALK}, r"a record must be a JSON object holding its messages under exactly one"),
        ({"turns": TALK}, r"exactly one of dialog, messages, conversations"),
        ({"dialog": []}, r"'dialog' must be a non-empty list of messages"),
        ({"dialog": [TALK[2], TALK[1]]}, r"message 1 has role 'assistant' where 'system' or 'user' belongs"),
        ({"dialog": [TALK[1], TALK[1]]}, r"message 2 has role 'user' where 'assistant' belongs"),
        ({"dialog": [TALK[1], TALK[0]]}, r"message 2 has role 'system' where 'assistant' belongs"),
        ({"dialog": [TALK[1], {"role": "assistant", "content": 3}]}, r"message 2 must be an object with a role"),
        ({"dialog": [TALK[0], TALK[1]]}, r"the conversation has no assistant message"),
    ],
)
def test_each_chat_rule_names_the_key_line_and_message(bucket: DatasetBucket, record: Any, message: str) -> None:
    with pytest.raises(InvalidDataset, match=message) as caught:
        bucket.check(CHAT, {"chat.jsonl": jsonl({"dialog": TALK}) + json.dumps(record) + "\n"})
    assert "datasets/ds/chat.jsonl line 2" in str(caught.value)


def test_a_template_beside_a_chat_dataset_is_refused_with_the_reason(bucket: DatasetBucket) -> None:
    with pytest.raises(InvalidDataset, match=r"template.json: not read for training; .*instruction_tuned True"):
        bucket.check(CHAT, {"a.jsonl": jsonl({"dialog": TALK}), "template.json": TEMPLATE})


# -- domain adaptation ----------------------------------------------------------------------------

DOMAIN = layouts.DOMAIN_ADAPTATION


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"filings.txt": "Net sales increased.\nOperating income rose.\n"}, {"Train": {"File": "filings.txt"}}),
        (
            {"train/a.csv": "id,text\n1,Net sales rose.\n", "validation/b.json": jsonl({"text": "More."})},
            {"Train": {"File": "a.csv", "Rows": 1}, "Validation": {"File": "b.json", "Records": 1}},
        ),
        ({"notes.json": json.dumps([{"body": "First."}, {"body": "Second."}])}, {"Train": {"Records": 2}}),
        ({"notes.csv": "body\nSome text\n"}, {"Train": {"Rows": 1}}),
    ],
)
def test_domain_text_is_one_file_at_the_top_or_in_train(
    bucket: DatasetBucket, files: dict[str, Any], expected: dict[str, Any]
) -> None:
    report = bucket.check(DOMAIN, files)
    assert report["Layout"] == "domain adaptation (text generation)"
    for part, fields in expected.items():
        assert fields.items() <= report[part].items()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.txt": "x", "b.txt": "y"}, r"datasets/ds/: must hold exactly one .csv, .json or .txt file .*a.txt, b.txt"),
        ({"report.pdf": "x"}, r"datasets/ds/report.pdf: not a .csv, .json or .txt file"),
        ({"a.txt": " \n\n"}, r"datasets/ds/a.txt: holds no text"),
        ({"a.txt": b"ok\nok\n\xff\n"}, r"datasets/ds/a.txt line 3: not UTF-8 text"),
        ({"a.csv": "text\n"}, r"a.csv: needs a header row and at least one row of text"),
        ({"a.csv": "id,text\n1,\n"}, r"a.csv line 2: no text in column 2"),
        ({"a.json": jsonl({"text": "x"}, {"text": 3})}, r"a.json line 2: the field 'text' must hold text"),
        ({"a.json": "[1, 2]"}, r"a.json record 1: a record must be a JSON object"),
        ({"a.json": "[{"}, r"a.json: not a valid JSON array"),
        ({"a.txt": "x", "train/b.txt": "y"}, r"datasets/ds/a.txt: with train/ and validation/ folders"),
        ({"validation/b.txt": "y"}, r"datasets/ds/: has validation/ but no train/ folder"),
        ({"train/b.txt": "y", "extra/c.txt": "z"}, r"datasets/ds/extra/: not part of a domain-adaptation dataset"),
        ({"train/b.txt": "y", "train/c.txt": "z"}, r"datasets/ds/train/: must hold exactly one"),
        ({"train/x/b.txt": "y"}, r"datasets/ds/train/x/: the training data must be in a single folder"),
        ({}, r"datasets/ds/: must hold exactly one .csv, .json or .txt file of text \(found none\)"),
    ],
)
def test_each_domain_rule_names_the_key(bucket: DatasetBucket, files: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidDataset, match=message):
        bucket.check(DOMAIN, files)


def test_long_text_is_read_up_to_the_bound(bucket: DatasetBucket, monkeypatch: pytest.MonkeyPatch) -> None:
    from tunestack_runtime.datasets import domain_text

    monkeypatch.setattr(domain_text, "MAX_TEXT_BYTES", 1000)
    report = bucket.check(DOMAIN, {"big.txt": "words " * 1000 + "\xff"})
    assert report["Train"]["Bytes"] == 1000 and report["Train"]["Sampled"] is True
