"""Text generation (LLM) datasets of JSON Lines records: instruction tuning and chat.

Which one a model reads follows its hyperparameters (``instruction_tuned``, ``chat_dataset``); see
``layouts.py`` (domain adaptation, the third, is in ``domain_text.py``). Records are streamed and
the check stops at ``reading.MAX_RECORDS``.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from tunestack_runtime.datasets.reading import (
    Budget,
    Level,
    Location,
    extension,
    json_lines,
    list_level,
    open_object,
    read_document,
)
from tunestack_runtime.errors import InvalidDataset

TEMPLATE = "template.json"
#: The keys a chat record may hold its messages under ("dialog", "messages" or "conversations").
CHAT_KEYS = ("dialog", "messages", "conversations")


def single_folder(level: Level, location: Location) -> None:
    if level.folders:
        raise InvalidDataset(
            f"{location.child(level.folders[0]).uri}: the training data must be in a single folder, without sub-folders"
        )


def _records(s3: Any, location: Location, keys: Iterable[str], budget: Budget) -> Iterator[tuple[str, int, Any]]:
    """(s3 URI, line, record) of every JSON Lines record of ``keys``, within the budget."""
    for key in keys:
        if budget.exhausted:
            return
        where = location.key_uri(key)
        for line, record in json_lines(open_object(s3, location, key, "a JSON Lines file"), where, budget):
            yield where, line, record


def _jsonl_files(level: Level, location: Location, also: tuple[str, ...], hint: str) -> list[str]:
    files = []
    for key in level.files:
        name = key[len(location.prefix) :]
        if extension(key) == ".jsonl":
            files.append(key)
        elif name not in also:
            raise InvalidDataset(f"{location.key_uri(key)}: not read for training; {hint}")
    if not files:
        raise InvalidDataset(f"{location.uri}: holds no .jsonl file (the .jsonl extension is required)")
    return files


def template_fields(template: Any, where: str) -> tuple[str, ...]:
    """The record fields a template.json's ``prompt`` and ``completion`` name in braces."""
    if not isinstance(template, dict):
        raise InvalidDataset(f'{where}: must be a JSON object {{"prompt": ..., "completion": ...}}')
    fields: list[str] = []
    for part in ("prompt", "completion"):
        text = template.get(part)
        if not isinstance(text, str):
            raise InvalidDataset(f"{where}: needs a {part!r} string naming record fields in braces, got {text!r}")
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as error:
            raise InvalidDataset(f"{where}: {part!r} is not a valid template ({error})") from None
        for _, name, _, _ in parsed:
            if name is None:
                continue
            root = name.split(".", 1)[0].split("[", 1)[0]
            if not root or root.isdigit():
                raise InvalidDataset(f"{where}: {part!r} has a placeholder without a field name: {{{name}}}")
            if root not in fields:
                fields.append(root)
    return tuple(fields)


@dataclass(frozen=True)
class InstructionRecords:
    """JSON Lines files in one folder and an optional template.json; every record has the fields the
    template's ``prompt`` and ``completion`` name, or, without a template, ``default_fields``."""

    name: str
    source: str
    default_fields: tuple[str, ...]

    def check(self, s3: Any, location: Location) -> dict[str, Any]:
        level = list_level(s3, location)
        single_folder(level, location)
        files = _jsonl_files(level, location, (TEMPLATE,), f"the folder holds .jsonl files and an optional {TEMPLATE}")
        template_key = f"{location.prefix}{TEMPLATE}"
        if template_key in level.files:
            fields = template_fields(read_document(s3, location, template_key), location.key_uri(template_key))
            why = f"which {TEMPLATE} names"
        else:
            fields, why = self.default_fields, f"which the default template needs when there is no {TEMPLATE}"
        budget = Budget()
        records = 0
        for where, line, record in _records(s3, location, files, budget):
            records += 1
            if not isinstance(record, dict):
                raise InvalidDataset(
                    f"{where} line {line}: a record must be a JSON object, got {type(record).__name__}"
                )
            missing = [f for f in fields if f not in record]
            if missing:
                raise InvalidDataset(f"{where} line {line}: the record has no {', '.join(map(repr, missing))}, {why}")
        if records == 0:
            raise InvalidDataset(f"{location.uri}: the .jsonl files hold no record")
        return {
            "Records": records,
            "Files": len(files),
            "Fields": list(fields),
            "Template": template_key in level.files,
            "Sampled": budget.exhausted or level.truncated,
        }


@dataclass(frozen=True)
class ChatRecords:
    """JSON Lines records, each a conversation under one of ``CHAT_KEYS``: a list of
    ``{"role", "content"}`` messages, an optional ``system`` first, then ``user`` and ``assistant``
    alternating from ``user``."""

    name: str
    source: str

    def check(self, s3: Any, location: Location) -> dict[str, Any]:
        level = list_level(s3, location)
        single_folder(level, location)
        hint = (
            f"a chat dataset is .jsonl files only ({TEMPLATE} is read for instruction tuning, instruction_tuned True)"
        )
        files = _jsonl_files(level, location, (), hint)
        budget = Budget()
        records = messages = 0
        for where, line, record in _records(s3, location, files, budget):
            records += 1
            messages += self._conversation(record, f"{where} line {line}")
        if records == 0:
            raise InvalidDataset(f"{location.uri}: the .jsonl files hold no conversation")
        return {
            "Conversations": records,
            "Messages": messages,
            "Files": len(files),
            "Sampled": budget.exhausted or level.truncated,
        }

    def _conversation(self, record: Any, where: str) -> int:
        keys = [k for k in CHAT_KEYS if isinstance(record, dict) and k in record]
        if len(keys) != 1:
            raise InvalidDataset(
                f"{where}: a record must be a JSON object holding its messages under exactly one of "
                f"{', '.join(CHAT_KEYS)}"
            )
        turns = record[keys[0]]
        if not isinstance(turns, list) or not turns:
            raise InvalidDataset(f"{where}: {keys[0]!r} must be a non-empty list of messages")
        expected: tuple[str, ...] = ("system", "user")
        seen: set[str] = set()
        for number, message in enumerate(turns, 1):
            if not isinstance(message, dict) or not isinstance(message.get("content"), str):
                raise InvalidDataset(f"{where}: message {number} must be an object with a role and a string content")
            role = message.get("role")
            if role not in expected:
                order = "an optional system message, then user and assistant alternating from user"
                wanted = " or ".join(repr(r) for r in expected)
                raise InvalidDataset(f"{where}: message {number} has role {role!r} where {wanted} belongs ({order})")
            seen.add(role)
            expected = ("assistant",) if role == "user" else ("user",)
        if "assistant" not in seen:
            raise InvalidDataset(f"{where}: the conversation has no assistant message to learn from")
        return len(turns)
