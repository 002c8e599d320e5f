"""The failure path's one function: describe the error a Catch left, tell the team, hand it back."""

from __future__ import annotations

import os
from typing import Any

import boto3

from tunestack_runtime.failure_causes import MAX_SUBJECT, TOPIC_VARIABLE, notice
from tunestack_runtime.failure_causes import describe as describe_failure
from tunestack_runtime.handlers.shared import logger


@logger.inject_lambda_context(log_event=False)
def describe(event: dict[str, Any], context: Any) -> dict[str, str]:
    """``{"Error": $.Error, "Execution": ..., "Subject": ...}`` -> ``{Error, Cause}`` with the cause as
    readable lines; the same text goes to the team's topic. The Fail state reads the result."""
    described = describe_failure(event.get("Error") or {})
    boto3.client("sns").publish(
        TopicArn=os.environ[TOPIC_VARIABLE],
        Subject=str(event.get("Subject") or "tunestack execution failed")[:MAX_SUBJECT],
        Message=notice(str(event.get("Execution", "")), described),
    )
    return described
