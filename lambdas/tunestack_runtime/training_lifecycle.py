"""Launching a training job, completing the waiting execution, reconciling, stopping.

Waiting costs the execution a constant number of state transitions: the launch task runs with
``.waitForTaskToken`` and this module completes the token when SageMaker reports a terminal
state, or when the reconcile step describes the job once after the task's timeout.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from botocore.exceptions import ClientError

from tunestack_runtime import token_store
from tunestack_runtime.errors import (
    JobConflict,
    TrainingJobFailed,
    TrainingJobStopped,
    TrainingJobTimedOut,
    TransientError,
)
from tunestack_runtime.training_job import EXECUTION_TAG

LOG = logging.getLogger(__name__)
JOB_TYPE = "TrainingJob"
TERMINAL = {"Completed", "Failed", "Stopped"}
_THROTTLING = {"ThrottlingException", "Throttling", "TooManyRequestsException", "ServiceUnavailable", "InternalFailure"}


class SageMakerThrottled(TransientError):
    """SageMaker throttled or failed the call; retried with backoff."""


class ResourceLimitExceeded(TransientError):
    """The account's SageMaker quota is in use; retried slowly while capacity frees up."""


def _translate(error: ClientError) -> Exception:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", str(error))
    if code in _THROTTLING:
        return SageMakerThrottled(f"{code}: {message}")
    if code == "ResourceLimitExceeded":
        return ResourceLimitExceeded(message)
    return error


def launch(
    *,
    sagemaker: Any,
    sfn: Any,
    table: Any,
    params: dict[str, Any],
    task_token: str,
    execution_arn: str,
    output_extras: dict[str, Any],
) -> dict[str, Any]:
    """Create the job, or adopt the one this execution already created (a retried launch)."""
    name = params["TrainingJobName"]
    token_store.put(
        table,
        job_name=name,
        job_type=JOB_TYPE,
        task_token=task_token,
        execution_arn=execution_arn,
        extras=output_extras,
    )
    try:
        arn = sagemaker.create_training_job(**params)["TrainingJobArn"]
        return {"TrainingJobName": name, "TrainingJobArn": arn, "Adopted": False}
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code not in {"ResourceInUse", "ValidationException"} or "already" not in str(error).lower():
            raise _translate(error) from None
    description = sagemaker.describe_training_job(TrainingJobName=name)
    tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=description["TrainingJobArn"])["Tags"]}
    if tags.get(EXECUTION_TAG) != execution_arn:
        token_store.take(table, name)
        raise JobConflict(
            f"$.ModelName: a training job named {name!r} already exists and belongs to "
            f"{tags.get(EXECUTION_TAG, 'no tunestack execution')}; choose another ModelName"
        )
    if description["TrainingJobStatus"] in TERMINAL:
        # It ended before this retry stored its token: no event will come again, complete now.
        complete(sagemaker=sagemaker, sfn=sfn, table=table, job_name=name)
    return {"TrainingJobName": name, "TrainingJobArn": description["TrainingJobArn"], "Adopted": True}


def outcome(description: dict[str, Any], extras: dict[str, Any]) -> tuple[str, Any]:
    """("success", output) for a completed job, ("TrainingJobFailed"|"TrainingJobStopped", cause)."""
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
    reason = description.get("FailureReason") or f"the training job ended as {status}"
    return ("TrainingJobFailed" if status == "Failed" else "TrainingJobStopped"), reason


def complete(*, sagemaker: Any, sfn: Any, table: Any, job_name: str) -> bool:
    """Complete the execution waiting on ``job_name`` if the job is terminal; False if nothing to do."""
    description = sagemaker.describe_training_job(TrainingJobName=job_name)
    if description["TrainingJobStatus"] not in TERMINAL:
        return False
    waiting = token_store.take(table, job_name)
    if waiting is None:
        LOG.info("no execution waits on %s (duplicate event, or already reconciled)", job_name)
        return False
    result, payload = outcome(description, waiting.extras)
    try:
        if result == "success":
            sfn.send_task_success(taskToken=waiting.task_token, output=json.dumps(payload))
        else:
            sfn.send_task_failure(taskToken=waiting.task_token, error=result, cause=str(payload)[:32768])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}:
            LOG.info("execution of %s no longer waits: %s", job_name, error)
            return False
        raise
    return True


def reconcile(*, sagemaker: Any, table: Any, job_name: str) -> dict[str, Any]:
    """After the launch task timed out: describe once, and end the wait one way or the other."""
    description = sagemaker.describe_training_job(TrainingJobName=job_name)
    waiting = token_store.take(table, job_name)
    extras = waiting.extras if waiting else {}
    if description["TrainingJobStatus"] not in TERMINAL:
        sagemaker.stop_training_job(TrainingJobName=job_name)
        raise TrainingJobTimedOut(
            f"no completion for {job_name} within its limit; the job was {description['TrainingJobStatus']} "
            "and has been stopped"
        )
    result, payload = outcome(description, extras)
    if result == "success":
        return dict(payload)
    raise (TrainingJobFailed if result == "TrainingJobFailed" else TrainingJobStopped)(payload)


def stop_jobs_of_execution(*, sagemaker: Any, table: Any, execution_arn: str) -> list[str]:
    """Stop what an aborted or timed-out execution launched; returns the jobs asked to stop."""
    stopped = []
    for job in token_store.jobs_of_execution(table, execution_arn):
        if job["JobType"] != JOB_TYPE:
            continue
        token_store.take(table, job["JobName"])
        try:
            sagemaker.stop_training_job(TrainingJobName=job["JobName"])
            stopped.append(job["JobName"])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ValidationException":
                raise _translate(error) from None
            LOG.info("%s had already ended: %s", job["JobName"], error)
    return stopped
