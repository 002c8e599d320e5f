"""What every pipeline's handlers share: their AWS clients, and stopping what an aborted or
timed-out execution launched."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from tunestack_runtime import job_lifecycle
from tunestack_runtime.job_kinds import KINDS

logger = Logger(service="tunestack")

#: Step Functions owns retries (with back-off and jitter, visible in the execution's history), so
#: the SDK does not retry SageMaker calls behind its back.
_NO_SDK_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


def token_table() -> Any:
    return boto3.resource("dynamodb").Table(os.environ["TOKEN_TABLE"])


def sagemaker() -> Any:
    return boto3.client("sagemaker", config=_NO_SDK_RETRIES)


@logger.inject_lambda_context(log_event=False)
def on_execution_end(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """EventBridge: an execution was aborted or timed out; stop the jobs it launched."""
    arn = event.get("detail", {}).get("executionArn", "")
    stopped = job_lifecycle.stop_jobs_of_execution(KINDS, sagemaker=sagemaker(), table=token_table(), execution_arn=arn)
    logger.info("stopped", extra={"execution": arn, "jobs": stopped})
    return {"Stopped": stopped}
