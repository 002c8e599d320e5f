"""Validation of a fine-tune execution input: the contract's shape, then the team's policy.

Every problem is collected and reported at once, one line each, starting with the JSON path of the
field (``$.Deploy.InstanceType: ...``). Shape problems raise InvalidInput; an input whose only
problems are the team's limits raises PolicyViolation. Nothing here calls AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.input_fields import (
    NAME,
    Algorithm,
    Problems,
    parse_algorithm,
    parse_hyperparameters,
    parse_instance_type,
    parse_training_data,
    parse_training_resources,
    positive_int,
)
from tunestack_runtime.policy import TeamPolicy

#: ``Deploy`` is parsed and checked, but fine-tune executions do not deploy yet: the field is
#: refused rather than silently ignored until the deploy state machine exists.
DEPLOY_FROM_FINE_TUNE = False

_TOP_LEVEL = {
    "ModelName",
    "Algorithm",
    "TrainingData",
    "HyperParameters",
    "BatchSizePerGpu",
    "InstanceType",
    "InstanceCount",
    "MaxRuntimeInSeconds",
    "UseSpotInstances",
    "Deploy",
}
_DEPLOY_KEYS = {"EndpointName", "InstanceType", "InitialInstanceCount"}


@dataclass(frozen=True, kw_only=True)
class DeployRequest:
    endpoint_name: str
    instance_type: str
    initial_instance_count: int


@dataclass(frozen=True, kw_only=True)
class FineTuneRequest:
    """A validated input with the team's defaults filled in."""

    model_name: str
    algorithm: Algorithm
    training_data_uri: str | None  # None: the model's default dataset
    hyperparameters: dict[str, str] = field(default_factory=dict)
    batch_size_per_gpu: int | None = None
    instance_type: str
    instance_count: int
    max_runtime_in_seconds: int
    use_spot_instances: bool
    deploy: DeployRequest | None = None


def validate_fine_tune_input(payload: Any, policy: TeamPolicy) -> FineTuneRequest:
    problems = Problems()
    if not isinstance(payload, Mapping):
        raise InvalidInput(f"$: the input must be a JSON object, got {type(payload).__name__}")
    for key in sorted(set(payload) - _TOP_LEVEL):
        problems.shape.append(f"$.{key}: unknown field (allowed: {', '.join(sorted(_TOP_LEVEL))})")

    model_name = payload.get("ModelName")
    if model_name is None:
        problems.shape.append("$.ModelName: required")
    elif not isinstance(model_name, str) or not NAME.match(model_name):
        problems.shape.append(
            "$.ModelName: 1-63 letters, digits and hyphens, starting and ending with a letter or digit, "
            f"got {model_name!r}"
        )
    algorithm = parse_algorithm(payload.get("Algorithm"), problems)
    training_data = parse_training_data(payload.get("TrainingData"), policy, problems)
    hyperparameters = parse_hyperparameters(payload.get("HyperParameters"), problems)
    batch = positive_int(payload, "BatchSizePerGpu", None, problems)
    resources = parse_training_resources(payload, policy, problems)
    deploy = None
    if "Deploy" in payload and not DEPLOY_FROM_FINE_TUNE:
        problems.shape.append(
            "$.Deploy: deploying from a fine-tune execution is not available in this version; "
            "leave Deploy out and deploy the model artifacts separately"
        )
    else:
        deploy = _deploy(payload.get("Deploy"), policy, problems)

    problems.raise_if_any()
    assert isinstance(model_name, str) and algorithm is not None
    return FineTuneRequest(
        model_name=model_name,
        algorithm=algorithm,
        training_data_uri=training_data,
        hyperparameters=hyperparameters,
        batch_size_per_gpu=batch,
        **asdict(resources),
        deploy=deploy,
    )


def _deploy(raw: Any, policy: TeamPolicy, problems: Problems) -> DeployRequest | None:
    if raw is None:
        return None
    where = "$.Deploy"
    if not isinstance(raw, Mapping):
        problems.shape.append(f"{where}: must be an object with EndpointName, InstanceType, InitialInstanceCount")
        return None
    for key in sorted(set(raw) - _DEPLOY_KEYS):
        problems.shape.append(f"{where}.{key}: unknown field (allowed: {', '.join(sorted(_DEPLOY_KEYS))})")
    name = raw.get("EndpointName")
    if not isinstance(name, str) or not NAME.match(name):
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
    return DeployRequest(endpoint_name=name, instance_type=instance_type, initial_instance_count=count)
