"""Tune execution inputs: SageMaker's shapes pasted as they are, plus the platform's fields."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from tests.runtime.test_fine_tune_input import POLICY as FINE_TUNE_POLICY
from tests.runtime.test_tuning_config import SEED_CONFIG, SEED_STATIC
from tunestack_runtime.errors import InvalidInput, PolicyViolation
from tunestack_runtime.tune_input import validate_tune_input

POLICY = dataclasses.replace(
    FINE_TUNE_POLICY,
    training_instance_types=("ml.m5.xlarge", "ml.m5.2xlarge"),
    default_training_instance_type="ml.m5.xlarge",
    max_training_jobs_per_tuning_job=20,
    max_parallel_training_jobs=3,
)
SEED_INPUT: dict[str, Any] = {
    "TuningJobName": "xgb-churn-tune-1",
    "Algorithm": {"BuiltInAlgorithm": "xgboost", "Version": "1.7-1"},
    "TrainingData": {"train": "datasets/churn/train/", "validation": "datasets/churn/validation/"},
    "StaticHyperParameters": SEED_STATIC,
    "HyperParameterTuningJobConfig": SEED_CONFIG,
    "InstanceType": "ml.m5.xlarge",
    "InstanceCount": 1,
    "MaxRuntimeInSeconds": 3600,
}


def changed(**fields: Any) -> dict[str, Any]:
    payload = copy.deepcopy(SEED_INPUT)
    for key, value in fields.items():
        if value is ...:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def test_the_documented_example_validates_with_its_config_unchanged() -> None:
    request = validate_tune_input(SEED_INPUT, POLICY)
    assert request.tuning_job_name == "xgb-churn-tune-1"
    assert request.training_data == {
        "train": "s3://nlp-data-bucket/datasets/churn/train/",
        "validation": "s3://nlp-data-bucket/datasets/churn/validation/",
    }
    assert request.config is not None and request.config.raw == SEED_CONFIG
    assert request.static_hyperparameters == SEED_STATIC and request.warm_start is None


def test_name_and_instance_defaults_are_filled_in() -> None:
    request = validate_tune_input(changed(TuningJobName=..., InstanceType=..., TrainingData="datasets/churn/"), POLICY)
    assert request.tuning_job_name is None and request.instance_type == "ml.m5.xlarge"
    assert request.training_data == "s3://nlp-data-bucket/datasets/churn/"


def test_copy_settings_from_a_parent_may_leave_the_config_out() -> None:
    request = validate_tune_input(
        changed(HyperParameterTuningJobConfig=..., CopySettingsFrom="xgb-churn-tune-0"), POLICY
    )
    assert request.config is None and request.copy_settings_from == "xgb-churn-tune-0"


def test_warm_start_in_sdk_spelling() -> None:
    warm = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "xgb-churn-tune-0"}],
        "WarmStartType": "IDENTICAL_DATA_AND_ALGORITHM",
    }
    request = validate_tune_input(changed(WarmStartConfig=warm), POLICY)
    assert request.warm_start is not None and request.warm_start.type == "IdenticalDataAndAlgorithm"


INVALID = [
    ("unknown key", {"Epochs": 3}, r"\$\.Epochs: unknown field"),
    ("name too long", {"TuningJobName": "x" * 33}, r"\$\.TuningJobName: 1-32 letters"),
    ("name with underscore", {"TuningJobName": "xgb_tune"}, r"\$\.TuningJobName"),
    ("copy-from badly named", {"CopySettingsFrom": "x" * 40}, r"\$\.CopySettingsFrom: 1-32 letters"),
    ("config missing", {"HyperParameterTuningJobConfig": ...}, r"\$\.HyperParameterTuningJobConfig: required"),
    ("training data missing", {"TrainingData": ...}, r"\$\.TrainingData: required"),
    (
        "bad channel name",
        {"TrainingData": {"train data": "datasets/a/"}},
        r'\$\.TrainingData\["train data"\]: channel names',
    ),
    (
        "channel escapes the bucket prefix",
        {"TrainingData": {"train": "../x/"}},
        r"\$\.TrainingData\.train: the key prefix",
    ),
    (
        "static value not a string",
        {"StaticHyperParameters": {"num_round": 100}},
        r"\$\.StaticHyperParameters\.num_round: values are strings",
    ),
    (
        "tuned name also static",
        {"StaticHyperParameters": {**SEED_STATIC, "eta": "0.1"}},
        r"\$\.StaticHyperParameters\.eta: also tuned",
    ),
    (
        "objective the built-in does not emit",
        {
            "HyperParameterTuningJobConfig": {
                **SEED_CONFIG,
                "HyperParameterTuningJobObjective": {"MetricName": "validation:precision", "Type": "Maximize"},
            }
        },
        r"not a metric the algorithm emits",
    ),
    (
        "custom image objective not among its metrics",
        {
            "Algorithm": {
                "TrainingImage": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/t:1",
                "MetricDefinitions": [{"Name": "val:loss", "Regex": "loss=([0-9.]+)"}],
            }
        },
        r"'validation:auc' is not a metric the algorithm emits \(val:loss\)",
    ),
    (
        "warm start with six parents",
        {
            "WarmStartConfig": {
                "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": f"p{i}"} for i in range(6)],
                "WarmStartType": "TransferLearning",
            }
        },
        r"at most 5 parents, got 6",
    ),
    (
        "deploy best without a name",
        {"DeployBest": {"InstanceType": "ml.m5.large"}},
        r"\$\.DeployBest\.EndpointName: required",
    ),
    ("spot as text", {"UseSpotInstances": "yes"}, r"\$\.UseSpotInstances: must be true or false"),
]


@pytest.mark.parametrize(("case", "fields", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_each_invalid_tune_input_names_its_path(case: str, fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_tune_input(changed(**fields), POLICY)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"InstanceType": "ml.p3.2xlarge"}, r"\$\.InstanceType: 'ml\.p3\.2xlarge' is not allowed"),
        (
            {
                "HyperParameterTuningJobConfig": {
                    **SEED_CONFIG,
                    "ResourceLimits": {"MaxNumberOfTrainingJobs": 21, "MaxParallelTrainingJobs": 3},
                }
            },
            r"MaxNumberOfTrainingJobs: 21 exceeds the team's limit of 20",
        ),
        ({"InstanceCount": 3}, r"\$\.InstanceCount: 3 exceeds the team's limit of 2"),
    ],
)
def test_team_limits_are_policy_violations(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyViolation, match=message):
        validate_tune_input(changed(**fields), POLICY)


# The objectives AWS documents for the built-in algorithms: "Tune an XGBoost Model" and "Tune an
# Image Classification Model" in the SageMaker developer guide. Written out here rather than read
# from the runtime's table, so that a table that loses one fails.
DOCUMENTED_OBJECTIVES = {
    "xgboost": [
        ("validation:accuracy", "Maximize"),
        ("validation:auc", "Maximize"),
        ("validation:error", "Minimize"),
        ("validation:f1", "Maximize"),
        ("validation:logloss", "Minimize"),
        ("validation:mae", "Minimize"),
        ("validation:map", "Maximize"),
        ("validation:merror", "Minimize"),
        ("validation:mlogloss", "Minimize"),
        ("validation:mse", "Minimize"),
        ("validation:ndcg", "Maximize"),
        ("validation:rmse", "Minimize"),
    ],
    "image-classification": [("validation:accuracy", "Maximize")],
}


@pytest.mark.parametrize(
    ("algorithm", "metric", "direction"),
    [(a, m, d) for a, objectives in DOCUMENTED_OBJECTIVES.items() for m, d in objectives],
)
def test_every_documented_built_in_objective_is_accepted(algorithm: str, metric: str, direction: str) -> None:
    payload = {
        **SEED_INPUT,
        "Algorithm": {"BuiltInAlgorithm": algorithm, **({"Version": "1.7-1"} if algorithm == "xgboost" else {})},
        "HyperParameterTuningJobConfig": {
            **SEED_CONFIG,
            "HyperParameterTuningJobObjective": {"MetricName": metric, "Type": direction},
        },
    }
    request = validate_tune_input(payload, POLICY)
    assert request.config is not None and request.config.objective_metric == metric


@pytest.mark.parametrize("name", ["sagemaker_submit_directory", "sagemaker_program", "sagemaker_region"])
def test_container_hyperparameters_can_be_neither_tuned_nor_static(name: str) -> None:
    tuned = {
        **SEED_INPUT,
        "HyperParameterTuningJobConfig": {
            **SEED_CONFIG,
            "ParameterRanges": {
                **SEED_CONFIG["ParameterRanges"],
                "CategoricalParameterRanges": [{"Name": name, "Values": ["s3://attacker/sourcedir.tar.gz"]}],
            },
        },
    }
    with pytest.raises(PolicyViolation, match=rf"CategoricalParameterRanges\[0\] \({name}\): set by the platform"):
        validate_tune_input(tuned, POLICY)
    static = {**SEED_INPUT, "StaticHyperParameters": {**SEED_STATIC, name: "x"}}
    with pytest.raises(PolicyViolation, match=rf"\$\.StaticHyperParameters\.{name}: set by the platform"):
        validate_tune_input(static, POLICY)
