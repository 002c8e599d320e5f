"""The CreateTrainingJob request of a fine-tune, built from the validated input and the team.

The team's role, subnets, security groups, key, bucket and tags are always the platform's: an
input cannot name others.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from tunestack_runtime import builtin_algorithms, jumpstart
from tunestack_runtime.contract import FINE_TUNE, TUNE
from tunestack_runtime.datasets import layouts
from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.executions import Execution
from tunestack_runtime.input_fields import Algorithm
from tunestack_runtime.instances import scaled_batch_size, takes_volume_key
from tunestack_runtime.policy import TeamPolicy
from tunestack_runtime.tags import EULA_TAG, INFERENCE_IMAGE_TAG, MODEL_TAG, TEAM_TAG, execution_tags

if TYPE_CHECKING:  # the validators are not needed to build a request
    from tunestack_runtime.fine_tune_input import FineTuneRequest

SAGEMAKER_MAX_SECONDS = 28 * 24 * 3600

#: The batch-size hyperparameter of built-in algorithms that have one (image-classification's
#: ``mini_batch_size``, per the SageMaker developer guide's hyperparameter tables; xgboost has none).
_BUILT_IN_BATCH_HYPERPARAMETER = {"image-classification": "mini_batch_size"}


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
    channels: dict[str, str]  # the data channels an input names (or the model's default dataset)
    hyperparameters: dict[str, str] = field(default_factory=dict)
    metric_definitions: list[dict[str, str]] = field(default_factory=list)
    network_isolation: bool = True
    #: The layout of the data channel an input names (None: not known, the channel must hold data).
    dataset_layout: layouts.Layout | None = None
    content_type: str | None = None  # of the data channels (built-in algorithms need it)
    inference_image: str | None = None  # custom algorithms: the image that serves the model
    #: Channels the algorithm itself needs (a JumpStart model's weights and script), built whole.
    platform_channels: tuple[dict[str, Any], ...] = ()
    environment: dict[str, str] = field(default_factory=dict)
    volume_size_gb: int = jumpstart.DEFAULT_VOLUME_SIZE_GB
    #: JumpStart script mode: the container reads ``sagemaker_job_name``, set once the name is known.
    names_job_in_hyperparameters: bool = False
    eula_accepted: bool = False
    #: False: SageMaker writes the model uncompressed under ``output/model/`` (OutputDataConfig.CompressionType NONE).
    compressed_output: bool = True


#: Training data as an input gives it: one S3 prefix (the algorithm's usual channel), named
#: channels, or None for the model's default dataset.
TrainingData = str | Mapping[str, str] | None
#: The channel a single prefix becomes, by kind of algorithm.
_DEFAULT_CHANNEL = {"jumpstart": "training", "built-in": "train", "custom": "training"}
#: Channels a JumpStart model brings itself: its weights and, under network isolation, its script.
PLATFORM_CHANNELS = frozenset({jumpstart.MODEL_CHANNEL, jumpstart.CODE_CHANNEL})
#: What built-in algorithms are told their channels hold.
_CONTENT_TYPE = {"xgboost": "text/csv", "image-classification": "application/x-image"}


def _channels(data: TrainingData, kind: str) -> dict[str, str]:
    if data is None:
        return {}
    return {_DEFAULT_CHANNEL[kind]: data} if isinstance(data, str) else dict(data)


def _batch_size(
    algorithm: Algorithm, per_gpu: int, instance_type: str, model: jumpstart.JumpStartModel | None
) -> tuple[str, str]:
    """(hyperparameter, value) that ``BatchSizePerGpu`` sets for this algorithm on ``instance_type``."""
    if model is not None:
        found = jumpstart.batch_size_hyperparameter(model, instance_type)
        if found is None:
            raise InvalidInput(f"$.BatchSizePerGpu: {model.reference} has no batch-size hyperparameter")
        name, per_device = found
        return name, str(per_gpu if per_device else scaled_batch_size(per_gpu, instance_type))
    name_or_none = _BUILT_IN_BATCH_HYPERPARAMETER.get(algorithm.name) if algorithm.kind == "built-in" else "batch_size"
    if name_or_none is None:
        raise InvalidInput(f"$.BatchSizePerGpu: the built-in {algorithm.name} has no batch-size hyperparameter")
    return name_or_none, str(scaled_batch_size(per_gpu, instance_type))


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
    accept_eula: bool = False,
    hyperparameters_field: str = "$.HyperParameters",
) -> TrainingRecipe:
    """How to run ``algorithm`` on ``training_data``; ``tuned`` hyperparameters are left to the
    tuning job (a model's defaults for them are not passed as static values)."""
    hyperparameters = dict(hyperparameters)
    channels = _channels(training_data, algorithm.kind)
    if algorithm.kind == "jumpstart":
        model = jumpstart.load_model(s3, policy.region, algorithm.name, algorithm.version or "*")
        if batch_size_per_gpu is not None:
            name, value = _batch_size(algorithm, batch_size_per_gpu, instance_type, model)
            hyperparameters[name] = value
        return _jumpstart_recipe(
            model,
            hyperparameters=hyperparameters,
            instance_type=instance_type,
            channels=channels,
            tuned=tuned,
            accept_eula=accept_eula,
            hyperparameters_field=hyperparameters_field,
        )
    if accept_eula:
        raise InvalidInput("$.AcceptEula: only JumpStart models have a EULA to accept")
    if batch_size_per_gpu is not None:
        name, value = _batch_size(algorithm, batch_size_per_gpu, instance_type, None)
        hyperparameters[name] = value
    if not channels:
        raise InvalidInput("$.TrainingData: required for built-in algorithms and custom images")
    if algorithm.kind == "built-in":
        return TrainingRecipe(
            parent_model=f"{algorithm.name}:{algorithm.version or 'latest'}",
            image=builtin_algorithms.image_uri(algorithm.name, algorithm.version, policy.region),
            channels=channels,
            hyperparameters=hyperparameters,
            dataset_layout=layouts.for_builtin(algorithm.name),
            content_type=_CONTENT_TYPE.get(algorithm.name),
        )
    return TrainingRecipe(
        parent_model=algorithm.name,
        image=algorithm.name,
        channels=channels,
        hyperparameters=hyperparameters,
        metric_definitions=list(algorithm.metric_definitions),
        inference_image=algorithm.inference_image,
        dataset_layout=layouts.CUSTOM_IMAGE,
    )


def _jumpstart_recipe(
    model: jumpstart.JumpStartModel,
    *,
    hyperparameters: dict[str, str],
    instance_type: str,
    channels: dict[str, str],
    tuned: Collection[str],
    accept_eula: bool,
    hyperparameters_field: str,
) -> TrainingRecipe:
    """A JumpStart model's job as the SageMaker SDK's JumpStartEstimator builds it: image, weights,
    script, defaults, metrics and environment from the spec, for ``instance_type``."""
    if model.supported_instance_types and instance_type not in model.supported_instance_types:
        raise InvalidInput(
            f"$.InstanceType: {model.model_id} does not train on {instance_type} "
            f"(supported: {', '.join(model.supported_instance_types)})"
        )
    if model.is_gated and not accept_eula:
        document = f"read it at {model.eula_uri}" if model.eula_uri else "its spec names no EULA document"
        raise InvalidInput(
            f"$.AcceptEula: {model.reference} is gated behind a EULA ({document}); set AcceptEula to true"
        )
    if accept_eula and not model.is_gated:
        raise InvalidInput(f"$.AcceptEula: {model.reference} has no EULA to accept")
    if not channels:
        if model.default_dataset_uri is None:
            raise InvalidInput(f"$.TrainingData: required, {model.model_id} has no default dataset")
        channels = {"training": model.default_dataset_uri}
    merged = jumpstart.check_hyperparameters(model, hyperparameters, instance_type, hyperparameters_field)
    unknown = sorted(set(tuned) - set(merged))
    if unknown:
        raise InvalidInput(
            f"$.HyperParameterTuningJobConfig.ParameterRanges: {', '.join(unknown)} "
            f"{'is not a hyperparameter' if len(unknown) == 1 else 'are not hyperparameters'} of {model.reference} "
            f"(known: {', '.join(sorted(merged))})"
        )
    script = model.script_uri()
    platform_channels: list[dict[str, Any]] = []
    environment = model.training_environment(instance_type)
    model_uri = model.model_uri(instance_type)
    if model_uri is not None:
        weights = _channel(jumpstart.MODEL_CHANNEL, model_uri, jumpstart.MODEL_CHANNEL_CONTENT_TYPE)
        weights["InputMode"] = "File"
        if accept_eula:
            # The API's own place for the acceptance (S3DataSource.ModelAccessConfig), where the
            # weights travel as a channel; older gated specs read the environment variable below.
            weights["DataSource"]["S3DataSource"]["ModelAccessConfig"] = {"AcceptEula": True}
        platform_channels.append(weights)
    elif accept_eula:
        environment[jumpstart.ACCEPT_EULA_ENV_VAR] = "true"
    if model.network_isolation:
        # An isolated container cannot download its script: it travels as the "code" channel.
        platform_channels.append(_channel(jumpstart.CODE_CHANNEL, script, None))
    container = {
        "sagemaker_submit_directory": jumpstart.CODE_CHANNEL_SCRIPT if model.network_isolation else script,
        "sagemaker_program": jumpstart.TRAINING_ENTRY_POINT,
        "sagemaker_container_log_level": jumpstart.CONTAINER_LOG_LEVEL,
        "sagemaker_region": model.region,
    }
    return TrainingRecipe(
        parent_model=model.reference,
        image=model.training_image(instance_type),
        channels=channels,
        hyperparameters={**{k: v for k, v in merged.items() if k not in tuned}, **container},
        metric_definitions=model.metric_definitions(instance_type),
        network_isolation=model.network_isolation,
        dataset_layout=layouts.for_jumpstart(model.model_id, merged, tuned=tuned, where=hyperparameters_field),
        platform_channels=tuple(platform_channels),
        environment=environment,
        volume_size_gb=model.volume_size_gb(instance_type),
        names_job_in_hyperparameters=True,
        eula_accepted=accept_eula,
        compressed_output=model.compresses_output,
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
        accept_eula=request.accept_eula,
    )


def job_definition(
    *, recipe: TrainingRecipe, resources: Resources, policy: TeamPolicy, checkpoint_prefix: str | None
) -> dict[str, Any]:
    """What a training job needs beyond its name, hyperparameters and tags: the one definition
    both CreateTrainingJob and a tuning job's TrainingJobDefinition are built from.

    ``resources`` supplies instance type and count, runtime and spot; output goes to the team
    bucket's top level, where SageMaker adds ``<job name>/output/``. Spot checkpoints go under
    ``checkpoint_prefix`` (None: none kept).
    """
    stopping: dict[str, int] = {"MaxRuntimeInSeconds": resources.max_runtime_in_seconds}
    storage: dict[str, Any] = {
        "InstanceType": resources.instance_type,
        "InstanceCount": resources.instance_count,
        "VolumeSizeInGB": recipe.volume_size_gb,
    }
    if takes_volume_key(resources.instance_type):
        # SageMaker refuses a volume key on instance types with local (instance-store) storage,
        # which a hardware module encrypts; see instances.LOCAL_STORAGE_FAMILIES.
        storage["VolumeKmsKeyId"] = policy.key_arn
    definition: dict[str, Any] = {
        "RoleArn": policy.role_arn,
        "AlgorithmSpecification": {"TrainingImage": recipe.image, "TrainingInputMode": "File"},
        "InputDataConfig": [
            *(_channel(name, uri, recipe.content_type) for name, uri in recipe.channels.items()),
            *copy.deepcopy(recipe.platform_channels),
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{policy.bucket}/", "KmsKeyId": policy.key_arn},
        "ResourceConfig": storage,
        "VpcConfig": {"SecurityGroupIds": list(policy.security_group_ids), "Subnets": list(policy.subnet_ids)},
        "StoppingCondition": stopping,
        "EnableNetworkIsolation": recipe.network_isolation,
        "EnableInterContainerTrafficEncryption": True,
        "EnableManagedSpotTraining": resources.use_spot_instances,
    }
    if recipe.metric_definitions:
        definition["AlgorithmSpecification"]["MetricDefinitions"] = recipe.metric_definitions
    if recipe.environment:
        definition["Environment"] = dict(recipe.environment)
    if not recipe.compressed_output:
        definition["OutputDataConfig"]["CompressionType"] = "NONE"
    if resources.use_spot_instances:
        # Spot capacity may be reclaimed: wait up to twice the runtime, resuming from checkpoints.
        stopping["MaxWaitTimeInSeconds"] = min(2 * resources.max_runtime_in_seconds, SAGEMAKER_MAX_SECONDS)
        if checkpoint_prefix is not None:
            definition["CheckpointConfig"] = {"S3Uri": f"s3://{policy.bucket}/{checkpoint_prefix}/checkpoints/"}
    return definition


def _channel(name: str, uri: str, content_type: str | None) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}
        },
    }
    if content_type:
        channel["ContentType"] = content_type
    return channel


def team_tags(policy: TeamPolicy, execution: Execution, recipe: TrainingRecipe, pipeline: str) -> list[dict[str, str]]:
    tags = [
        {"Key": TEAM_TAG, "Value": policy.team},
        *execution_tags(execution, pipeline),
        {"Key": MODEL_TAG, "Value": recipe.parent_model},
    ]
    if recipe.inference_image:
        tags.append({"Key": INFERENCE_IMAGE_TAG, "Value": recipe.inference_image})
    if recipe.eula_accepted:
        tags.append({"Key": EULA_TAG, "Value": "true"})
    return tags


def hyperparameters_for(recipe: TrainingRecipe, job_name: str) -> dict[str, str]:
    """The recipe's hyperparameters, with the job's name where the container reads it."""
    if recipe.names_job_in_hyperparameters:
        return {**recipe.hyperparameters, "sagemaker_job_name": job_name}
    return dict(recipe.hyperparameters)


def create_request(
    *, job_name: str, recipe: TrainingRecipe, request: FineTuneRequest, policy: TeamPolicy, execution: Execution
) -> dict[str, Any]:
    """The CreateTrainingJob parameters; output lands in ``s3://<bucket>/<job_name>/output/``, spot
    checkpoints in ``s3://<bucket>/<job_name>/checkpoints/`` (the job's own: SageMaker never reuses
    a training job's name)."""
    return {
        "TrainingJobName": job_name,
        **job_definition(recipe=recipe, resources=request, policy=policy, checkpoint_prefix=job_name),
        "HyperParameters": hyperparameters_for(recipe, job_name),
        "Tags": team_tags(policy, execution, recipe, FINE_TUNE),
    }


def output_artifact_uri(bucket: str, job_name: str, compressed: bool = True) -> str:
    """Where SageMaker writes the trained model: ``model.tar.gz``, or a folder when uncompressed."""
    return f"s3://{bucket}/{job_name}/output/{'model.tar.gz' if compressed else 'model/'}"


def create_tuning_request(
    *,
    tuning_job_name: str,
    recipe: TrainingRecipe,
    resources: Resources,
    policy: TeamPolicy,
    execution: Execution,
    config: Mapping[str, Any],
    warm_start: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The CreateHyperParameterTuningJob parameters: the user's config as pasted, the same job
    definition as a fine-tune, and the recipe's hyperparameters as the static ones.

    Training jobs of a tuning job are named ``<tuning job>-<nnn>-<id>`` by SageMaker and inherit
    its tags, so the team and execution tags reach every trial.

    No spot checkpoints: every trial runs the one TrainingJobDefinition, so a checkpoint location
    there would be shared by all of them and a trial could resume from another's checkpoints
    (with other hyperparameters). A trial whose spot capacity is reclaimed starts again instead.
    """
    definition = job_definition(recipe=recipe, resources=resources, policy=policy, checkpoint_prefix=None)
    params: dict[str, Any] = {
        "HyperParameterTuningJobName": tuning_job_name,
        "HyperParameterTuningJobConfig": dict(config),
        "TrainingJobDefinition": {**definition, "StaticHyperParameters": hyperparameters_for(recipe, tuning_job_name)},
        "Tags": team_tags(policy, execution, recipe, TUNE),
    }
    if warm_start is not None:
        params["WarmStartConfig"] = dict(warm_start)
    return params
