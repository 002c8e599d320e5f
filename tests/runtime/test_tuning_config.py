"""HyperParameterTuningJobConfig and WarmStartConfig, validated as SageMaker defines them."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tunestack_runtime.builtin_algorithms import METRICS
from tunestack_runtime.tuning_config import (
    TuningConfigError,
    parse_warm_start,
    validate_tuning_config,
    validate_tuning_job_name,
)

# The XGBoost example of SageMaker's tuning documentation, unchanged.
SEED_CONFIG: dict[str, Any] = {
    "ParameterRanges": {
        "CategoricalParameterRanges": [],
        "ContinuousParameterRanges": [
            {"MaxValue": "1", "MinValue": "0", "Name": "eta"},
            {"MaxValue": "2", "MinValue": "0", "Name": "alpha"},
            {"MaxValue": "10", "MinValue": "1", "Name": "min_child_weight"},
        ],
        "IntegerParameterRanges": [{"MaxValue": "10", "MinValue": "1", "Name": "max_depth"}],
    },
    "ResourceLimits": {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 3},
    "Strategy": "Bayesian",
    "HyperParameterTuningJobObjective": {"MetricName": "validation:auc", "Type": "Maximize"},
    "RandomSeed": 123,
}
SEED_STATIC = {
    "eval_metric": "auc",
    "num_round": "100",
    "objective": "binary:logistic",
    "rate_drop": "0.3",
    "tweedie_variance_power": "1.4",
}
LIMITS = {"max_training_jobs": 50, "max_parallel_jobs": 4}


def validate(config: Any, static: dict[str, Any] | None = None, metrics: Any = METRICS["xgboost"]) -> Any:
    return validate_tuning_config(
        config, static_hyperparameters=SEED_STATIC if static is None else static, metric_names=metrics, **LIMITS
    )


def with_change(path: str, value: Any) -> dict[str, Any]:
    config = copy.deepcopy(SEED_CONFIG)
    *parents, last = path.split(".")
    target: Any = config
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is ...:
        del target[int(last) if last.isdigit() else last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return config


def test_the_documented_xgboost_example_validates_unchanged() -> None:
    config = validate(SEED_CONFIG)
    assert [(r.kind, r.name) for r in config.ranges] == [
        ("Integer", "max_depth"),
        ("Continuous", "eta"),
        ("Continuous", "alpha"),
        ("Continuous", "min_child_weight"),
    ]
    assert (config.strategy, config.objective_metric, config.objective_type) == (
        "Bayesian",
        "validation:auc",
        "Maximize",
    )
    assert (config.max_training_jobs, config.max_parallel_jobs, config.random_seed) == (20, 3, 123)
    assert config.raw is SEED_CONFIG


CR = "ParameterRanges.ContinuousParameterRanges"
IR = "ParameterRanges.IntegerParameterRanges"
CAT = "ParameterRanges.CategoricalParameterRanges"
P = r"\$\.HyperParameterTuningJobConfig"

INVALID = [
    ("not an object", None, "[]", rf"{P}: required"),
    ("unknown config key", "Colour", "blue", rf"{P}\.Colour: unknown field"),
    ("min above max", f"{CR}.0", {"Name": "eta", "MinValue": "2", "MaxValue": "1"}, r"\(eta\): MinValue 2 is greater"),
    (
        "non-numeric bound",
        f"{CR}.0",
        {"Name": "eta", "MinValue": "low", "MaxValue": "1"},
        r"\(eta\)\.MinValue: required, a number",
    ),
    ("missing bound", f"{CR}.0", {"Name": "eta", "MinValue": "0"}, r"\(eta\)\.MaxValue: required"),
    ("infinite bound", f"{CR}.0", {"Name": "eta", "MinValue": "0", "MaxValue": "inf"}, r"\(eta\)\.MaxValue"),
    (
        "fractional integer bound",
        f"{IR}.0",
        {"Name": "max_depth", "MinValue": "1.5", "MaxValue": "10"},
        r"\(max_depth\)\.MinValue: an integer range needs whole bounds",
    ),
    (
        "logarithmic from zero",
        f"{CR}.0",
        {"Name": "eta", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"},
        r"\(eta\)\.ScalingType: Logarithmic needs bounds above 0",
    ),
    (
        "logarithmic negative",
        f"{IR}.0",
        {"Name": "max_depth", "MinValue": "-1", "MaxValue": "10", "ScalingType": "Logarithmic"},
        r"Logarithmic needs bounds above 0",
    ),
    (
        "reverse log on integers",
        f"{IR}.0",
        {"Name": "max_depth", "MinValue": "1", "MaxValue": "10", "ScalingType": "ReverseLogarithmic"},
        r"\(max_depth\)\.ScalingType: ReverseLogarithmic applies to continuous ranges only",
    ),
    (
        "reverse log reaching 1",
        f"{CR}.0",
        {"Name": "eta", "MinValue": "0", "MaxValue": "1", "ScalingType": "ReverseLogarithmic"},
        r"ReverseLogarithmic needs bounds within \[0, 1\)",
    ),
    (
        "reverse log below 0",
        f"{CR}.0",
        {"Name": "eta", "MinValue": "-0.1", "MaxValue": "0.5", "ScalingType": "ReverseLogarithmic"},
        r"within \[0, 1\)",
    ),
    (
        "unknown scaling",
        f"{CR}.0",
        {"Name": "eta", "MinValue": "0", "MaxValue": "1", "ScalingType": "Exponential"},
        r"\(eta\)\.ScalingType: one of",
    ),
    (
        "scaling on categorical",
        f"{CAT}",
        [{"Name": "booster", "Values": ["gbtree", "dart"], "ScalingType": "Linear"}],
        r"\(booster\)\.ScalingType: not allowed on a categorical range",
    ),
    (
        "empty categorical values",
        f"{CAT}",
        [{"Name": "booster", "Values": []}],
        r"\(booster\)\.Values: 1 to 30 values, got 0",
    ),
    (
        "31 categorical values",
        f"{CAT}",
        [{"Name": "booster", "Values": [f"v{i}" for i in range(31)]}],
        r"\(booster\)\.Values: 1 to 30 values, got 31",
    ),
    (
        "numeric categorical values",
        f"{CAT}",
        [{"Name": "booster", "Values": [1, 2]}],
        r"\(booster\)\.Values: a list of strings",
    ),
    ("repeated categorical value", f"{CAT}", [{"Name": "booster", "Values": ["dart", "dart"]}], r"lists a value twice"),
    (
        "31 ranges",
        f"{CAT}",
        [{"Name": f"p{i}", "Values": ["a"]} for i in range(27)],
        r"ParameterRanges: at most 30 hyperparameters can be tuned, got 31",
    ),
    ("no ranges", "ParameterRanges", {"ContinuousParameterRanges": []}, r"ParameterRanges: name at least one"),
    ("ranges missing", "ParameterRanges", ..., r"ParameterRanges: required"),
    (
        "duplicate names",
        f"{CR}.1",
        {"Name": "eta", "MinValue": "0", "MaxValue": "1"},
        r"\(eta\): the name is also tuned at",
    ),
    (
        "duplicate across kinds",
        f"{CAT}",
        [{"Name": "max_depth", "Values": ["3"]}],
        r"\(max_depth\): the name is also tuned",
    ),
    (
        "range without a name",
        f"{CR}.0",
        {"MinValue": "0", "MaxValue": "1"},
        r"ContinuousParameterRanges\[0\]: an object with a Name",
    ),
    (
        "unknown range key",
        f"{CR}.0",
        {"Name": "eta", "MinValue": "0", "MaxValue": "1", "Step": "0.1"},
        r"\(eta\)\.Step: unknown field",
    ),
    (
        "unknown range kind",
        "ParameterRanges.FloatParameterRanges",
        [],
        r"ParameterRanges\.FloatParameterRanges: unknown field",
    ),
    ("grid with continuous", "Strategy", "Grid", r"\(eta\): the Grid strategy takes categorical ranges only"),
    ("unknown strategy", "Strategy", "Genetic", rf"{P}\.Strategy: one of"),
    ("strategy missing", "Strategy", ..., rf"{P}\.Strategy: required"),
    ("unknown objective type", "HyperParameterTuningJobObjective.Type", "Maximise", r"Objective\.Type: one of"),
    ("objective missing", "HyperParameterTuningJobObjective", ..., r"HyperParameterTuningJobObjective: required"),
    (
        "objective not emitted",
        "HyperParameterTuningJobObjective.MetricName",
        "validation:precision",
        r"'validation:precision' is not a metric the algorithm emits",
    ),
    (
        "zero training jobs",
        "ResourceLimits.MaxNumberOfTrainingJobs",
        0,
        r"ResourceLimits\.MaxNumberOfTrainingJobs: a positive integer",
    ),
    ("zero parallel jobs", "ResourceLimits.MaxParallelTrainingJobs", 0, r"MaxParallelTrainingJobs: a positive integer"),
    (
        "parallel above total",
        "ResourceLimits",
        {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 3},
        r"MaxParallelTrainingJobs: 3 exceeds MaxNumberOfTrainingJobs 2",
    ),
    ("limits missing", "ResourceLimits", ..., r"ResourceLimits: required"),
    ("unknown limit", "ResourceLimits.MaxCost", 5, r"ResourceLimits\.MaxCost: unknown field"),
    ("fractional seed", "RandomSeed", 1.5, r"RandomSeed: a non-negative integer"),
    ("unknown early stopping", "TrainingJobEarlyStoppingType", "Sometimes", r"TrainingJobEarlyStoppingType: one of"),
]


@pytest.mark.parametrize(("case", "path", "value", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_each_rule_names_the_field_and_the_parameter(case: str, path: str | None, value: Any, message: str) -> None:
    config = json.loads(value) if path is None else with_change(path, value)
    with pytest.raises(TuningConfigError, match=message) as caught:
        validate(config)
    assert caught.value.shape and not caught.value.policy


def test_a_tuned_name_also_static_is_refused() -> None:
    with pytest.raises(TuningConfigError, match=r"\$\.StaticHyperParameters\.eta: also tuned"):
        validate(SEED_CONFIG, static={**SEED_STATIC, "eta": "0.2"})


def test_a_custom_image_needs_metric_definitions_naming_the_objective() -> None:
    with pytest.raises(
        TuningConfigError, match=r"is not a metric the algorithm emits \(none: give MetricDefinitions\)"
    ):
        validate(SEED_CONFIG, metrics=[])
    assert validate(SEED_CONFIG, metrics=["validation:auc"]).objective_metric == "validation:auc"


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (
            {"MaxNumberOfTrainingJobs": 51, "MaxParallelTrainingJobs": 3},
            r"MaxNumberOfTrainingJobs: 51 exceeds the team's limit of 50",
        ),
        (
            {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 5},
            r"MaxParallelTrainingJobs: 5 exceeds the team's limit of 4",
        ),
    ],
)
def test_limits_over_the_teams_are_policy_violations(limits: dict[str, int], message: str) -> None:
    with pytest.raises(TuningConfigError, match=message) as caught:
        validate(with_change("ResourceLimits", limits))
    assert caught.value.policy and not caught.value.shape


def test_grid_with_categorical_ranges_needs_no_job_count() -> None:
    config = {
        "ParameterRanges": {"CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}]},
        "ResourceLimits": {"MaxParallelTrainingJobs": 2},
        "Strategy": "Grid",
        "HyperParameterTuningJobObjective": {"MetricName": "validation:auc", "Type": "Maximize"},
    }
    assert validate(config).max_training_jobs is None


def test_every_problem_is_reported_together() -> None:
    config = with_change("Strategy", "Genetic")
    config["RandomSeed"] = -1
    config["ResourceLimits"] = {"MaxNumberOfTrainingJobs": 0, "MaxParallelTrainingJobs": 3}
    with pytest.raises(TuningConfigError) as caught:
        validate(config)
    assert len(caught.value.shape) == 3


def test_at_least_30_distinct_invalid_configs() -> None:
    configs = {json.dumps(with_change(p, v) if p else v, sort_keys=True, default=str) for _, p, v, _ in INVALID}
    assert len(configs) >= 30


@pytest.mark.parametrize(
    ("name", "ok"),
    [("a" * 32, True), ("a" * 33, False), ("my-tuning-1", True), ("my_tuning", False), ("-tuning", False), ("", False)],
)
def test_tuning_job_names_at_the_edge(name: str, ok: bool) -> None:
    if ok:
        assert validate_tuning_job_name(name) == name
    else:
        with pytest.raises(TuningConfigError, match=r"\$\.TuningJobName: 1-32 letters"):
            validate_tuning_job_name(name)


def parents(n: int) -> list[dict[str, str]]:
    return [{"HyperParameterTuningJobName": f"parent-{i}"} for i in range(n)]


@pytest.mark.parametrize(
    ("spelling", "meaning"),
    [
        ("IdenticalDataAndAlgorithm", "IdenticalDataAndAlgorithm"),
        ("IDENTICAL_DATA_AND_ALGORITHM", "IdenticalDataAndAlgorithm"),
        ("TransferLearning", "TransferLearning"),
        ("TRANSFER_LEARNING", "TransferLearning"),
    ],
)
def test_warm_start_types_in_api_and_sdk_spellings(spelling: str, meaning: str) -> None:
    warm = parse_warm_start({"ParentHyperParameterTuningJobs": parents(5), "WarmStartType": spelling})
    assert warm is not None and warm.type == meaning and len(warm.parents) == 5


def test_auto_warm_start_takes_no_parents() -> None:
    warm = parse_warm_start({"WarmStartType": "Auto"})
    assert warm is not None and warm.type == "Auto" and warm.parents == ()
    assert parse_warm_start(None) is None


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"ParentHyperParameterTuningJobs": parents(6), "WarmStartType": "TransferLearning"},
            r"at most 5 parents, got 6",
        ),
        (
            {"ParentHyperParameterTuningJobs": [], "WarmStartType": "TransferLearning"},
            r"TransferLearning needs 1 to 5 parents",
        ),
        ({"ParentHyperParameterTuningJobs": parents(1), "WarmStartType": "Auto"}, r"leave it out with Auto"),
        ({"ParentHyperParameterTuningJobs": parents(1), "WarmStartType": "Identical"}, r"WarmStartType: one of"),
        (
            {
                "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "x" * 33}],
                "WarmStartType": "TransferLearning",
            },
            r"\[0\]: \{'HyperParameterTuningJobName'",
        ),
        (
            {"ParentHyperParameterTuningJobs": parents(1) * 2, "WarmStartType": "TransferLearning"},
            r"\[1\]: parent-0 is listed twice",
        ),
        ({"WarmStartType": "Auto", "Parents": []}, r"WarmStartConfig\.Parents: unknown field"),
    ],
)
def test_warm_start_rules_name_the_field(config: dict[str, Any], message: str) -> None:
    with pytest.raises(TuningConfigError, match=message):
        parse_warm_start(config)
