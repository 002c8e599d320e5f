"""The kinds of SageMaker job an execution waits on: how each is created, described, stopped and
reported. ``job_lifecycle`` runs them all the same way.
"""

from __future__ import annotations

from typing import Any

from tunestack_runtime import console_links
from tunestack_runtime.console_links import LINKS_FIELD, Place
from tunestack_runtime.contract import TRAINING_JOB, TUNING_JOB
from tunestack_runtime.endpoint_lifecycle import ENDPOINT
from tunestack_runtime.errors import (
    TrainingJobFailed,
    TrainingJobStopped,
    TrainingJobTimedOut,
    TuningJobFailed,
    TuningJobTimedOut,
)
from tunestack_runtime.job_lifecycle import JobKind


def _failure(description: dict[str, Any], status: str, noun: str) -> str:
    return str(description.get("FailureReason") or f"the {noun} ended as {status}")


def training_outcome(description: dict[str, Any], extras: dict[str, Any]) -> tuple[str, Any]:
    status = description[TRAINING_JOB.status_field]
    if status == "Completed":
        arn, artifacts = description["TrainingJobArn"], description.get("ModelArtifacts", {}).get("S3ModelArtifacts")
        artifacts = artifacts or extras.get("ModelArtifacts")
        return "success", {
            **extras,
            "TrainingJobName": description["TrainingJobName"],
            "TrainingJobArn": arn,
            "TrainingTimeSeconds": description.get("TrainingTimeInSeconds"),
            "BillableTimeSeconds": description.get("BillableTimeInSeconds"),
            "ModelArtifacts": artifacts,
            LINKS_FIELD: console_links.merged(
                extras,
                console_links.links(
                    TrainingJob=lambda: Place.of(arn).training_job(description["TrainingJobName"]),
                    ModelArtifacts=lambda: Place.of(arn).s3_object(artifacts),
                ),
            ),
        }
    error = "TrainingJobFailed" if status == "Failed" else "TrainingJobStopped"
    return error, _failure(description, status, "training job")


def tuning_outcome(description: dict[str, Any], extras: dict[str, Any]) -> tuple[str, Any]:
    """A completed tuning job hands its name on to the analysis, and so does a stopped one: a person
    stopped it (tunestack's own stops end the wait first), and the trials it finished are worth a
    leaderboard and a best-so-far. A failed one fails with the reason."""
    status = description[TUNING_JOB.status_field]
    if status in {"Completed", "Stopped"}:
        name, arn = description["HyperParameterTuningJobName"], description["HyperParameterTuningJobArn"]
        return "success", {
            **extras,
            "TuningJobName": name,
            "TuningJobArn": arn,
            "TuningJobStatus": status,
            "TrainingJobStatusCounters": description.get("TrainingJobStatusCounters", {}),
            LINKS_FIELD: console_links.merged(
                extras, console_links.links(TuningJob=lambda: Place.of(arn).tuning_job(name))
            ),
        }
    return "TuningJobFailed", _failure(description, status, "tuning job")


TRAINING = JobKind(
    spec=TRAINING_JOB,
    create=lambda sagemaker, params: sagemaker.create_training_job(**params)["TrainingJobArn"],
    describe=lambda sagemaker, name: sagemaker.describe_training_job(TrainingJobName=name),
    stop=lambda sagemaker, name: sagemaker.stop_training_job(TrainingJobName=name),
    outcome=training_outcome,
    errors={"TrainingJobFailed": TrainingJobFailed, "TrainingJobStopped": TrainingJobStopped},
    timed_out=TrainingJobTimedOut,
)

TUNING = JobKind(
    spec=TUNING_JOB,
    create=lambda sagemaker, params: sagemaker.create_hyper_parameter_tuning_job(**params)[
        "HyperParameterTuningJobArn"
    ],
    describe=lambda sagemaker, name: sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
    stop=lambda sagemaker, name: sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
    outcome=tuning_outcome,
    errors={"TuningJobFailed": TuningJobFailed},
    timed_out=TuningJobTimedOut,
)

#: By the JobType the token store records, for stopping what an ended execution launched.
KINDS = {kind.job_type: kind for kind in (TRAINING, TUNING, ENDPOINT)}
#: By pipeline: the kind each pipeline's handlers wait on.
BY_PIPELINE = {kind.spec.pipeline: kind for kind in (TRAINING, TUNING, ENDPOINT)}
