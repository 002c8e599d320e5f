"""Task tokens of executions waiting for a SageMaker job, kept in DynamoDB by job name.

A launch stores the token before it creates the job, so a state-change event that arrives at once
still finds it. Taking a token deletes it atomically: of several events for one change (SageMaker
may send duplicates), only the first completes the execution.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

#: Tokens outlive the longest job (28 days) by a day, then DynamoDB's TTL removes them.
TOKEN_TTL_SECONDS = 29 * 24 * 3600
EXECUTION_INDEX = "ByExecution"


@dataclass(frozen=True)
class WaitingExecution:
    job_name: str
    job_type: str
    task_token: str
    execution_arn: str
    extras: dict[str, Any] = field(default_factory=dict)


def _item(
    *, job_name: str, job_type: str, task_token: str, execution_arn: str, extras: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "JobName": job_name,
        "JobType": job_type,
        "TaskToken": task_token,
        "ExecutionArn": execution_arn,
        "Extras": json.dumps(extras or {}),
        "ExpiresAt": int(time.time()) + TOKEN_TTL_SECONDS,
    }


def put(
    table: Any,
    *,
    job_name: str,
    job_type: str,
    task_token: str,
    execution_arn: str,
    extras: dict[str, Any] | None = None,
) -> None:
    """Store the token; ``extras`` are output fields known at launch (e.g. the parent model)."""
    table.put_item(
        Item=_item(
            job_name=job_name, job_type=job_type, task_token=task_token, execution_arn=execution_arn, extras=extras
        )
    )


def take(table: Any, job_name: str) -> WaitingExecution | None:
    """Remove and return the waiting execution of ``job_name``; None if another event took it."""
    response = table.delete_item(Key={"JobName": job_name}, ReturnValues="ALL_OLD")
    item = response.get("Attributes")
    if not item:
        return None
    return WaitingExecution(
        job_name=item["JobName"],
        job_type=item["JobType"],
        task_token=item["TaskToken"],
        execution_arn=item["ExecutionArn"],
        extras=json.loads(item.get("Extras", "{}")),
    )


def jobs_of_execution(table: Any, execution_arn: str) -> list[dict[str, str]]:
    response = table.query(
        IndexName=EXECUTION_INDEX,
        KeyConditionExpression="ExecutionArn = :arn",
        ExpressionAttributeValues={":arn": execution_arn},
    )
    return [{"JobName": i["JobName"], "JobType": i["JobType"]} for i in response.get("Items", [])]


def put_unless_waiting(
    table: Any,
    *,
    job_name: str,
    job_type: str,
    task_token: str,
    execution_arn: str,
    extras: dict[str, Any] | None = None,
) -> bool:
    """Store the token unless another execution already waits on ``job_name`` (one endpoint, one
    deployment at a time); the same execution may store it again (a retried launch)."""
    try:
        table.put_item(
            Item=_item(
                job_name=job_name, job_type=job_type, task_token=task_token, execution_arn=execution_arn, extras=extras
            ),
            ConditionExpression="attribute_not_exists(JobName) OR ExecutionArn = :me",
            ExpressionAttributeValues={":me": execution_arn},
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True
