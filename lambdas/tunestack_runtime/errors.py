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


class TuningJobStopped(TunestackError):
    """The tuning job was stopped before it completed."""


class TuningJobTimedOut(TunestackError):
    """No completion arrived within the tuning job's limit; the job was stopped."""
