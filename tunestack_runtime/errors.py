"""Domain errors. A class's name is the error name the Step Functions console shows."""

from __future__ import annotations


class TunestackError(Exception):
    """Base of every error an execution may fail with; never retried."""


class InvalidInput(TunestackError):
    """The execution input breaks the input contract; the message names the JSON path."""


class PolicyViolation(TunestackError):
    """The input is well-formed but outside what the team may do (instance type, limits, data)."""


class InvalidDataset(TunestackError):
    """The training data does not have the layout the algorithm needs; names the S3 key."""


class JobConflict(TunestackError):
    """A SageMaker job of that name exists and belongs to another execution."""


class ModelPackageNotApproved(TunestackError):
    """The model package version to deploy is not Approved (pending or rejected); names the field
    and the status."""


class TrainingJobFailed(TunestackError):
    """SageMaker ended the training job as Failed; the message is its FailureReason."""


class TrainingJobStopped(TunestackError):
    """The training job was stopped before it completed."""


class TrainingJobTimedOut(TunestackError):
    """No completion arrived within the job's own limit; the job was stopped."""


class TransientError(Exception):
    """A failure worth retrying (throttling, a service hiccup); Step Functions retries it."""


class TuningJobFailed(TunestackError):
    """SageMaker ended the tuning job as Failed; the message is its FailureReason."""


class TuningJobTimedOut(TunestackError):
    """No completion arrived within the tuning job's limit; the job was stopped."""


class EndpointFailed(TunestackError):
    """SageMaker could not bring the endpoint into service; the message is its FailureReason."""


class EndpointUpdateRolledBack(TunestackError):
    """The update failed and SageMaker rolled back: the previous endpoint config still serves."""


class EndpointBusy(TunestackError):
    """The endpoint is being created or updated by another deployment; try again once it is InService."""


class EndpointTimedOut(TunestackError):
    """No completion arrived within the deployment's limit."""


def not_the_teams(where: str, name: str, owner: str | None, team: str) -> PolicyViolation:
    """A named resource that carries another team's tag (or none)."""
    return PolicyViolation(f"{where} ({name}): belongs to {owner or 'no tunestack team'}, not to {team}")
