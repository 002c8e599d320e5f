"""The kinds of SageMaker job an execution waits on: how each is created, described, stopped and
reported. ``job_lifecycle`` runs them all the same way.
"""

from __future__ import annotations

from typing import Any

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
    status = description["TrainingJobStatus"]
    if status == "Completed":
        return "success", {
            **extras,
            "TrainingJobName": description["TrainingJobName"],
            "TrainingJobArn": description["TrainingJobArn"],
            "TrainingTimeSeconds": description.get("TrainingTimeInSeconds"),
            "BillableTimeSeconds": description.get("BillableTimeInSeconds"),
            "ModelArtifacts": description.get("ModelArtifacts", {}).get("S3ModelArtifacts")
            or extras.get("ModelArtifacts"),
        }
    error = "TrainingJobFailed" if status == "Failed" else "TrainingJobStopped"
    return error, _failure(description, status, "training job")


def tuning_outcome(description: dict[str, Any], extras: dict[str, Any]) -> tuple[str, Any]:
    """A completed tuning job hands its name on to the analysis, and so does a stopped one: a person
    stopped it (tunestack's own stops end the wait first), and the trials it finished are worth a
    leaderboard and a best-so-far. A failed one fails with the reason."""
    status = description["HyperParameterTuningJobStatus"]
    if status in {"Completed", "Stopped"}:
        return "success", {
            **extras,
            "TuningJobName": description["HyperParameterTuningJobName"],
            "TuningJobArn": description["HyperParameterTuningJobArn"],
            "TuningJobStatus": status,
            "TrainingJobStatusCounters": description.get("TrainingJobStatusCounters", {}),
        }
    return "TuningJobFailed", _failure(description, status, "tuning job")


TRAINING = JobKind(
    job_type="TrainingJob",
    noun="training job",
    name_field="TrainingJobName",
    arn_field="TrainingJobArn",
    status_field="TrainingJobStatus",
    terminal=frozenset({"Completed", "Failed", "Stopped"}),
    create=lambda sagemaker, params: sagemaker.create_training_job(**params)["TrainingJobArn"],
    describe=lambda sagemaker, name: sagemaker.describe_training_job(TrainingJobName=name),
    stop=lambda sagemaker, name: sagemaker.stop_training_job(TrainingJobName=name),
    outcome=training_outcome,
    errors={"TrainingJobFailed": TrainingJobFailed, "TrainingJobStopped": TrainingJobStopped},
    timed_out=TrainingJobTimedOut,
    input_field="$.ModelName",
)

TUNING = JobKind(
    job_type="HyperParameterTuningJob",
    noun="tuning job",
    name_field="HyperParameterTuningJobName",
    arn_field="HyperParameterTuningJobArn",
    status_field="HyperParameterTuningJobStatus",
    terminal=frozenset({"Completed", "Failed", "Stopped"}),
    create=lambda sagemaker, params: sagemaker.create_hyper_parameter_tuning_job(**params)[
        "HyperParameterTuningJobArn"
    ],
    describe=lambda sagemaker, name: sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
    stop=lambda sagemaker, name: sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
    outcome=tuning_outcome,
    errors={"TuningJobFailed": TuningJobFailed},
    timed_out=TuningJobTimedOut,
    input_field="$.TuningJobName",
)

#: By the JobType the token store records, for stopping what an ended execution launched.
KINDS = {kind.job_type: kind for kind in (TRAINING, TUNING, ENDPOINT)}
