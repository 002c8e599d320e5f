"""Validation of a deploy execution input, and of the ``Deploy`` / ``DeployBest`` fields that
fine-tune and tune inputs nest: where the model comes from, which endpoint, on what instances.
Every problem is reported at once, each starting with its JSON path. Nothing here calls AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.input_fields import NAME, Problems, check_input_size, parse_instance_type, unknown_field
from tunestack_runtime.model_registry import parse_version_arn
from tunestack_runtime.policy import TeamPolicy
from tunestack_runtime.tuning_config import TUNING_JOB_NAME

_TARGET_KEYS = {"EndpointName", "InstanceType", "InitialInstanceCount"}
_SOURCES = ("TrainingJobName", "TuningJobName", "ModelPackageArn")


@dataclass(frozen=True, kw_only=True)
class EndpointTarget:
    endpoint_name: str
    instance_type: str
    initial_instance_count: int


@dataclass(frozen=True, kw_only=True)
class DeployRequest:
    """A model from a training job, from a tuning job's best training job, or an approved version
    of one of the team's model package groups, onto an endpoint."""

    training_job_name: str | None
    tuning_job_name: str | None
    target: EndpointTarget
    model_package_arn: str | None = None


def parse_endpoint_target(
    raw: Any, policy: TeamPolicy, problems: Problems, where: str, extra_keys: frozenset[str] = frozenset()
) -> EndpointTarget | None:
    """``{"EndpointName", "InstanceType", "InitialInstanceCount"}`` at ``where`` (``$`` for a
    deploy input, ``$.Deploy`` / ``$.DeployBest`` when nested)."""
    if not isinstance(raw, Mapping):
        problems.shape.append(f"{where}: must be an object with EndpointName, InstanceType, InitialInstanceCount")
        return None
    for key in sorted(set(raw) - _TARGET_KEYS - extra_keys):
        problems.shape.append(unknown_field(where, key, _TARGET_KEYS | extra_keys))
    name = raw.get("EndpointName")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        problems.shape.append(f"{where}.EndpointName: required, 1-63 letters, digits and hyphens, got {name!r}")
    instance_type = parse_instance_type(
        raw.get("InstanceType"),
        f"{where}.InstanceType",
        policy.hosting_instance_types,
        policy.default_hosting_instance_type,
        problems,
    )
    count = raw.get("InitialInstanceCount", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        problems.shape.append(f"{where}.InitialInstanceCount: must be a positive integer, got {count!r}")
    elif count > policy.max_instance_count:
        problems.policy.append(
            f"{where}.InitialInstanceCount: {count} exceeds the team's limit of {policy.max_instance_count}"
        )
    if not isinstance(name, str) or not isinstance(count, int):
        return None
    return EndpointTarget(endpoint_name=name, instance_type=instance_type, initial_instance_count=count)


def validate_deploy_input(payload: Any, policy: TeamPolicy) -> DeployRequest:
    check_input_size(payload)
    problems = Problems()
    if not isinstance(payload, Mapping):
        raise InvalidInput(f"$: the input must be a JSON object, got {type(payload).__name__}")
    given = [key for key in _SOURCES if key in payload]
    if len(given) != 1:
        problems.shape.append(
            "$: give exactly one of TrainingJobName or TuningJobName (its best training job), or ModelPackageArn "
            f"(an approved model version), got {given or 'none'}"
        )
    training = payload.get("TrainingJobName")
    if "TrainingJobName" in payload and (not isinstance(training, str) or not NAME.fullmatch(training)):
        problems.shape.append(f"$.TrainingJobName: 1-63 letters, digits and hyphens, got {training!r}")
    tuning = payload.get("TuningJobName")
    if "TuningJobName" in payload and (not isinstance(tuning, str) or not TUNING_JOB_NAME.fullmatch(tuning)):
        problems.shape.append(f"$.TuningJobName: 1-32 letters, digits and hyphens, got {tuning!r}")
    package = parse_version_arn(payload["ModelPackageArn"], policy, problems) if "ModelPackageArn" in payload else None
    target = parse_endpoint_target(payload, policy, problems, "$", frozenset(_SOURCES))
    problems.raise_if_any()
    assert target is not None
    return DeployRequest(
        training_job_name=training if isinstance(training, str) else None,
        tuning_job_name=tuning if isinstance(tuning, str) else None,
        target=target,
        model_package_arn=package,
    )


def deploy_target(target: EndpointTarget) -> dict[str, Any]:
    """The target as the nested deploy execution's input fields."""
    return {
        "EndpointName": target.endpoint_name,
        "InstanceType": target.instance_type,
        "InitialInstanceCount": target.initial_instance_count,
    }
