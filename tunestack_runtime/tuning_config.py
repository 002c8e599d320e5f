"""Validation of SageMaker's ``HyperParameterTuningJobConfig`` and ``WarmStartConfig`` shapes,
pasted as the SageMaker API defines them, against SageMaker's rules and the team's limits.

Every problem is collected and reported at once, each naming the JSON path of the field and the
parameter concerned (``$.HyperParameterTuningJobConfig.ParameterRanges.IntegerParameterRanges[0]
(max_depth): ...``). Nothing here calls AWS; checks that need the parents' descriptions (warm start
compatibility) belong to the launch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tunestack_runtime.input_fields import unknown_field
from tunestack_runtime.json_path import child, shown
from tunestack_runtime.jumpstart import CONTAINER_HYPERPARAMETERS

ROOT = "$.HyperParameterTuningJobConfig"
MAX_RANGES = 30
MAX_CATEGORICAL_VALUES = 30
MAX_PARENTS = 5
TUNING_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")

STRATEGIES = {"Bayesian", "Random", "Hyperband", "Grid"}
OBJECTIVE_TYPES = {"Maximize", "Minimize"}
SCALING_TYPES = {"Auto", "Linear", "Logarithmic", "ReverseLogarithmic"}
EARLY_STOPPING = {"Off", "Auto"}
RANGE_KINDS = ("IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges")
_CONFIG_KEYS = {
    "ParameterRanges",
    "ResourceLimits",
    "Strategy",
    "StrategyConfig",
    "HyperParameterTuningJobObjective",
    "RandomSeed",
    "TrainingJobEarlyStoppingType",
    "TuningJobCompletionCriteria",
}
_LIMIT_KEYS = {"MaxNumberOfTrainingJobs", "MaxParallelTrainingJobs", "MaxRuntimeInSeconds"}
#: ResourceLimits.MaxRuntimeInSeconds of a tuning job (SageMaker API reference, "ResourceLimits").
MIN_TUNING_RUNTIME_SECONDS = 120
MAX_TUNING_RUNTIME_SECONDS = 15_768_000
#: WarmStartType in the API's spelling, the SageMaker Python SDK's, and tunestack's "Auto".
WARM_START_TYPES = {
    "IdenticalDataAndAlgorithm": "IdenticalDataAndAlgorithm",
    "IDENTICAL_DATA_AND_ALGORITHM": "IdenticalDataAndAlgorithm",
    "TransferLearning": "TransferLearning",
    "TRANSFER_LEARNING": "TransferLearning",
    "Auto": "Auto",
}


@dataclass(frozen=True)
class ParameterRange:
    kind: str  # "Integer" | "Continuous" | "Categorical"
    name: str
    min_value: float | None = None
    max_value: float | None = None
    scaling: str = "Auto"
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class TuningConfig:
    ranges: tuple[ParameterRange, ...]
    strategy: str
    objective_metric: str
    objective_type: str
    max_training_jobs: int | None
    max_parallel_jobs: int
    random_seed: int | None = None
    early_stopping: str = "Off"
    raw: Mapping[str, Any] = field(default_factory=dict)  # the shape as given, for the API call


@dataclass(frozen=True)
class WarmStart:
    type: str  # "IdenticalDataAndAlgorithm" | "TransferLearning" | "Auto"
    parents: tuple[str, ...]


class TuningConfigError(ValueError):
    """Shape problems (InvalidInput) and team-limit problems (PolicyViolation), kept apart."""

    def __init__(self, shape: Sequence[str], policy: Sequence[str]) -> None:
        self.shape = list(shape)
        self.policy = list(policy)
        super().__init__("\n".join([*self.shape, *self.policy]))


def _number(value: Any) -> float | None:
    """SageMaker passes range bounds as strings; accept numbers written either way."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def validate_tuning_config(
    raw: Any,
    *,
    static_hyperparameters: Mapping[str, Any] | None,
    metric_names: Sequence[str] | None,
    max_training_jobs: int,
    max_parallel_jobs: int,
) -> TuningConfig:
    """``metric_names``: the metrics the algorithm emits (None when the algorithm is unknown here)."""
    shape: list[str] = []
    policy: list[str] = []
    if not isinstance(raw, Mapping):
        raise TuningConfigError([f"{ROOT}: required, the SageMaker HyperParameterTuningJobConfig object"], [])
    for key in sorted(set(raw) - _CONFIG_KEYS):
        shape.append(unknown_field(ROOT, key, _CONFIG_KEYS))

    strategy = str(raw.get("Strategy", ""))
    if "Strategy" not in raw:
        shape.append(f"{ROOT}.Strategy: required, one of {sorted(STRATEGIES)}")
    elif strategy not in STRATEGIES:
        shape.append(f"{ROOT}.Strategy: one of {sorted(STRATEGIES)}, got {strategy!r}")
    ranges = _ranges(raw.get("ParameterRanges"), strategy, shape, policy)
    _check_static(ranges, static_hyperparameters, shape)
    objective_metric, objective_type = _objective(raw.get("HyperParameterTuningJobObjective"), metric_names, shape)
    total, parallel = _limits(raw.get("ResourceLimits"), strategy, max_training_jobs, max_parallel_jobs, shape, policy)
    seed = raw.get("RandomSeed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        shape.append(f"{ROOT}.RandomSeed: a non-negative integer, got {seed!r}")
    early = raw.get("TrainingJobEarlyStoppingType", "Off")
    if not isinstance(early, str) or early not in EARLY_STOPPING:
        shape.append(f"{ROOT}.TrainingJobEarlyStoppingType: one of {sorted(EARLY_STOPPING)}, got {early!r}")
    if shape or policy:
        raise TuningConfigError(shape, policy)
    return TuningConfig(
        ranges=tuple(ranges),
        strategy=strategy,
        objective_metric=objective_metric,
        objective_type=objective_type,
        max_training_jobs=total,
        max_parallel_jobs=parallel,
        random_seed=seed,
        early_stopping=early,
        raw=raw,
    )


def _ranges(raw: Any, strategy: str, shape: list[str], policy: list[str]) -> list[ParameterRange]:
    where = f"{ROOT}.ParameterRanges"
    if not isinstance(raw, Mapping):
        shape.append(f"{where}: required, an object with {', '.join(RANGE_KINDS)}")
        return []
    for key in sorted(set(raw) - set(RANGE_KINDS) - {"AutoParameters"}):
        shape.append(unknown_field(where, key, (*RANGE_KINDS, "AutoParameters")))
    parsed: list[ParameterRange] = []
    seen: dict[str, str] = {}
    for kind in RANGE_KINDS:
        items = raw.get(kind, [])
        if not isinstance(items, list):
            shape.append(f"{where}.{kind}: must be a list, got {items!r}")
            continue
        for index, item in enumerate(items):
            label = f"{where}.{kind}[{index}]"
            one = _range(kind, item, label, strategy, shape)
            if one is None:
                continue
            if one.name in CONTAINER_HYPERPARAMETERS:
                policy.append(f"{label} ({one.name}): set by the platform for the training container; not tunable")
                continue
            if one.name in seen:
                shape.append(f"{label} ({one.name}): the name is also tuned at {seen[one.name]}")
                continue
            seen[one.name] = label
            parsed.append(one)
    if not parsed and not shape and not policy:
        shape.append(f"{where}: name at least one hyperparameter to tune")
    if len(parsed) > MAX_RANGES:
        shape.append(f"{where}: at most {MAX_RANGES} hyperparameters can be tuned, got {len(parsed)}")
    return parsed


def _range(kind: str, item: Any, label: str, strategy: str, shape: list[str]) -> ParameterRange | None:
    if not isinstance(item, Mapping) or not isinstance(item.get("Name"), str) or not item["Name"]:
        shape.append(f"{label}: an object with a Name, got {item!r}")
        return None
    name = item["Name"]
    label = f"{label} ({shown(name)})"
    before = len(shape)
    if kind == "CategoricalParameterRanges":
        for key in sorted(set(item) - {"Name", "Values"}):
            hint = " (categorical values have no scale)" if key == "ScalingType" else ""
            shape.append(f"{child(label, key)}: not allowed on a categorical range{hint}")
        values = item.get("Values")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            shape.append(f"{label}.Values: a list of strings, got {values!r}")
        elif not 1 <= len(values) <= MAX_CATEGORICAL_VALUES:
            shape.append(f"{label}.Values: 1 to {MAX_CATEGORICAL_VALUES} values, got {len(values)}")
        elif len(set(values)) != len(values):
            shape.append(f"{label}.Values: lists a value twice")
        if len(shape) > before or not isinstance(values, list):
            return None
        return ParameterRange(kind="Categorical", name=name, values=tuple(values))

    for key in sorted(set(item) - {"Name", "MinValue", "MaxValue", "ScalingType"}):
        shape.append(unknown_field(label, key, ("Name", "MinValue", "MaxValue", "ScalingType")))
    if strategy == "Grid":
        shape.append(f"{label}: the Grid strategy takes categorical ranges only")
    integer = kind == "IntegerParameterRanges"
    bounds: dict[str, float] = {}
    for bound in ("MinValue", "MaxValue"):
        number = _number(item.get(bound))
        if number is None:
            shape.append(f"{label}.{bound}: required, a number (as SageMaker's string), got {item.get(bound)!r}")
        elif integer and not number.is_integer():
            shape.append(f"{label}.{bound}: an integer range needs whole bounds, got {item.get(bound)!r}")
        else:
            bounds[bound] = number
    low, high = bounds.get("MinValue"), bounds.get("MaxValue")
    if low is not None and high is not None and low > high:
        shape.append(f"{label}: MinValue {item['MinValue']} is greater than MaxValue {item['MaxValue']}")
    scaling = item.get("ScalingType", "Auto")
    if not isinstance(scaling, str) or scaling not in SCALING_TYPES:
        shape.append(f"{label}.ScalingType: one of {sorted(SCALING_TYPES)}, got {scaling!r}")
    elif scaling == "Logarithmic" and low is not None and low <= 0:
        shape.append(f"{label}.ScalingType: Logarithmic needs bounds above 0, MinValue is {item['MinValue']}")
    elif scaling == "ReverseLogarithmic":
        if integer:
            shape.append(f"{label}.ScalingType: ReverseLogarithmic applies to continuous ranges only")
        elif (low is not None and low < 0) or (high is not None and high >= 1):
            shape.append(f"{label}.ScalingType: ReverseLogarithmic needs bounds within [0, 1)")
    if len(shape) > before:
        return None
    assert low is not None and high is not None
    return ParameterRange(
        kind="Integer" if integer else "Continuous", name=name, min_value=low, max_value=high, scaling=scaling
    )


def _check_static(ranges: list[ParameterRange], static: Mapping[str, Any] | None, shape: list[str]) -> None:
    for one in ranges:
        if static and one.name in static:
            shape.append(f"$.StaticHyperParameters.{one.name}: also tuned in {ROOT}.ParameterRanges; keep one")


def _objective(raw: Any, metric_names: Sequence[str] | None, shape: list[str]) -> tuple[str, str]:
    where = f"{ROOT}.HyperParameterTuningJobObjective"
    if not isinstance(raw, Mapping):
        shape.append(f"{where}: required, {{'MetricName': ..., 'Type': 'Maximize' | 'Minimize'}}")
        return "", ""
    for key in sorted(set(raw) - {"MetricName", "Type"}):
        shape.append(unknown_field(where, key, ("MetricName", "Type")))
    metric, kind = raw.get("MetricName"), raw.get("Type")
    if not isinstance(kind, str) or kind not in OBJECTIVE_TYPES:
        shape.append(f"{where}.Type: one of {sorted(OBJECTIVE_TYPES)}, got {kind!r}")
    if not isinstance(metric, str) or not metric:
        shape.append(f"{where}.MetricName: required, got {metric!r}")
    elif metric_names is not None and metric not in metric_names:
        known = ", ".join(metric_names) or "none: give MetricDefinitions"
        shape.append(f"{where}.MetricName: {metric!r} is not a metric the algorithm emits ({known})")
    return str(metric or ""), str(kind or "")


def _limits(
    raw: Any,
    strategy: str,
    team_total: int,
    team_parallel: int,
    shape: list[str],
    policy: list[str],
) -> tuple[int | None, int]:
    where = f"{ROOT}.ResourceLimits"
    if not isinstance(raw, Mapping):
        shape.append(f"{where}: required, with MaxParallelTrainingJobs (and MaxNumberOfTrainingJobs)")
        return None, 1
    for key in sorted(set(raw) - _LIMIT_KEYS):
        shape.append(unknown_field(where, key, _LIMIT_KEYS))
    values: dict[str, int | None] = {}
    for key, ceiling, required in (
        ("MaxNumberOfTrainingJobs", team_total, strategy != "Grid"),
        ("MaxParallelTrainingJobs", team_parallel, True),
    ):
        value = raw.get(key)
        if value is None:
            if required:
                shape.append(f"{where}.{key}: required")
            values[key] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            shape.append(f"{where}.{key}: a positive integer, got {value!r}")
            values[key] = None
        elif value > ceiling:
            policy.append(f"{where}.{key}: {value} exceeds the team's limit of {ceiling}")
            values[key] = None
        else:
            values[key] = value
    runtime = raw.get("MaxRuntimeInSeconds")
    if runtime is not None and (
        isinstance(runtime, bool)
        or not isinstance(runtime, int)
        or not MIN_TUNING_RUNTIME_SECONDS <= runtime <= MAX_TUNING_RUNTIME_SECONDS
    ):
        shape.append(
            f"{where}.MaxRuntimeInSeconds: an integer from {MIN_TUNING_RUNTIME_SECONDS} to "
            f"{MAX_TUNING_RUNTIME_SECONDS} (SageMaker's range for a tuning job), got {runtime!r}"
        )
    total, parallel = values["MaxNumberOfTrainingJobs"], values["MaxParallelTrainingJobs"]
    if total is not None and parallel is not None and parallel > total:
        shape.append(f"{where}.MaxParallelTrainingJobs: {parallel} exceeds MaxNumberOfTrainingJobs {total}")
    return total, parallel or 1


def validate_tuning_job_name(name: Any) -> str:
    if not isinstance(name, str) or not TUNING_JOB_NAME.fullmatch(name):
        raise TuningConfigError(
            [
                "$.TuningJobName: 1-32 letters, digits and hyphens, starting and ending with a letter or digit, "
                f"got {name!r}"
            ],
            [],
        )
    return name


#: The one field of a warm-start parent (SageMaker API reference, ParentHyperParameterTuningJob).
PARENT_KEY = "HyperParameterTuningJobName"


def parse_warm_start(raw: Any) -> WarmStart | None:
    """``WarmStartConfig`` as SageMaker defines it; WarmStartType also in SDK spelling or ``Auto``."""
    if raw is None:
        return None
    where = "$.WarmStartConfig"
    shape: list[str] = []
    if not isinstance(raw, Mapping):
        raise TuningConfigError([f"{where}: an object with ParentHyperParameterTuningJobs and WarmStartType"], [])
    for key in sorted(set(raw) - {"ParentHyperParameterTuningJobs", "WarmStartType"}):
        shape.append(unknown_field(where, key, ("ParentHyperParameterTuningJobs", "WarmStartType")))
    given = raw.get("WarmStartType")
    kind = WARM_START_TYPES.get(given) if isinstance(given, str) else None
    if kind is None:
        shape.append(f"{where}.WarmStartType: one of {sorted(WARM_START_TYPES)}, got {raw.get('WarmStartType')!r}")
    parents_raw = raw.get("ParentHyperParameterTuningJobs", [])
    parents: list[str] = []
    if not isinstance(parents_raw, list):
        shape.append(f"{where}.ParentHyperParameterTuningJobs: a list, got {parents_raw!r}")
        parents_raw = []
    for index, item in enumerate(parents_raw):
        name = item.get("HyperParameterTuningJobName") if isinstance(item, Mapping) else None
        for key in sorted(set(item) - {"HyperParameterTuningJobName"}) if isinstance(item, Mapping) else ():
            shape.append(unknown_field(f"{where}.ParentHyperParameterTuningJobs[{index}]", key, [PARENT_KEY]))
        if not isinstance(name, str) or not TUNING_JOB_NAME.fullmatch(name):
            shape.append(
                f"{where}.ParentHyperParameterTuningJobs[{index}]: {{'HyperParameterTuningJobName': <1-32 "
                f"letters, digits, hyphens>}}, got {item!r}"
            )
        elif name in parents:
            shape.append(f"{where}.ParentHyperParameterTuningJobs[{index}]: {name} is listed twice")
        else:
            parents.append(name)
    if len(parents_raw) > MAX_PARENTS:
        shape.append(f"{where}.ParentHyperParameterTuningJobs: at most {MAX_PARENTS} parents, got {len(parents_raw)}")
    if kind in {"IdenticalDataAndAlgorithm", "TransferLearning"} and not parents_raw:
        shape.append(f"{where}.ParentHyperParameterTuningJobs: {kind} needs 1 to {MAX_PARENTS} parents")
    if kind == "Auto" and parents_raw:
        shape.append(f"{where}.ParentHyperParameterTuningJobs: leave it out with Auto; the platform chooses parents")
    if shape:
        raise TuningConfigError(shape, [])
    assert kind is not None
    return WarmStart(type=kind, parents=tuple(parents))
