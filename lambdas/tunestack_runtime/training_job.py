"""The CreateTrainingJob request of a fine-tune, built from the validated input and the team.

The team's role, subnets, security groups, key, bucket and tags are always the platform's: an
input cannot name others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tunestack_runtime import builtin_algorithms, jumpstart
from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.fine_tune_input import FineTuneRequest
from tunestack_runtime.instances import scaled_batch_size
from tunestack_runtime.policy import TeamPolicy

TEAM_TAG = "tunestack:team"
EXECUTION_TAG = "tunestack:execution"
MODEL_TAG = "tunestack:model"
VOLUME_SIZE_GB = 50
SAGEMAKER_MAX_SECONDS = 28 * 24 * 3600

#: The hyperparameter each kind of algorithm reads its batch size from.
_BATCH_HYPERPARAMETER = {"jumpstart": "batch_size", "built-in": "mini_batch_size", "custom": "batch_size"}


@dataclass(frozen=True)
class TrainingRecipe:
    """How to run one algorithm: image, channels and hyperparameters, before the team's settings."""

    parent_model: str
    image: str
    channels: dict[str, str]
    hyperparameters: dict[str, str] = field(default_factory=dict)
    metric_definitions: list[dict[str, str]] = field(default_factory=list)
    network_isolation: bool = True
    dataset_kind: str | None = None  # "text" | "vision" | None (layout not checked)


def resolve_recipe(request: FineTuneRequest, policy: TeamPolicy, s3: Any) -> TrainingRecipe:
    algorithm = request.algorithm
    hyperparameters = dict(request.hyperparameters)
    if request.batch_size_per_gpu is not None:
        name = _BATCH_HYPERPARAMETER[algorithm.kind]
        hyperparameters[name] = str(scaled_batch_size(request.batch_size_per_gpu, request.instance_type))
    if algorithm.kind == "jumpstart":
        model = jumpstart.load_model(s3, policy.region, algorithm.name, algorithm.version or "*")
        if model.supported_instance_types and request.instance_type not in model.supported_instance_types:
            raise InvalidInput(
                f"$.InstanceType: {model.model_id} does not train on {request.instance_type} "
                f"(supported: {', '.join(model.supported_instance_types)})"
            )
        data = request.training_data_uri or model.default_dataset_uri
        if data is None:
            raise InvalidInput(f"$.TrainingData: required, {model.model_id} has no default dataset")
        merged = jumpstart.check_hyperparameters(model, hyperparameters)
        merged.update(
            {
                "sagemaker_submit_directory": model.script_uri,
                "sagemaker_program": "transfer_learning.py",
                "sagemaker_region": policy.region,
            }
        )
        return TrainingRecipe(
            parent_model=f"{model.model_id}@{model.version}",
            image=model.training_image(request.instance_type),
            channels={"training": data, "model": model.artifact_uri},
            hyperparameters=merged,
            metric_definitions=model.metric_definitions,
            network_isolation=model.network_isolation,
            dataset_kind={"tc": "text", "ic": "vision"}.get(model.task),
        )
    if request.training_data_uri is None:
        raise InvalidInput("$.TrainingData: required for built-in algorithms and custom images")
    if algorithm.kind == "built-in":
        return TrainingRecipe(
            parent_model=f"{algorithm.name}:{algorithm.version or 'latest'}",
            image=builtin_algorithms.image_uri(algorithm.name, algorithm.version, policy.region),
            channels={"train": request.training_data_uri},
            hyperparameters=hyperparameters,
            dataset_kind="vision" if algorithm.name == "image-classification" else None,
        )
    return TrainingRecipe(
        parent_model=algorithm.name,
        image=algorithm.name,
        channels={"training": request.training_data_uri},
        hyperparameters=hyperparameters,
        metric_definitions=list(algorithm.metric_definitions),
    )


def create_request(
    *, job_name: str, recipe: TrainingRecipe, request: FineTuneRequest, policy: TeamPolicy, execution_arn: str
) -> dict[str, Any]:
    """The CreateTrainingJob parameters; output lands in ``s3://<bucket>/<job_name>/output/``."""
    stopping: dict[str, int] = {"MaxRuntimeInSeconds": request.max_runtime_in_seconds}
    params: dict[str, Any] = {
        "TrainingJobName": job_name,
        "RoleArn": policy.role_arn,
        "AlgorithmSpecification": {"TrainingImage": recipe.image, "TrainingInputMode": "File"},
        "HyperParameters": recipe.hyperparameters,
        "InputDataConfig": [
            {
                "ChannelName": name,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": uri,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
            for name, uri in recipe.channels.items()
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{policy.bucket}/", "KmsKeyId": policy.key_arn},
        "ResourceConfig": {
            "InstanceType": request.instance_type,
            "InstanceCount": request.instance_count,
            "VolumeSizeInGB": VOLUME_SIZE_GB,
            "VolumeKmsKeyId": policy.key_arn,
        },
        "VpcConfig": {"SecurityGroupIds": list(policy.security_group_ids), "Subnets": list(policy.subnet_ids)},
        "StoppingCondition": stopping,
        "EnableNetworkIsolation": recipe.network_isolation,
        "EnableInterContainerTrafficEncryption": True,
        "EnableManagedSpotTraining": request.use_spot_instances,
        "Tags": [
            {"Key": TEAM_TAG, "Value": policy.team},
            {"Key": EXECUTION_TAG, "Value": execution_arn},
            {"Key": MODEL_TAG, "Value": recipe.parent_model},
        ],
    }
    if recipe.metric_definitions:
        params["AlgorithmSpecification"]["MetricDefinitions"] = recipe.metric_definitions
    if request.use_spot_instances:
        # Spot capacity may be reclaimed: wait up to twice the runtime, resuming from checkpoints.
        stopping["MaxWaitTimeInSeconds"] = min(2 * request.max_runtime_in_seconds, SAGEMAKER_MAX_SECONDS)
        params["CheckpointConfig"] = {"S3Uri": f"s3://{policy.bucket}/{job_name}/checkpoints/"}
    return params


def output_artifact_uri(bucket: str, job_name: str) -> str:
    return f"s3://{bucket}/{job_name}/output/model.tar.gz"
