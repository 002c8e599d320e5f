"""Validation of a fine-tune execution input: the contract's shape, then the team's policy.

Every problem is collected and reported at once, one line each, starting with the JSON path of the
field (``$.Deploy.InstanceType: ...``). Shape problems raise InvalidInput; an input whose only
problems are the team's limits raises PolicyViolation. Nothing here calls AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from tunestack_runtime.deploy_input import EndpointTarget, parse_endpoint_target
from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.input_fields import (
    NAME,
    Algorithm,
    Problems,
    check_input_size,
    parse_accept_eula,
    parse_algorithm,
    parse_hyperparameters,
    parse_training_data,
    parse_training_resources,
    positive_int,
    unknown_field,
)
from tunestack_runtime.model_registry import RegisterRequest, parse_register
from tunestack_runtime.policy import TeamPolicy

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
    "AcceptEula",
    "Register",
}


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
    deploy: EndpointTarget | None = None  # deploy the model once trained
    accept_eula: bool = False  # the input accepts a gated model's EULA
    register: RegisterRequest | None = None  # register the model in the team's model registry once trained


def validate_fine_tune_input(payload: Any, policy: TeamPolicy) -> FineTuneRequest:
    check_input_size(payload)
    problems = Problems()
    if not isinstance(payload, Mapping):
        raise InvalidInput(f"$: the input must be a JSON object, got {type(payload).__name__}")
    for key in sorted(set(payload) - _TOP_LEVEL):
        problems.shape.append(unknown_field("$", key, _TOP_LEVEL))

    model_name = payload.get("ModelName")
    if model_name is None:
        problems.shape.append("$.ModelName: required")
    elif not isinstance(model_name, str) or not NAME.fullmatch(model_name):
        problems.shape.append(
            "$.ModelName: 1-63 letters, digits and hyphens, starting and ending with a letter or digit, "
            f"got {model_name!r}"
        )
    algorithm = parse_algorithm(payload.get("Algorithm"), problems)
    training_data = parse_training_data(payload.get("TrainingData"), policy, problems)
    hyperparameters = parse_hyperparameters(payload.get("HyperParameters"), problems)
    batch = positive_int(payload, "BatchSizePerGpu", None, problems)
    resources = parse_training_resources(payload, policy, problems)
    deploy = parse_endpoint_target(payload["Deploy"], policy, problems, "$.Deploy") if "Deploy" in payload else None
    accept_eula = parse_accept_eula(payload, problems)
    register = parse_register(payload["Register"], policy.team, problems) if "Register" in payload else None

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
        accept_eula=accept_eula,
        register=register,
    )
