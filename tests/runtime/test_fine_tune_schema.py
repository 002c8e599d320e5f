"""The published JSON Schema and the first state's validator agree on the contract's shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.runtime.test_fine_tune_input import DEPLOY_CASES, INVALID, POLICY, VALID, VALID_WITH_DEPLOY, mutate
from tunestack_runtime.errors import InvalidInput, TunestackError
from tunestack_runtime.fine_tune_input import validate_fine_tune_input

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tunestack_runtime" / "schemas" / "fine-tune.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

# Rules beyond a schema's reach: a metric regex that does not compile, duplicate metric names,
# an http URL or a '..' in a key prefix.
SEMANTIC_ONLY = {
    "metric with bad regex",
    "duplicate metric names",
    "training data over http",
    "training data escapes the prefix",
    "absolute training data key",
    "s3 uri without a bucket",
    "s3 uri with an invalid bucket",
}


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "examples").glob("fine-tune-*.json")))
def test_examples_satisfy_the_schema_and_the_validator(name: str) -> None:
    payload = json.loads((ROOT / "examples" / f"{name}.json").read_text())
    assert list(VALIDATOR.iter_errors(payload)) == []
    validate_fine_tune_input(
        payload,
        POLICY.__class__(
            **{
                **POLICY.__dict__,
                "training_instance_types": (payload.get("InstanceType", POLICY.default_training_instance_type),),
                "max_runtime_in_seconds": 2419200,
            }
        ),
    )


def test_the_valid_test_input_satisfies_the_schema() -> None:
    assert list(VALIDATOR.iter_errors(VALID)) == []


@pytest.mark.parametrize(("case", "path", "value", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_shape_errors_are_schema_errors_too(case: str, path: str | None, value: Any, message: str) -> None:
    payload = json.loads(value) if path is None else mutate(path, value)
    with pytest.raises(TunestackError) as caught:
        validate_fine_tune_input(payload, POLICY)
    assert isinstance(caught.value, InvalidInput)
    schema_errors = list(VALIDATOR.iter_errors(payload))
    if case in SEMANTIC_ONLY:
        assert schema_errors == []
    else:
        assert schema_errors, f"the schema accepts {case!r}"


def test_property_names_are_the_validators_keys() -> None:
    from tests.runtime.test_tune_schema import algorithm_forms, key_sets, metric_definition_keys, only, properties
    from tunestack_runtime import deploy_input, fine_tune_input, input_fields

    assert properties(SCHEMA) == set(only(key_sets(fine_tune_input)["validate_fine_tune_input"]))
    algorithm = SCHEMA["properties"]["Algorithm"]
    assert algorithm_forms(algorithm) == sorted(map(set, input_fields._ALGORITHM_FORMS.values()), key=sorted)
    assert metric_definition_keys(algorithm) == only(key_sets(input_fields)["parse_metric_definitions"])
    assert properties(SCHEMA["properties"]["Deploy"]) == only(key_sets(deploy_input)["parse_endpoint_target"])


def test_a_deploy_request_satisfies_the_schema() -> None:
    assert list(VALIDATOR.iter_errors(VALID_WITH_DEPLOY)) == []


@pytest.mark.parametrize(("case", "path", "value", "message"), DEPLOY_CASES, ids=[c[0] for c in DEPLOY_CASES])
def test_deploy_shape_errors_are_schema_errors_too(case: str, path: str, value: Any, message: str) -> None:
    payload = mutate(path, value, VALID_WITH_DEPLOY)
    with pytest.raises(TunestackError) as caught:
        validate_fine_tune_input(payload, POLICY)
    if isinstance(caught.value, InvalidInput):
        assert list(VALIDATOR.iter_errors(payload)), f"the schema accepts {case!r}"
    else:  # a team limit: the schema knows no team
        assert list(VALIDATOR.iter_errors(payload)) == []
