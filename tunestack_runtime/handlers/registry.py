"""Lambda handlers of the model registry: register a trained model as a new version (a state of
fine-tune and tune), and start a deployment when a version of a group that deploys on approval is
approved (EventBridge: "SageMaker Model Package State Change")."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tunestack_runtime import model_registry
from tunestack_runtime.contract import DEPLOY_STATE_MACHINE_ENV
from tunestack_runtime.executions import Execution
from tunestack_runtime.handlers.shared import logger, sagemaker
from tunestack_runtime.policy import TeamPolicy

#: The deploy state machine an approval starts (set on the approval function only).
DEPLOY_STATE_MACHINE_VARIABLE = DEPLOY_STATE_MACHINE_ENV


@logger.inject_lambda_context(log_event=False)
def register(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """``event``: ``Register`` (ModelPackageGroupName, ApprovalStatus, TrainingJobName or
    TuningJobName, InstanceType, Dataset), ``Pipeline``, ``ExecutionArn``, ``ExecutionStartTime``.
    Returns ModelPackageArn, ModelPackageVersion, ModelPackageGroupName, ModelApprovalStatus."""
    output = model_registry.register(
        sagemaker=sagemaker(),
        s3=boto3.client("s3"),
        policy=TeamPolicy.from_environment(os.environ),
        plan=event["Register"],
        execution=Execution.of(event),
        pipeline=event["Pipeline"],
    )
    logger.info("registered", extra={"version": output["ModelPackageArn"], "adopted": output["Adopted"]})
    return output


@logger.inject_lambda_context(log_event=False)
def on_approval(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Start the deploy state machine for an approved version. The event only says which version
    changed: its status and group are described again (an event may be late, duplicated, or the
    version rejected since), and only a version of the team's groups deploys."""
    arn = (event.get("detail") or {}).get("ModelPackageArn")
    if not arn:
        return {"Started": False, "Reason": "no ModelPackageArn in the event"}
    policy = TeamPolicy.from_environment(os.environ)
    settings = policy.model_registry
    client = sagemaker()
    description = client.describe_model_package(ModelPackageName=arn)
    group = description.get("ModelPackageGroupName") or ""
    if model_registry.group_problem(group, policy.team) is not None:
        return {"Started": False, "Reason": f"{group} is not one of team {policy.team}'s groups"}
    planned = model_registry.deploy_for_approval(event, description, settings)
    if planned is None:
        return {
            "Started": False,
            "Reason": f"version is {description.get('ModelApprovalStatus')}, or {group} deploys on approval nowhere",
        }
    name, payload = planned
    sfn = boto3.client("stepfunctions")
    try:
        started = sfn.start_execution(
            stateMachineArn=os.environ[DEPLOY_STATE_MACHINE_VARIABLE], name=name, input=json.dumps(payload)
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
            raise
        logger.info("already started", extra={"execution": name})  # a duplicate event of this approval
        return {"Started": False, "Reason": "already started", "ExecutionName": name}
    logger.info("deploying", extra={"version": arn, "execution": started["executionArn"]})
    return {"Started": True, "ExecutionArn": started["executionArn"], "ExecutionName": name, "Input": payload}
