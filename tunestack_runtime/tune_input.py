"""Validation of a tune execution input: SageMaker's own shapes pasted as they are, the fields the
platform shares with fine-tune, and the team's limits. Every problem is reported at once, each
starting with its JSON path. Checks that need AWS (parents' descriptions, JumpStart metrics) come
at launch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from tunestack_runtime import builtin_algorithms
from tunestack_runtime.deploy_input import EndpointTarget, parse_endpoint_target
from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.input_fields import (
    Algorithm,
    Problems,
    check_input_size,
    parse_accept_eula,
    parse_algorithm,
    parse_hyperparameters,
    parse_training_data,
    parse_training_resources,
    unknown_field,
)
from tunestack_runtime.json_path import child
from tunestack_runtime.model_registry import RegisterRequest, parse_register
from tunestack_runtime.policy import TeamPolicy
from tunestack_runtime.tuning_config import (
    TuningConfig,
    TuningConfigError,
    WarmStart,
    parse_warm_start,
    validate_tuning_config,
    validate_tuning_job_name,
)

_TOP_LEVEL = {
    "TuningJobName",
    "Algorithm",
    "TrainingData",
    "StaticHyperParameters",
    "HyperParameterTuningJobConfig",
    "WarmStartConfig",
    "CopySettingsFrom",
    "InstanceType",
    "InstanceCount",
    "MaxRuntimeInSeconds",
    "UseSpotInstances",
    "DeployBest",
    "AcceptEula",
    "Register",
}
_CHANNEL = re.compile(r"^[A-Za-z0-9.\-_]{1,64}$")


@dataclass(frozen=True, kw_only=True)
class TuneRequest:
    """A validated tune input with the team's defaults filled in.

    ``algorithm`` and ``config`` are None, and ``training_data`` empty, only when
    ``copy_settings_from`` names a parent whose settings fill them in (at the first state).
    """

    tuning_job_name: str | None  # None: derived from the execution
    algorithm: Algorithm | None
    training_data: str | dict[str, str]  # one prefix (the algorithm's usual channel) or named channels
    static_hyperparameters: dict[str, str] = field(default_factory=dict)
    config: TuningConfig | None
    warm_start: WarmStart | None = None
    copy_settings_from: str | None = None
    instance_type: str
    instance_count: int
    max_runtime_in_seconds: int
    use_spot_instances: bool
    deploy_best: EndpointTarget | None = None  # deploy the best training job's model once tuned
    accept_eula: bool = False  # the input accepts a gated model's EULA
    register: RegisterRequest | None = None  # register the best training job's model once tuned


def metric_names(algorithm: Algorithm | None) -> list[str] | None:
    """Metrics the algorithm is known to emit here; None for JumpStart (known once its spec loads)."""
    if algorithm is None or algorithm.kind == "jumpstart":
        return None
    if algorithm.kind == "built-in":
        return list(builtin_algorithms.METRICS.get(algorithm.name, ()))
    return [m["Name"] for m in algorithm.metric_definitions]


def validate_tune_input(payload: Any, policy: TeamPolicy) -> TuneRequest:
    check_input_size(payload)
    problems = Problems()
    if not isinstance(payload, Mapping):
        raise InvalidInput(f"$: the input must be a JSON object, got {type(payload).__name__}")
    for key in sorted(set(payload) - _TOP_LEVEL):
        problems.shape.append(unknown_field("$", key, _TOP_LEVEL))
    deploy_best = None
    if "DeployBest" in payload:
        deploy_best = parse_endpoint_target(payload["DeployBest"], policy, problems, "$.DeployBest")

    name = (
        _guarded(problems, validate_tuning_job_name, payload["TuningJobName"]) if "TuningJobName" in payload else None
    )
    copy_from = None
    if "CopySettingsFrom" in payload:
        copy_from = _guarded(problems, validate_tuning_job_name, payload["CopySettingsFrom"], "$.CopySettingsFrom")
    copying = copy_from is not None or "CopySettingsFrom" in payload
    algorithm = None if copying and "Algorithm" not in payload else parse_algorithm(payload.get("Algorithm"), problems)
    training_data: str | dict[str, str] = {}
    if not copying or "TrainingData" in payload:
        training_data = _training_data(payload.get("TrainingData"), policy, problems)
    static = parse_hyperparameters(payload.get("StaticHyperParameters"), problems, "$.StaticHyperParameters")
    config = None
    if "HyperParameterTuningJobConfig" in payload or not copying:
        config = _guarded(
            problems,
            lambda raw: validate_tuning_config(
                raw,
                static_hyperparameters=static,
                metric_names=metric_names(algorithm),
                max_training_jobs=policy.max_training_jobs_per_tuning_job,
                max_parallel_jobs=policy.max_parallel_training_jobs,
            ),
            payload.get("HyperParameterTuningJobConfig"),
        )
    warm_start = _guarded(problems, parse_warm_start, payload.get("WarmStartConfig"))
    resources = parse_training_resources(payload, policy, problems)
    accept_eula = parse_accept_eula(payload, problems)
    register = None
    if "Register" in payload:
        register = parse_register(payload["Register"], policy.team, problems)

    problems.raise_if_any()
    return TuneRequest(
        tuning_job_name=name,
        algorithm=algorithm,
        training_data=training_data,
        static_hyperparameters=static,
        config=config,
        warm_start=warm_start,
        copy_settings_from=copy_from,
        deploy_best=deploy_best,
        accept_eula=accept_eula,
        register=register,
        **asdict(resources),
    )


def _guarded(problems: Problems, check: Any, raw: Any, where: str | None = None) -> Any:
    """Run a checker that raises TuningConfigError; file its problems, relabelled to ``where``."""
    try:
        return check(raw)
    except TuningConfigError as error:
        relabel = (lambda line: line.replace("$.TuningJobName", where, 1)) if where else (lambda line: line)
        problems.shape.extend(relabel(line) for line in error.shape)
        problems.policy.extend(error.policy)
        return None


def _training_data(raw: Any, policy: TeamPolicy, problems: Problems) -> str | dict[str, str]:
    """A key prefix or ``{"train": ..., "validation": ...}``, each resolved in the team bucket."""
    if raw is None:
        problems.shape.append("$.TrainingData: required, a key prefix or {'train': ..., 'validation': ...}")
        return {}
    if isinstance(raw, str):
        return parse_training_data(raw, policy, problems) or {}
    if not isinstance(raw, Mapping) or not raw:
        problems.shape.append(f"$.TrainingData: a key prefix or an object of channels, got {raw!r}")
        return {}
    channels = {}
    for channel, value in raw.items():
        where = child("$.TrainingData", channel)
        if not _CHANNEL.fullmatch(str(channel)):
            problems.shape.append(f"{where}: channel names are 1-64 letters, digits, '.', '-' or '_'")
            continue
        uri = parse_training_data(value, policy, problems, where)
        if uri:
            channels[channel] = uri
    return channels
