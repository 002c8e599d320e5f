"""Task tokens of executions waiting for a SageMaker job or endpoint, kept in DynamoDB.

An item's key is the kind and the name of what is waited on (``TrainingJob/churn``), so a training
job, a tuning job and an endpoint of the same name never meet. A launch stores its token before
it creates the job, so a state-change event that arrives at once still finds it, and never over
another launch's: two executions racing for one name, the second finds the first's token and
stops there. Taking a token deletes it atomically: of several events for one change (SageMaker may
send duplicates), only the first completes the execution.

A token lives as long as its wait (the launch task's timeout) and a day more, then DynamoDB's TTL
removes it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from tunestack_runtime.executions import Execution

#: A token outlives its wait by this much, so the reconcile after a timeout still finds it.
TOKEN_MARGIN_SECONDS = 24 * 3600
EXECUTION_INDEX = "ByExecution"
_SEPARATOR = "/"


def key(job_type: str, job_name: str) -> str:
    return f"{job_type}{_SEPARATOR}{job_name}"


@dataclass(frozen=True)
class WaitingExecution:
    job_name: str
    job_type: str
    task_token: str
    execution_arn: str
    launch_key: str = ""
    extras: dict[str, Any] = field(default_factory=dict)


def put(
    table: Any,
    *,
    job_type: str,
    job_name: str,
    task_token: str,
    execution: Execution,
    wait_seconds: int,
    extras: dict[str, Any] | None = None,
) -> bool:
    """Store the token unless another run waits on ``job_name``; the same run may store it again
    (a retried launch, whose token is the live one). False: another run waits on it.
    ``extras`` are output fields known at launch (e.g. the parent model)."""
    try:
        table.put_item(
            Item={
                "JobName": key(job_type, job_name),
                "JobType": job_type,
                "TaskToken": task_token,
                "ExecutionArn": execution.arn,
                "LaunchKey": execution.launch_key,
                "Extras": json.dumps(extras or {}),
                "ExpiresAt": int(time.time()) + int(wait_seconds) + TOKEN_MARGIN_SECONDS,
            },
            ConditionExpression="attribute_not_exists(JobName) OR LaunchKey = :me",
            ExpressionAttributeValues={":me": execution.launch_key},
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def take(table: Any, job_type: str, job_name: str, *, launch_key: str | None = None) -> WaitingExecution | None:
    """Remove and return the execution waiting on ``job_name``; None if nothing waits (another event
    took it). With ``launch_key``, only that run's token: never another execution's."""
    if launch_key is not None:
        condition = {"ConditionExpression": "LaunchKey = :me", "ExpressionAttributeValues": {":me": launch_key}}
        item = _delete(table, key(job_type, job_name), condition)
    else:
        item = _delete(table, key(job_type, job_name), {})
        if item is None:
            # A token stored before tokens were keyed by kind (keyed by name alone, with no launch
            # key): executions already waiting when the pipelines were updated still complete.
            legacy = {"ConditionExpression": "JobType = :type", "ExpressionAttributeValues": {":type": job_type}}
            item = _delete(table, job_name, legacy)
    if item is None:
        return None
    return WaitingExecution(
        job_name=job_name,
        job_type=item["JobType"],
        task_token=item["TaskToken"],
        execution_arn=item["ExecutionArn"],
        launch_key=item.get("LaunchKey", ""),
        extras=json.loads(item.get("Extras", "{}")),
    )


def _delete(table: Any, item_key: str, condition: dict[str, Any]) -> dict[str, Any] | None:
    try:
        response = table.delete_item(Key={"JobName": item_key}, ReturnValues="ALL_OLD", **condition)
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return None
    return response.get("Attributes") or None


def jobs_of_execution(table: Any, execution_arn: str) -> list[dict[str, str]]:
    """``{"JobName", "JobType"}`` of every token the execution still holds."""
    response = table.query(
        IndexName=EXECUTION_INDEX,
        KeyConditionExpression="ExecutionArn = :arn",
        ExpressionAttributeValues={":arn": execution_arn},
    )
    return [{"JobName": _name(i["JobName"], i["JobType"]), "JobType": i["JobType"]} for i in response.get("Items", [])]


def _name(item_key: str, job_type: str) -> str:
    prefix = f"{job_type}{_SEPARATOR}"
    return item_key[len(prefix) :] if item_key.startswith(prefix) else item_key  # a name-only (earlier) key
