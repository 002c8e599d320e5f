"""Fields that several execution inputs share, each parsed into problems named by JSON path.

Shape problems and team-policy problems are kept apart: an input that is well-formed but outside
the team's limits fails as PolicyViolation, anything else as InvalidInput.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tunestack_runtime.contract import SAGEMAKER_NAME
from tunestack_runtime.errors import InvalidInput, PolicyViolation
from tunestack_runtime.json_path import child
from tunestack_runtime.jumpstart import CONTAINER_HYPERPARAMETERS
from tunestack_runtime.policy import TeamPolicy

#: SageMaker's own limits.
MAX_HYPERPARAMETERS = 100
MAX_HYPERPARAMETER_KEY = 256
MAX_HYPERPARAMETER_VALUE = 2500
MAX_METRIC_DEFINITIONS = 40
DEFAULT_MAX_RUNTIME_SECONDS = 24 * 3600

#: The largest input accepted, as compact JSON in UTF-8. The state carries the job request built
#: from the input, the job's outcome and the analysis, and Step Functions fails an execution whose
#: state passes 256 KiB with States.DataLimitExceeded, which no Catch takes: after the job ran.
MAX_INPUT_BYTES = 64 * 1024

NAME = SAGEMAKER_NAME
#: JumpStart model ids: published ones use letters of both cases, digits and hyphens
#: (``huggingface-llm-falcon-3-7B-Instruct``, the SageMaker Python SDK's model table); ``_`` and
#: ``.`` appear in catalogs too (private hubs, the SDK's own test specs).
JUMPSTART_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,127}$")
ECR_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9][a-z0-9._/-]*(:[\w.-]{1,128}|@sha256:[0-9a-f]{64})?$"
)
BUILT_INS = {"xgboost", "image-classification"}
_ALGORITHM_FORMS = {
    "JumpStartModelId": {"JumpStartModelId", "JumpStartModelVersion"},
    "BuiltInAlgorithm": {"BuiltInAlgorithm", "Version"},
    "TrainingImage": {"TrainingImage", "MetricDefinitions", "InferenceImage"},
}


@dataclass(frozen=True, kw_only=True)
class Algorithm:
    kind: str  # "jumpstart" | "built-in" | "custom"
    name: str  # model id, built-in algorithm name or training image
    version: str | None = None
    metric_definitions: tuple[dict[str, str], ...] = ()
    inference_image: str | None = None


#: SageMaker request members (botocore's sagemaker model: CreateTrainingJob,
#: CreateHyperParameterTuningJob) whose value an input gives under another name.
SAGEMAKER_NAMES = {
    "HyperParameterTuningJobName": "TuningJobName",
    "TrainingJobName": "ModelName",
    "EnableManagedSpotTraining": "UseSpotInstances",
}


def closest_field(key: str, allowed: Iterable[str]) -> str | None:
    """The field ``key`` was probably meant to be: the input's name for a SageMaker request member,
    the same name in another case (``trainingData``, ``ModelID``), else the one closest in
    spelling (difflib's ratio of at least 0.75)."""
    names = sorted(allowed)
    if SAGEMAKER_NAMES.get(str(key)) in names:
        return SAGEMAKER_NAMES[str(key)]
    for name in names:
        if name.lower() == str(key).lower():
            return name
    close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.75)
    return close[0] if close else None


def unknown_field(where: str, key: str, allowed: Iterable[str], context: str = "") -> str:
    """The problem line of a field the input may not have, with the field it was probably meant to
    be: ``$.trainingData: unknown field, did you mean 'TrainingData'? (allowed: ...)``."""
    names = sorted(allowed)
    guess = closest_field(key, names)
    meant = f", did you mean {guess!r}?" if guess else ""
    return f"{child(where, key)}: unknown field{context}{meant} (allowed: {', '.join(names)})"


class Problems:
    def __init__(self) -> None:
        self.shape: list[str] = []
        self.policy: list[str] = []

    def raise_if_any(self) -> None:
        if self.shape:
            raise InvalidInput("\n".join(self.shape + self.policy))
        if self.policy:
            raise PolicyViolation("\n".join(self.policy))


def check_input_size(payload: Any) -> None:
    """InvalidInput naming the size when the input passes ``MAX_INPUT_BYTES``."""
    size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_INPUT_BYTES:
        raise InvalidInput(
            f"$: the input is {size:,} bytes of JSON, over the {MAX_INPUT_BYTES:,} bytes (64 KiB) an input may "
            "have: the execution's state carries the job request built from it, and Step Functions allows 256 KiB"
        )


def parse_algorithm(raw: Any, problems: Problems) -> Algorithm | None:
    if raw is None:
        problems.shape.append("$.Algorithm: required (a JumpStartModelId, a BuiltInAlgorithm or a TrainingImage)")
        return None
    if not isinstance(raw, Mapping):
        problems.shape.append(f"$.Algorithm: must be an object, got {raw!r}")
        return None
    forms = [form for form in _ALGORITHM_FORMS if form in raw]
    if len(forms) != 1:
        guesses = [f"{key!r} -> {guess!r}" for key in sorted(raw) if (guess := closest_field(key, _ALGORITHM_FORMS))]
        meant = f" (did you mean {', '.join(guesses)}?)" if guesses and not forms else ""
        problems.shape.append(
            f"$.Algorithm: give exactly one of {', '.join(_ALGORITHM_FORMS)}, got {sorted(raw) or 'none'}{meant}"
        )
        return None
    (form,) = forms
    before = len(problems.shape)
    for key in sorted(set(raw) - _ALGORITHM_FORMS[form]):
        problems.shape.append(unknown_field("$.Algorithm", key, _ALGORITHM_FORMS[form], f" with {form}"))
    if form == "JumpStartModelId":
        model_id, version = raw["JumpStartModelId"], raw.get("JumpStartModelVersion", "*")
        if not isinstance(model_id, str) or not JUMPSTART_ID.fullmatch(model_id):
            problems.shape.append(f"$.Algorithm.JumpStartModelId: not a JumpStart model id, got {model_id!r}")
        if not isinstance(version, str) or not version:
            problems.shape.append(f"$.Algorithm.JumpStartModelVersion: must be a version or '*', got {version!r}")
        return None if len(problems.shape) > before else Algorithm(kind="jumpstart", name=model_id, version=version)
    if form == "BuiltInAlgorithm":
        name, version = raw["BuiltInAlgorithm"], raw.get("Version")
        if not isinstance(name, str) or name not in BUILT_INS:
            problems.shape.append(f"$.Algorithm.BuiltInAlgorithm: one of {sorted(BUILT_INS)}, got {name!r}")
        if name == "xgboost" and not isinstance(version, str):
            problems.shape.append("$.Algorithm.Version: required for xgboost, e.g. '1.7-1'")
        return None if len(problems.shape) > before else Algorithm(kind="built-in", name=name, version=version)
    image = raw["TrainingImage"]
    if not isinstance(image, str) or not ECR_IMAGE.fullmatch(image):
        problems.shape.append(f"$.Algorithm.TrainingImage: not an ECR image URI, got {image!r}")
    inference = raw.get("InferenceImage")
    if inference is not None and (not isinstance(inference, str) or not ECR_IMAGE.fullmatch(inference)):
        problems.shape.append(f"$.Algorithm.InferenceImage: not an ECR image URI, got {inference!r}")
    metrics = parse_metric_definitions(raw.get("MetricDefinitions"), problems)
    if len(problems.shape) > before:
        return None
    return Algorithm(kind="custom", name=image, metric_definitions=metrics, inference_image=inference)


def parse_metric_definitions(raw: Any, problems: Problems) -> tuple[dict[str, str], ...]:
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


#: General purpose bucket naming rules (Amazon S3 User Guide, "Bucket naming rules"): 3-63
#: characters of lower-case letters, digits, dots and hyphens, beginning and ending with a letter or
#: digit, no two adjacent dots, not shaped like an IP address, no reserved prefix or suffix.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3")


def bucket_name_problem(bucket: str) -> str | None:
    """Why ``bucket`` cannot name an S3 bucket, or None."""
    if not bucket:
        return "an s3:// URI needs a bucket name"
    if (
        not _BUCKET.fullmatch(bucket)
        or ".." in bucket
        or _IP_ADDRESS.fullmatch(bucket)
        or bucket.startswith(_RESERVED_BUCKET_PREFIXES)
        or bucket.endswith(_RESERVED_BUCKET_SUFFIXES)
    ):
        return f"{bucket!r} is not a valid S3 bucket name"
    return None


def parse_training_data(raw: Any, policy: TeamPolicy, problems: Problems, where: str = "$.TrainingData") -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        problems.shape.append(f"{where}: a key prefix in the team bucket or an s3:// URI, got {raw!r}")
        return None
    if raw.startswith("s3://"):
        bucket, _, key = raw[len("s3://") :].partition("/")
        problem = bucket_name_problem(bucket)
        if problem:
            problems.shape.append(f"{where}: {problem}, got {raw!r}")
            return None
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


def parse_hyperparameters(raw: Any, problems: Problems, where: str = "$.HyperParameters") -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.shape.append(f"{where}: must be an object of string values, got {raw!r}")
        return {}
    if len(raw) > MAX_HYPERPARAMETERS:
        problems.shape.append(f"{where}: at most {MAX_HYPERPARAMETERS} hyperparameters, got {len(raw)}")
    for key, value in raw.items():
        if key in CONTAINER_HYPERPARAMETERS:
            problems.policy.append(f"{child(where, key)}: set by the platform for the training container, not an input")
            continue
        if len(key) > MAX_HYPERPARAMETER_KEY:
            problems.shape.append(f"{child(where, key[:30])}...: names are at most {MAX_HYPERPARAMETER_KEY} characters")
        if not isinstance(value, str):
            problems.shape.append(f"{child(where, key)}: values are strings in SageMaker, write {str(value)!r}")
        elif len(value) > MAX_HYPERPARAMETER_VALUE:
            problems.shape.append(f"{child(where, key)}: values are at most {MAX_HYPERPARAMETER_VALUE} characters")
    return {k: v for k, v in raw.items() if isinstance(v, str) and k not in CONTAINER_HYPERPARAMETERS}


def positive_int(payload: Mapping[str, Any], key: str, ceiling: int | None, problems: Problems) -> int | None:
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


def parse_instance_type(raw: Any, where: str, allowed: tuple[str, ...], default: str, problems: Problems) -> str:
    if raw is None:
        return default
    if not isinstance(raw, str):
        problems.shape.append(f"{where}: must be an instance type string, got {raw!r}")
    elif raw not in allowed:
        problems.policy.append(f"{where}: {raw!r} is not allowed for this team (allowed: {', '.join(allowed)})")
    return default if not isinstance(raw, str) else raw


def parse_accept_eula(payload: Mapping[str, Any], problems: Problems) -> bool:
    """``AcceptEula``: true accepts the EULA of a gated JumpStart model (checked once its spec loads)."""
    value = payload.get("AcceptEula", False)
    if not isinstance(value, bool):
        problems.shape.append(f"$.AcceptEula: must be true or false, got {value!r}")
        return False
    return value


@dataclass(frozen=True, kw_only=True)
class TrainingResources:
    """Where and how long a job runs, with the team's defaults filled in."""

    instance_type: str
    instance_count: int
    max_runtime_in_seconds: int
    use_spot_instances: bool


def parse_training_resources(payload: Mapping[str, Any], policy: TeamPolicy, problems: Problems) -> TrainingResources:
    """InstanceType, InstanceCount, MaxRuntimeInSeconds and UseSpotInstances, within the team's limits."""
    instance = parse_instance_type(
        payload.get("InstanceType"),
        "$.InstanceType",
        policy.training_instance_types,
        policy.default_training_instance_type,
        problems,
    )
    count = positive_int(payload, "InstanceCount", policy.max_instance_count, problems)
    runtime = positive_int(payload, "MaxRuntimeInSeconds", policy.max_runtime_in_seconds, problems)
    spot = payload.get("UseSpotInstances", False)
    if not isinstance(spot, bool):
        problems.shape.append(f"$.UseSpotInstances: must be true or false, got {spot!r}")
    return TrainingResources(
        instance_type=instance,
        instance_count=count or 1,
        max_runtime_in_seconds=runtime or min(DEFAULT_MAX_RUNTIME_SECONDS, policy.max_runtime_in_seconds),
        use_spot_instances=spot is True,
    )
