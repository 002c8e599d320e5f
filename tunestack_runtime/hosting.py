"""Where a deployable model comes from and which container serves it.

The model is a completed training job's artifacts (or a tuning job's best training job's). The
serving container follows the algorithm recorded in the job's ``MODEL_TAG`` tag: a JumpStart
model's hosting image, script and environment from its spec; a built-in algorithm's own image,
which also serves; a custom image's ``InferenceImage`` recorded at training time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tunestack_runtime import jumpstart
from tunestack_runtime.errors import InvalidInput, not_the_teams
from tunestack_runtime.input_fields import BUILT_INS
from tunestack_runtime.job_lifecycle import not_visible
from tunestack_runtime.policy import TeamPolicy
from tunestack_runtime.tags import INFERENCE_IMAGE_TAG, MODEL_TAG, TEAM_TAG, resource_tags


@dataclass(frozen=True)
class ModelSource:
    training_job_name: str
    tuning_job_name: str | None
    training_image: str
    model_data_url: str
    tags: dict[str, str]

    @property
    def parent_model(self) -> str:
        return self.tags.get(MODEL_TAG, "")


@dataclass(frozen=True)
class Container:
    image: str
    environment: dict[str, str]
    network_isolation: bool


def model_source(
    sagemaker: Any, policy: TeamPolicy, *, training_job: str | None, tuning_job: str | None
) -> ModelSource:
    """The completed training job to deploy, checked to be the team's."""
    if tuning_job is not None:
        field = "$.TuningJobName"
        try:
            tuning = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_job)
        except ClientError as error:
            if not_visible(error):
                raise InvalidInput(f"{field} ({tuning_job}): no tuning job of that name this team can read") from None
            raise
        best = (tuning.get("BestTrainingJob") or {}).get("TrainingJobName")
        if not best:
            status = tuning["HyperParameterTuningJobStatus"]
            raise InvalidInput(f"{field} ({tuning_job}): it has no best training job (it is {status})")
        training_job = best
    assert training_job is not None
    field = "$.TrainingJobName" if tuning_job is None else f"the best training job of {tuning_job}"
    try:
        description = sagemaker.describe_training_job(TrainingJobName=training_job)
    except ClientError as error:
        if not_visible(error):
            raise InvalidInput(f"{field} ({training_job}): no training job of that name this team can read") from None
        raise
    if description["TrainingJobStatus"] != "Completed":
        status = description["TrainingJobStatus"]
        raise InvalidInput(f"{field} ({training_job}): it is {status}; only a completed training job has a model")
    tags = resource_tags(sagemaker, description["TrainingJobArn"])
    if tags.get(TEAM_TAG) != policy.team:
        raise not_the_teams(field, training_job, tags.get(TEAM_TAG), policy.team)
    return ModelSource(
        training_job_name=training_job,
        tuning_job_name=tuning_job,
        training_image=description["AlgorithmSpecification"]["TrainingImage"],
        model_data_url=description["ModelArtifacts"]["S3ModelArtifacts"],
        tags=tags,
    )


def serving_container(source: ModelSource, instance_type: str, policy: TeamPolicy, s3: Any, where: str) -> Container:
    """The image, environment and isolation that serve ``source`` on ``instance_type``."""
    parent = source.parent_model
    if "@" in parent:
        model_id, version = parent.split("@", 1)
        model = jumpstart.load_model(s3, policy.region, model_id, version, for_training=False)
        supported = model.supported_inference_instance_types
        if supported and instance_type not in supported:
            raise InvalidInput(
                f"{where}: {model_id} does not serve on {instance_type} (supported: {', '.join(supported)})"
            )
        return Container(
            image=model.hosting_image(instance_type, where),
            environment=model.inference_environment,
            network_isolation=model.inference_network_isolation,
        )
    if parent.partition(":")[0] in BUILT_INS:
        return Container(image=source.training_image, environment={}, network_isolation=True)
    image = source.tags.get(INFERENCE_IMAGE_TAG)
    if not image:
        raise InvalidInput(
            f"$.TrainingJobName ({source.training_job_name}): its custom training image names no InferenceImage; "
            "train with Algorithm.InferenceImage to deploy it"
        )
    return Container(image=image, environment={}, network_isolation=True)
