"""The CreateTrainingJob request of a fine-tune, built from the validated input and the team.

The team's role, subnets, security groups, key, bucket and tags are always the platform's: an
input cannot name others.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from tunestack_runtime import builtin_algorithms, jumpstart
from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.input_fields import Algorithm
from tunestack_runtime.instances import scaled_batch_size
from tunestack_runtime.policy import TeamPolicy
from tunestack_runtime.tags import EXECUTION_TAG, INFERENCE_IMAGE_TAG, MODEL_TAG, TEAM_TAG

if TYPE_CHECKING:  # the validators are not needed to build a request
    from tunestack_runtime.fine_tune_input import FineTuneRequest

VOLUME_SIZE_GB = 50
SAGEMAKER_MAX_SECONDS = 28 * 24 * 3600

#: The hyperparameter each kind of algorithm reads its batch size from.
_BATCH_HYPERPARAMETER = {"jumpstart": "batch_size", "built-in": "mini_batch_size", "custom": "batch_size"}


class Resources(Protocol):
    """Where and how long a job runs; a fine-tune input provides it, and so will a tune input."""

    @property
    def instance_type(self) -> str: ...

    @property
    def instance_count(self) -> int: ...

    @property
    def max_runtime_in_seconds(self) -> int: ...

    @property
    def use_spot_instances(self) -> bool: ...


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
    content_type: str | None = None  # of the data channels (not of the JumpStart "model" channel)
    inference_image: str | None = None  # custom algorithms: the image that serves the model


#: Training data as an input gives it: one S3 prefix (the algorithm's usual channel), named
#: channels, or None for the model's default dataset.
TrainingData = str | Mapping[str, str] | None
#: The channel a single prefix becomes, by kind of algorithm.
_DEFAULT_CHANNEL = {"jumpstart": "training", "built-in": "train", "custom": "training"}
#: What built-in algorithms are told their channels hold.
_CONTENT_TYPE = {"xgboost": "text/csv", "image-classification": "application/x-image"}


def _channels(data: TrainingData, kind: str) -> dict[str, str]:
    if data is None:
        return {}
    return {_DEFAULT_CHANNEL[kind]: data} if isinstance(data, str) else dict(data)


def resolve_recipe(
    *,
    algorithm: Algorithm,
    hyperparameters: Mapping[str, str],
    instance_type: str,
    training_data: TrainingData,
    policy: TeamPolicy,
    s3: Any,
    batch_size_per_gpu: int | None = None,
    tuned: Collection[str] = (),
) -> TrainingRecipe:
    """How to run ``algorithm`` on ``training_data``; ``tuned`` hyperparameters are left to the
    tuning job (a model's defaults for them are not passed as static values)."""
    hyperparameters = dict(hyperparameters)
    if batch_size_per_gpu is not None:
        name = _BATCH_HYPERPARAMETER[algorithm.kind]
        hyperparameters[name] = str(scaled_batch_size(batch_size_per_gpu, instance_type))
    channels = _channels(training_data, algorithm.kind)
    if algorithm.kind == "jumpstart":
        model = jumpstart.load_model(s3, policy.region, algorithm.name, algorithm.version or "*")
        if model.supported_instance_types and instance_type not in model.supported_instance_types:
            raise InvalidInput(
                f"$.InstanceType: {model.model_id} does not train on {instance_type} "
                f"(supported: {', '.join(model.supported_instance_types)})"
            )
        if not channels:
            if model.default_dataset_uri is None:
                raise InvalidInput(f"$.TrainingData: required, {model.model_id} has no default dataset")
            channels = {"training": model.default_dataset_uri}
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
            image=model.training_image(instance_type),
            channels={**channels, "model": model.artifact_uri},
            hyperparameters={k: v for k, v in merged.items() if k not in tuned},
            metric_definitions=model.metric_definitions,
            network_isolation=model.network_isolation,
            dataset_kind={"tc": "text", "ic": "vision"}.get(model.task),
        )
    if not channels:
        raise InvalidInput("$.TrainingData: required for built-in algorithms and custom images")
    if algorithm.kind == "built-in":
        return TrainingRecipe(
            parent_model=f"{algorithm.name}:{algorithm.version or 'latest'}",
            image=builtin_algorithms.image_uri(algorithm.name, algorithm.version, policy.region),
            channels=channels,
            hyperparameters=hyperparameters,
            dataset_kind="vision" if algorithm.name == "image-classification" else None,
            content_type=_CONTENT_TYPE.get(algorithm.name),
        )
    return TrainingRecipe(
        parent_model=algorithm.name,
        image=algorithm.name,
        channels=channels,
        hyperparameters=hyperparameters,
        metric_definitions=list(algorithm.metric_definitions),
        inference_image=algorithm.inference_image,
    )


def fine_tune_recipe(request: FineTuneRequest, policy: TeamPolicy, s3: Any) -> TrainingRecipe:
    return resolve_recipe(
        algorithm=request.algorithm,
        hyperparameters=request.hyperparameters,
        instance_type=request.instance_type,
        training_data=request.training_data_uri,
        batch_size_per_gpu=request.batch_size_per_gpu,
        policy=policy,
        s3=s3,
    )


def job_definition(
    *, recipe: TrainingRecipe, resources: Resources, policy: TeamPolicy, checkpoint_prefix: str
) -> dict[str, Any]:
    """What a training job needs beyond its name, hyperparameters and tags: the one definition
    both CreateTrainingJob and a tuning job's TrainingJobDefinition are built from.

    ``resources`` supplies instance type and count, runtime and spot; output goes to the team
    bucket's top level, where SageMaker adds ``<job name>/output/``.
    """
    stopping: dict[str, int] = {"MaxRuntimeInSeconds": resources.max_runtime_in_seconds}
    definition: dict[str, Any] = {
        "RoleArn": policy.role_arn,
        "AlgorithmSpecification": {"TrainingImage": recipe.image, "TrainingInputMode": "File"},
        "InputDataConfig": [_channel(name, uri, recipe.content_type) for name, uri in recipe.channels.items()],
        "OutputDataConfig": {"S3OutputPath": f"s3://{policy.bucket}/", "KmsKeyId": policy.key_arn},
        "ResourceConfig": {
            "InstanceType": resources.instance_type,
            "InstanceCount": resources.instance_count,
            "VolumeSizeInGB": VOLUME_SIZE_GB,
            "VolumeKmsKeyId": policy.key_arn,
        },
        "VpcConfig": {"SecurityGroupIds": list(policy.security_group_ids), "Subnets": list(policy.subnet_ids)},
        "StoppingCondition": stopping,
        "EnableNetworkIsolation": recipe.network_isolation,
        "EnableInterContainerTrafficEncryption": True,
        "EnableManagedSpotTraining": resources.use_spot_instances,
    }
    if recipe.metric_definitions:
        definition["AlgorithmSpecification"]["MetricDefinitions"] = recipe.metric_definitions
    if resources.use_spot_instances:
        # Spot capacity may be reclaimed: wait up to twice the runtime, resuming from checkpoints.
        stopping["MaxWaitTimeInSeconds"] = min(2 * resources.max_runtime_in_seconds, SAGEMAKER_MAX_SECONDS)
        definition["CheckpointConfig"] = {"S3Uri": f"s3://{policy.bucket}/{checkpoint_prefix}/checkpoints/"}
    return definition


def _channel(name: str, uri: str, content_type: str | None) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}
        },
    }
    if content_type and name != "model":
        channel["ContentType"] = content_type
    return channel


def team_tags(policy: TeamPolicy, execution_arn: str, recipe: TrainingRecipe) -> list[dict[str, str]]:
    tags = [
        {"Key": TEAM_TAG, "Value": policy.team},
        {"Key": EXECUTION_TAG, "Value": execution_arn},
        {"Key": MODEL_TAG, "Value": recipe.parent_model},
    ]
    if recipe.inference_image:
        tags.append({"Key": INFERENCE_IMAGE_TAG, "Value": recipe.inference_image})
    return tags


def create_request(
    *, job_name: str, recipe: TrainingRecipe, request: FineTuneRequest, policy: TeamPolicy, execution_arn: str
) -> dict[str, Any]:
    """The CreateTrainingJob parameters; output lands in ``s3://<bucket>/<job_name>/output/``."""
    return {
        "TrainingJobName": job_name,
        **job_definition(recipe=recipe, resources=request, policy=policy, checkpoint_prefix=job_name),
        "HyperParameters": recipe.hyperparameters,
        "Tags": team_tags(policy, execution_arn, recipe),
    }


def output_artifact_uri(bucket: str, job_name: str) -> str:
    return f"s3://{bucket}/{job_name}/output/model.tar.gz"


def create_tuning_request(
    *,
    tuning_job_name: str,
    recipe: TrainingRecipe,
    resources: Resources,
    policy: TeamPolicy,
    execution_arn: str,
    config: Mapping[str, Any],
    warm_start: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The CreateHyperParameterTuningJob parameters: the user's config as pasted, the same job
    definition as a fine-tune, and the recipe's hyperparameters as the static ones.

    Training jobs of a tuning job are named ``<tuning job>-<nnn>-<id>`` by SageMaker and inherit
    its tags, so the team and execution tags reach every trial.
    """
    definition = job_definition(recipe=recipe, resources=resources, policy=policy, checkpoint_prefix=tuning_job_name)
    params: dict[str, Any] = {
        "HyperParameterTuningJobName": tuning_job_name,
        "HyperParameterTuningJobConfig": dict(config),
        "TrainingJobDefinition": {**definition, "StaticHyperParameters": recipe.hyperparameters},
        "Tags": team_tags(policy, execution_arn, recipe),
    }
    if warm_start is not None:
        params["WarmStartConfig"] = dict(warm_start)
    return params
