"""Properties of the three input validators, over mutations of valid inputs (hypothesis), and
SageMaker's limits tested at their edges.

A mutated input either validates, or fails with InvalidInput / PolicyViolation whose every line
names a JSON path; it never crashes with another error; and what validates never carries a value
outside SageMaker's limits into a create call.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.runtime.test_fine_tune_input import POLICY as FINE_TUNE_POLICY
from tests.runtime.test_fine_tune_input import VALID_WITH_DEPLOY
from tests.runtime.test_tune_input import POLICY as TUNE_POLICY
from tests.runtime.test_tune_input import SEED_INPUT
from tunestack_runtime.builtin_algorithms import image_uri
from tunestack_runtime.deploy_input import validate_deploy_input
from tunestack_runtime.errors import InvalidInput, PolicyViolation
from tunestack_runtime.executions import Execution
from tunestack_runtime.fine_tune_input import validate_fine_tune_input
from tunestack_runtime.training_job import TrainingRecipe, create_request, create_tuning_request
from tunestack_runtime.tune_input import validate_tune_input

SAGEMAKER_MAX_RUNTIME = 28 * 24 * 3600
NAME_63 = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
NAME_32 = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}")
VISION = dataclasses.replace(FINE_TUNE_POLICY, max_runtime_in_seconds=SAGEMAKER_MAX_RUNTIME)
DEPLOY = {"TuningJobName": "xgb-churn-tune-1", "EndpointName": "churn", "InstanceType": "ml.m5.xlarge"}
VALIDATORS = {
    "fine-tune": (validate_fine_tune_input, FINE_TUNE_POLICY, VALID_WITH_DEPLOY),
    "tune": (validate_tune_input, TUNE_POLICY, SEED_INPUT),
    "deploy": (validate_deploy_input, FINE_TUNE_POLICY, DEPLOY),
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=8,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document: keys of objects and indices of lists."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    payload = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        places = paths(payload)
        if not places:
            break
        *parents, last = draw(st.sampled_from(places))
        target: Any = payload
        for part in parents:
            target = target[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            target[last] = draw(json_values)
        elif action == "delete":
            del target[last]
        elif isinstance(target, dict):
            target[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
    return payload


def check_named(error: Exception) -> None:
    lines = str(error).splitlines()
    assert lines and all(line.startswith("$") for line in lines), str(error)


def check_training_limits(params: dict[str, Any]) -> None:
    stopping = params["StoppingCondition"]
    assert 1 <= stopping["MaxRuntimeInSeconds"] <= SAGEMAKER_MAX_RUNTIME
    assert stopping.get("MaxWaitTimeInSeconds", SAGEMAKER_MAX_RUNTIME) <= SAGEMAKER_MAX_RUNTIME
    assert params["ResourceConfig"]["InstanceCount"] >= 1
    hyperparameters = params.get("HyperParameters") or params.get("StaticHyperParameters") or {}
    assert len(hyperparameters) <= 100
    assert all(len(k) <= 256 and isinstance(v, str) and len(v) <= 2500 for k, v in hyperparameters.items())


def built_in(name: str) -> TrainingRecipe:
    return TrainingRecipe(parent_model=f"{name}:1", image=image_uri(name, "1.7-1", "eu-west-1"), channels={})


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_fine_tune_input_validates_or_names_a_field(data: st.DataObject) -> None:
    payload = data.draw(mutated(VALID_WITH_DEPLOY))
    try:
        request = validate_fine_tune_input(payload, FINE_TUNE_POLICY)
    except (InvalidInput, PolicyViolation) as error:
        check_named(error)
        return
    assert NAME_63.fullmatch(request.model_name)
    recipe = dataclasses.replace(built_in("xgboost"), hyperparameters=request.hyperparameters)
    params = create_request(
        job_name=request.model_name,
        recipe=recipe,
        request=request,
        policy=FINE_TUNE_POLICY,
        execution=Execution("e", "t"),
    )
    check_training_limits(params)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_tune_input_validates_or_names_a_field(data: st.DataObject) -> None:
    payload = data.draw(mutated(SEED_INPUT))
    try:
        request = validate_tune_input(payload, TUNE_POLICY)
    except (InvalidInput, PolicyViolation) as error:
        check_named(error)
        return
    assert request.tuning_job_name is None or NAME_32.fullmatch(request.tuning_job_name)
    if request.config is None:
        return  # CopySettingsFrom: the parent fills it at the first state
    limits = request.config.raw["ResourceLimits"]
    assert 1 <= limits["MaxParallelTrainingJobs"] <= TUNE_POLICY.max_parallel_training_jobs
    assert limits.get("MaxNumberOfTrainingJobs", 1) <= TUNE_POLICY.max_training_jobs_per_tuning_job
    assert len(request.config.ranges) <= 30
    assert all(len(r.values) <= 30 for r in request.config.ranges)
    recipe = dataclasses.replace(built_in("xgboost"), hyperparameters=request.static_hyperparameters)
    params = create_tuning_request(
        tuning_job_name="t",
        recipe=recipe,
        resources=request,
        policy=TUNE_POLICY,
        execution=Execution("e", "t"),
        config=request.config.raw,
    )
    check_training_limits(params["TrainingJobDefinition"])


@settings(max_examples=250, deadline=None)
@given(data=st.data())
def test_a_mutated_deploy_input_validates_or_names_a_field(data: st.DataObject) -> None:
    payload = data.draw(mutated(DEPLOY))
    try:
        request = validate_deploy_input(payload, FINE_TUNE_POLICY)
    except (InvalidInput, PolicyViolation) as error:
        check_named(error)
        return
    assert NAME_63.fullmatch(request.target.endpoint_name)
    assert 1 <= request.target.initial_instance_count <= FINE_TUNE_POLICY.max_instance_count
    assert request.target.instance_type in FINE_TUNE_POLICY.hosting_instance_types


@pytest.mark.parametrize("kind", VALIDATORS)
@settings(max_examples=60, deadline=None)
@given(junk=json_values)
def test_any_json_at_all_is_refused_by_name_or_accepted(kind: str, junk: Any) -> None:
    validate, policy, _ = VALIDATORS[kind]
    try:
        validate(junk, policy)
    except (InvalidInput, PolicyViolation) as error:
        check_named(error)


# SageMaker's limits, each at the edge: the last value accepted and the first refused.
def tune_with(**fields: Any) -> dict[str, Any]:
    payload = copy.deepcopy(SEED_INPUT)
    payload.update(fields)
    return payload


def categorical(count: int) -> dict[str, Any]:
    config = copy.deepcopy(SEED_INPUT["HyperParameterTuningJobConfig"])
    config["ParameterRanges"]["CategoricalParameterRanges"] = [
        {"Name": "booster", "Values": [f"v{i}" for i in range(count)]}
    ]
    return config


def parents(count: int) -> dict[str, Any]:
    return {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": f"parent-{i}"} for i in range(count)],
        "WarmStartType": "TransferLearning",
    }


EDGES = [
    ("tuning job name", lambda n: tune_with(TuningJobName="t" * n), 32, r"\$\.TuningJobName: 1-32"),
    ("warm-start parents", lambda n: tune_with(WarmStartConfig=parents(n)), 5, r"at most 5 parents, got 6"),
    ("categorical values", lambda n: tune_with(HyperParameterTuningJobConfig=categorical(n)), 30, r"1 to 30 values"),
    (
        "static hyperparameters",
        lambda n: tune_with(StaticHyperParameters={f"h{i}": "1" for i in range(n)}),
        100,
        r"at most 100 hyperparameters, got 101",
    ),
]


@pytest.mark.parametrize(("case", "build", "limit", "message"), EDGES, ids=[e[0] for e in EDGES])
def test_limits_at_the_edge(case: str, build: Any, limit: int, message: str) -> None:
    validate_tune_input(build(limit), TUNE_POLICY)
    with pytest.raises(InvalidInput, match=message):
        validate_tune_input(build(limit + 1), TUNE_POLICY)


def test_28_days_is_the_longest_run() -> None:
    payload = {**VALID_WITH_DEPLOY, "MaxRuntimeInSeconds": SAGEMAKER_MAX_RUNTIME, "UseSpotInstances": False}
    assert validate_fine_tune_input(payload, VISION).max_runtime_in_seconds == SAGEMAKER_MAX_RUNTIME
    with pytest.raises(PolicyViolation, match=r"\$\.MaxRuntimeInSeconds: 2419201 exceeds the team's limit"):
        validate_fine_tune_input({**payload, "MaxRuntimeInSeconds": SAGEMAKER_MAX_RUNTIME + 1}, VISION)


def test_the_model_name_at_63_and_64_characters() -> None:
    validate_fine_tune_input({**VALID_WITH_DEPLOY, "ModelName": "m" * 63}, FINE_TUNE_POLICY)
    with pytest.raises(InvalidInput, match=r"\$\.ModelName: 1-63 letters"):
        validate_fine_tune_input({**VALID_WITH_DEPLOY, "ModelName": "m" * 64}, FINE_TUNE_POLICY)
