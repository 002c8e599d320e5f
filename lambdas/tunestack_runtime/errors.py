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
