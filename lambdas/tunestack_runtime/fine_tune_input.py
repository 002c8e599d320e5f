"""Validation of a fine-tune execution input: the contract's shape, then the team's policy.

Every problem is collected and reported at once, one line each, starting with the JSON path of the
field (``$.Deploy.InstanceType: ...``). Shape problems raise InvalidInput; an input whose only
problems are the team's limits raises PolicyViolation. Nothing here calls AWS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tunestack_runtime.errors import InvalidInput, PolicyViolation
from tunestack_runtime.policy import TeamPolicy

#: SageMaker's own limits.
MAX_HYPERPARAMETERS = 100
MAX_HYPERPARAMETER_KEY = 256
MAX_HYPERPARAMETER_VALUE = 2500
MAX_METRIC_DEFINITIONS = 40
DEFAULT_MAX_RUNTIME_SECONDS = 24 * 3600
#: ``Deploy`` is parsed and checked, but fine-tune executions do not deploy yet: the field is
#: refused rather than silently ignored until the deploy state machine exists.
DEPLOY_FROM_FINE_TUNE = False

_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_JUMPSTART_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,127}$")
_ECR_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9][a-z0-9._/-]*(:[\w.-]{1,128}|@sha256:[0-9a-f]{64})?$"
)
_BUILT_INS = {"xgboost", "image-classification"}
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
_ALGORITHM_FORMS = {
    "JumpStartModelId": {"JumpStartModelId", "JumpStartModelVersion"},
    "BuiltInAlgorithm": {"BuiltInAlgorithm", "Version"},
    "TrainingImage": {"TrainingImage", "MetricDefinitions", "InferenceImage"},
}
_DEPLOY_KEYS = {"EndpointName", "InstanceType", "InitialInstanceCount"}


@dataclass(frozen=True, kw_only=True)
class Algorithm:
    kind: str  # "jumpstart" | "built-in" | "custom"
    name: str  # model id, built-in algorithm name or training image
    version: str | None = None
    metric_definitions: tuple[dict[str, str], ...] = ()
    inference_image: str | None = None


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


class _Problems:
    def __init__(self) -> None:
        self.shape: list[str] = []
        self.policy: list[str] = []

    def raise_if_any(self) -> None:
        if self.shape:
            raise InvalidInput("\n".join(self.shape + self.policy))
        if self.policy:
            raise PolicyViolation("\n".join(self.policy))


def validate_fine_tune_input(payload: Any, policy: TeamPolicy) -> FineTuneRequest:
    problems = _Problems()
    if not isinstance(payload, Mapping):
        raise InvalidInput(f"$: the input must be a JSON object, got {type(payload).__name__}")
    for key in sorted(set(payload) - _TOP_LEVEL):
        problems.shape.append(f"$.{key}: unknown field (allowed: {', '.join(sorted(_TOP_LEVEL))})")

    model_name = payload.get("ModelName")
    if model_name is None:
        problems.shape.append("$.ModelName: required")
    elif not isinstance(model_name, str) or not _NAME.match(model_name):
        problems.shape.append(
            "$.ModelName: 1-63 letters, digits and hyphens, starting and ending with a letter or digit, "
            f"got {model_name!r}"
        )
    algorithm = _algorithm(payload.get("Algorithm"), problems)
    training_data = _training_data(payload.get("TrainingData"), policy, problems)
    hyperparameters = _hyperparameters(payload.get("HyperParameters"), problems)
    batch = _positive_int(payload, "BatchSizePerGpu", None, problems)
    instance_type = _instance_type(
        payload.get("InstanceType"),
        "$.InstanceType",
        policy.training_instance_types,
        policy.default_training_instance_type,
        problems,
    )
    count = _positive_int(payload, "InstanceCount", policy.max_instance_count, problems)
    runtime = _positive_int(payload, "MaxRuntimeInSeconds", policy.max_runtime_in_seconds, problems)
    spot = payload.get("UseSpotInstances", False)
    if not isinstance(spot, bool):
        problems.shape.append(f"$.UseSpotInstances: must be true or false, got {spot!r}")
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
        instance_type=instance_type,
        instance_count=count or 1,
        max_runtime_in_seconds=runtime or min(DEFAULT_MAX_RUNTIME_SECONDS, policy.max_runtime_in_seconds),
        use_spot_instances=spot,
        deploy=deploy,
    )


def _algorithm(raw: Any, problems: _Problems) -> Algorithm | None:
    if raw is None:
        problems.shape.append("$.Algorithm: required (a JumpStartModelId, a BuiltInAlgorithm or a TrainingImage)")
        return None
    if not isinstance(raw, Mapping):
        problems.shape.append(f"$.Algorithm: must be an object, got {raw!r}")
        return None
    forms = [form for form in _ALGORITHM_FORMS if form in raw]
    if len(forms) != 1:
        problems.shape.append(
            f"$.Algorithm: give exactly one of {', '.join(_ALGORITHM_FORMS)}, got {sorted(raw) or 'none'}"
        )
        return None
    (form,) = forms
    before = len(problems.shape)
    for key in sorted(set(raw) - _ALGORITHM_FORMS[form]):
        problems.shape.append(f"$.Algorithm.{key}: unknown field with {form}")
    if form == "JumpStartModelId":
        model_id, version = raw["JumpStartModelId"], raw.get("JumpStartModelVersion", "*")
        if not isinstance(model_id, str) or not _JUMPSTART_ID.match(model_id):
            problems.shape.append(f"$.Algorithm.JumpStartModelId: not a JumpStart model id, got {model_id!r}")
        if not isinstance(version, str) or not version:
            problems.shape.append(f"$.Algorithm.JumpStartModelVersion: must be a version or '*', got {version!r}")
        return None if len(problems.shape) > before else Algorithm(kind="jumpstart", name=model_id, version=version)
    if form == "BuiltInAlgorithm":
        name, version = raw["BuiltInAlgorithm"], raw.get("Version")
        if name not in _BUILT_INS:
            problems.shape.append(f"$.Algorithm.BuiltInAlgorithm: one of {sorted(_BUILT_INS)}, got {name!r}")
        if name == "xgboost" and not isinstance(version, str):
            problems.shape.append("$.Algorithm.Version: required for xgboost, e.g. '1.7-1'")
        return None if len(problems.shape) > before else Algorithm(kind="built-in", name=name, version=version)
    image = raw["TrainingImage"]
    if not isinstance(image, str) or not _ECR_IMAGE.match(image):
        problems.shape.append(f"$.Algorithm.TrainingImage: not an ECR image URI, got {image!r}")
    inference = raw.get("InferenceImage")
    if inference is not None and (not isinstance(inference, str) or not _ECR_IMAGE.match(inference)):
        problems.shape.append(f"$.Algorithm.InferenceImage: not an ECR image URI, got {inference!r}")
    metrics = _metric_definitions(raw.get("MetricDefinitions"), problems)
    if len(problems.shape) > before:
        return None
    return Algorithm(kind="custom", name=image, metric_definitions=metrics, inference_image=inference)


def _metric_definitions(raw: Any, problems: _Problems) -> tuple[dict[str, str], ...]:
    where = "$.Algorithm.MetricDefinitions"
    if raw is None:
        problems.shape.append(f"{where}: required with a TrainingImage, so metrics can be read from its logs")
        return ()
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_METRIC_DEFINITIONS:
        problems.shape.append(f"{where}: must be a list of 1 to {MAX_METRIC_DEFINITIONS} definitions")
        return ()
    names = set()
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping) or set(item) != {"Name", "Regex"}:
            problems.shape.append(f"{where}[{i}]: must be {{'Name': ..., 'Regex': ...}}, got {item!r}")
            continue
        try:
            re.compile(str(item["Regex"]))
        except re.error as error:
            problems.shape.append(f"{where}[{i}].Regex: not a regular expression ({error})")
        if item["Name"] in names:
            problems.shape.append(f"{where}[{i}].Name: duplicate metric name {item['Name']!r}")
        names.add(item["Name"])
    return tuple(dict(item) for item in raw if isinstance(item, Mapping))


def _training_data(raw: Any, policy: TeamPolicy, problems: _Problems) -> str | None:
    if raw is None:
        return None
    where = "$.TrainingData"
    if not isinstance(raw, str) or not raw.strip():
        problems.shape.append(f"{where}: a key prefix in the team bucket or an s3:// URI, got {raw!r}")
        return None
    if raw.startswith("s3://"):
        bucket, _, key = raw[len("s3://") :].partition("/")
        if not policy.bucket:  # offline: the bucket's name is known only once deployed
            return raw
        if bucket != policy.bucket:
            problems.policy.append(
                f"{where}: data must lie in the team bucket {policy.bucket!r}, got bucket {bucket!r}"
            )
            return None
    elif "://" in raw:
        problems.shape.append(f"{where}: only s3:// URIs or key prefixes, got {raw!r}")
        return None
    else:
        key = raw
    if key.startswith("/") or ".." in key.split("/"):
        problems.shape.append(f"{where}: the key prefix must be relative and without '..', got {key!r}")
        return None
    return f"s3://{policy.bucket}/{key}"


def _hyperparameters(raw: Any, problems: _Problems) -> dict[str, str]:
    if raw is None:
        return {}
    where = "$.HyperParameters"
    if not isinstance(raw, Mapping):
        problems.shape.append(f"{where}: must be an object of string values, got {raw!r}")
        return {}
    if len(raw) > MAX_HYPERPARAMETERS:
        problems.shape.append(f"{where}: at most {MAX_HYPERPARAMETERS} hyperparameters, got {len(raw)}")
    for key, value in raw.items():
        if len(key) > MAX_HYPERPARAMETER_KEY:
            problems.shape.append(f"{where}.{key[:30]}...: names are at most {MAX_HYPERPARAMETER_KEY} characters")
        if not isinstance(value, str):
            problems.shape.append(f"{where}.{key}: values are strings in SageMaker, write {str(value)!r}")
        elif len(value) > MAX_HYPERPARAMETER_VALUE:
            problems.shape.append(f"{where}.{key}: values are at most {MAX_HYPERPARAMETER_VALUE} characters")
    return {k: v for k, v in raw.items() if isinstance(v, str)}


def _positive_int(payload: Mapping[str, Any], key: str, ceiling: int | None, problems: _Problems) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.shape.append(f"$.{key}: must be a positive integer, got {value!r}")
        return None
    if ceiling is not None and value > ceiling:
        problems.policy.append(f"$.{key}: {value} exceeds the team's limit of {ceiling}")
        return None
    return value


def _instance_type(raw: Any, where: str, allowed: tuple[str, ...], default: str, problems: _Problems) -> str:
    if raw is None:
        return default
    if not isinstance(raw, str):
        problems.shape.append(f"{where}: must be an instance type string, got {raw!r}")
    elif raw not in allowed:
        problems.policy.append(f"{where}: {raw!r} is not allowed for this team (allowed: {', '.join(allowed)})")
    return default if not isinstance(raw, str) else raw


def _deploy(raw: Any, policy: TeamPolicy, problems: _Problems) -> DeployRequest | None:
    if raw is None:
        return None
    where = "$.Deploy"
    if not isinstance(raw, Mapping):
        problems.shape.append(f"{where}: must be an object with EndpointName, InstanceType, InitialInstanceCount")
        return None
    for key in sorted(set(raw) - _DEPLOY_KEYS):
        problems.shape.append(f"{where}.{key}: unknown field (allowed: {', '.join(sorted(_DEPLOY_KEYS))})")
    name = raw.get("EndpointName")
    if not isinstance(name, str) or not _NAME.match(name):
        problems.shape.append(f"{where}.EndpointName: required, 1-63 letters, digits and hyphens, got {name!r}")
    instance_type = _instance_type(
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
