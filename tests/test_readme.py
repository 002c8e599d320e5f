"""The README stays true to the code: its input reference names every field the JSON Schemas
define, its troubleshooting table every error an execution can end with, its paths exist and its
``tunestack validate`` examples are valid for the team they name."""

from __future__ import annotations

import ast
import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tunestack.cli.main import main as tunestack_command
from tunestack_runtime import errors, sagemaker_errors

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SCHEMAS = ROOT / "tunestack_runtime" / "schemas"


def section(heading: str) -> str:
    """The README's text under ``heading`` (a whole heading line), up to the next heading of the
    same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = README.index(f"\n{heading}\n")
    following = re.compile(rf"^#{{1,{level}}} ", re.M)
    found = following.search(README, start + len(heading) + 2)
    return README[start : found.start() if found else len(README)]


def property_names(schema: Any) -> Iterator[str]:
    """Every property name a schema defines, at every depth (branches of oneOf / if / then too)."""
    if isinstance(schema, dict):
        for name, child in schema.get("properties", {}).items():
            yield name
            yield from property_names(child)
        for key, child in schema.items():
            if key != "properties":
                yield from property_names(child)
    elif isinstance(schema, list):
        for child in schema:
            yield from property_names(child)


def code_names(text: str) -> set[str]:
    """Names written as code: a whole code span, or a quoted key inside one (``{"Name", "Regex"}``)."""
    spans = re.findall(r"`([^`]+)`", text)
    return set(spans) | {key for span in spans for key in re.findall(r'"([A-Za-z]+)"', span)}


@pytest.mark.parametrize(
    ("schema", "heading"),
    [
        ("fine-tune", "### Fine-tune input"),
        ("tune", "### Tune input"),
        ("deploy", "### Deploy input"),
    ],
)
def test_the_reference_names_every_property_of_the_schema(schema: str, heading: str) -> None:
    """Top-level fields in their input's table; nested ones anywhere in the reference (tune's
    ``Algorithm`` is described once, under fine-tune)."""
    loaded = json.loads((SCHEMAS / f"{schema}.schema.json").read_text())
    top_missing = sorted(set(loaded["properties"]) - code_names(section(heading)))
    assert top_missing == [], f"{heading} does not name {top_missing}"
    nested_missing = sorted(set(property_names(loaded)) - code_names(section("## Reference: input fields")))
    assert nested_missing == [], f"the reference does not name {nested_missing}"


def _error_classes() -> set[str]:
    """Error classes an execution can end with: those of errors.py and sagemaker_errors.py, less
    the bases other errors derive from (never raised as themselves)."""
    classes = [
        c
        for module in (errors, sagemaker_errors)
        for c in vars(module).values()
        if inspect.isclass(c) and issubclass(c, Exception) and c.__module__ == module.__name__
    ]
    bases = {base for c in classes for base in c.__mro__[1:]}
    return {c.__name__ for c in classes if c not in bases}


def _pipeline_error_names() -> set[str]:
    """The error names the state machines' Retry and Catch name (read from the constructs' source,
    without starting the CDK) and those a state sets itself (``{"Error": "DeployFailed", ...}``)."""
    constructs = ROOT / "tunestack" / "constructs"
    names: set[str] = set()
    for node in ast.parse((constructs / "pipeline_parts.py").read_text()).body:
        target = node.targets[0] if isinstance(node, ast.Assign) else None
        if isinstance(target, ast.Name) and target.id in {"TRANSIENT_ERRORS", "QUOTA_IN_USE", "INPUT_ERRORS"}:
            value = ast.literal_eval(node.value)  # type: ignore[union-attr]
            names |= {value} if isinstance(value, str) else set(value)
    for path in constructs.glob("*_pipeline.py"):
        names |= set(re.findall(r'"Error": "([A-Za-z.]+)"', path.read_text()))
    return names


def test_the_error_sources_are_read() -> None:
    assert {"InvalidInput", "TrainingJobFailed", "ResourceLimitExceeded"} <= _error_classes()
    assert {"TunestackError", "TransientError"}.isdisjoint(_error_classes())
    assert {"SageMakerThrottled", "SageMakerQuotaInUse", "Lambda.TooManyRequestsException", "DeployFailed"} <= (
        _pipeline_error_names()
    )


def test_every_error_has_a_troubleshooting_entry() -> None:
    rows = [line for line in section("## Troubleshooting by error name").splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`([A-Za-z.]+)`", row.split(" | ")[0])}
    missing = sorted((_error_classes() | _pipeline_error_names()) - named)
    assert missing == [], f"no troubleshooting entry for {missing}"


def test_the_first_screen_gives_exactly_the_two_setup_commands() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines() if line.strip()]
    assert commands == ["make synth", "make test"]
    assert README.index("```bash") < README.index("## Contents")


_PATH = re.compile(r"`((?:tunestack_runtime|tunestack|tests|examples|tools|benchmarks|docs)/[^`\s]*)`")


def test_the_paths_it_names_exist() -> None:
    named = {m.split(" ")[0].rstrip(".,") for m in _PATH.findall(README)}
    concrete = {p for p in named if not re.search(r"[<*]|\.\.\.", p)}
    assert len(concrete) > 20
    missing = sorted(p for p in concrete if not (ROOT / p).exists())
    assert missing == []
    assert "lambdas/" not in README and "tunestack_constructs" not in README


_VALIDATE = re.compile(r"tunestack validate (fine-tune|tune|deploy) (examples/\S+\.json)( \[?--team (\w+)\]?)?")


def test_every_validate_example_is_valid_for_its_team(monkeypatch: pytest.MonkeyPatch) -> None:
    examples = _VALIDATE.findall(README)
    assert len(examples) >= 3
    monkeypatch.chdir(ROOT)
    for kind, path, _, team in examples:
        argv = ["validate", kind, path, *(["--team", team] if team else [])]
        assert tunestack_command(argv) == 0, f"README: tunestack {' '.join(argv)} is not valid"
