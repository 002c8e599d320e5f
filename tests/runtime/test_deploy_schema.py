"""The published deploy JSON Schema and the first state's validator agree on the contract's shape."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.runtime.test_tune_input import POLICY as TUNE_POLICY
from tests.runtime.test_tune_schema import SCHEMA as TUNE_SCHEMA
from tests.runtime.test_tune_schema import key_sets, only, properties
from tunestack_runtime import deploy_input
from tunestack_runtime.deploy_input import validate_deploy_input
from tunestack_runtime.errors import InvalidInput, TunestackError

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tunestack_runtime" / "schemas" / "deploy.schema.json").read_text())
FINE_TUNE_SCHEMA = json.loads((ROOT / "tunestack_runtime" / "schemas" / "fine-tune.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
POLICY = dataclasses.replace(
    TUNE_POLICY, hosting_instance_types=("ml.m5.xlarge", "ml.g5.xlarge"), default_hosting_instance_type="ml.m5.xlarge"
)
BASE = {"TrainingJobName": "news-sentiment-bert", "EndpointName": "news-sentiment"}


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_properties_are_the_validators_keys() -> None:
    target = only(key_sets(deploy_input)["parse_endpoint_target"])
    assert target == deploy_input._TARGET_KEYS
    assert properties(SCHEMA) == target | set(deploy_input._SOURCES)


def test_the_nested_targets_are_the_deploy_inputs_target() -> None:
    """Fine-tune's Deploy and tune's DeployBest are the deploy input's target fields, alike."""
    target = {key: SCHEMA["properties"][key] for key in deploy_input._TARGET_KEYS}
    for nested in (FINE_TUNE_SCHEMA["properties"]["Deploy"], TUNE_SCHEMA["properties"]["DeployBest"]):
        assert nested["properties"] == target
        assert nested["required"] == SCHEMA["required"] == ["EndpointName"]


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "examples").glob("deploy*.json")))
def test_examples_satisfy_the_schema_and_the_validator(name: str) -> None:
    payload = json.loads((ROOT / "examples" / f"{name}.json").read_text())
    assert list(VALIDATOR.iter_errors(payload)) == []
    validate_deploy_input(payload, POLICY)


@pytest.mark.parametrize(
    "payload",
    [BASE, {"TuningJobName": "xgb-churn-tune-1", "EndpointName": "churn", "InstanceType": "ml.g5.xlarge"}],
    ids=["training job, defaults", "tuning job"],
)
def test_valid_inputs_are_accepted_by_both(payload: dict[str, Any]) -> None:
    validate_deploy_input(payload, POLICY)
    assert list(VALIDATOR.iter_errors(payload)) == []


REFUSED_BY_BOTH = [
    ("unknown field", {**BASE, "Colour": "blue"}),
    ("no source", {"EndpointName": "e"}),
    ("both sources", {**BASE, "TuningJobName": "t"}),
    ("endpoint missing", {"TrainingJobName": "a"}),
    ("endpoint badly named", {**BASE, "EndpointName": "news_sentiment"}),
    ("endpoint a number", {**BASE, "EndpointName": 7}),
    ("training job badly named", {**BASE, "TrainingJobName": "a_b"}),
    ("tuning job name too long", {"TuningJobName": "t" * 33, "EndpointName": "e"}),
    ("training job a list", {**BASE, "TrainingJobName": ["a"]}),
    ("instance type a number", {**BASE, "InstanceType": 5}),
    ("count zero", {**BASE, "InitialInstanceCount": 0}),
    ("count as text", {**BASE, "InitialInstanceCount": "1"}),
    ("count a boolean", {**BASE, "InitialInstanceCount": True}),
]


@pytest.mark.parametrize(("case", "payload"), REFUSED_BY_BOTH, ids=[c[0] for c in REFUSED_BY_BOTH])
def test_invalid_inputs_are_refused_by_both(case: str, payload: dict[str, Any]) -> None:
    with pytest.raises(TunestackError) as caught:
        validate_deploy_input(payload, POLICY)
    assert isinstance(caught.value, InvalidInput), caught.value
    assert list(VALIDATOR.iter_errors(payload)), f"the schema accepts {case!r}"
