"""Lambda handlers of the deploy state machine."""

from __future__ import annotations

import os
from typing import Any

import boto3

from tunestack_runtime import endpoint_lifecycle
from tunestack_runtime.contract import PLAN_EXTRAS_FIELD, PLAN_TIMEOUT_FIELD
from tunestack_runtime.deploy_input import validate_deploy_input
from tunestack_runtime.endpoint_lifecycle import ENDPOINT
from tunestack_runtime.endpoint_plan import plan_deploy
from tunestack_runtime.executions import Execution
from tunestack_runtime.handlers.shared import logger, sagemaker, token_table, wait_handlers, with_execution_link
from tunestack_runtime.policy import TeamPolicy


@logger.inject_lambda_context(log_event=False)
def validate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Check the input, the model to deploy and the endpoint; build every request. Creates nothing."""
    policy = TeamPolicy.from_environment(os.environ)
    request = validate_deploy_input(event["Input"], policy)
    plan = plan_deploy(
        request, policy=policy, sagemaker=sagemaker(), s3=boto3.client("s3"), execution=Execution.of(event)
    )
    logger.info("validated", extra={"endpoint": plan.request["EndpointName"], "action": plan.request["Action"]})
    return plan.to_dict()


@logger.inject_lambda_context(log_event=False)
def prepare(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The model, endpoint config and rollback alarms (a retry finds what it created)."""
    return endpoint_lifecycle.prepare(
        sagemaker=sagemaker(),
        cloudwatch=boto3.client("cloudwatch"),
        s3=boto3.client("s3"),
        plan=event["Plan"],
        execution=Execution.of(event),
    )


@logger.inject_lambda_context(log_event=False)
def launch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Store the task token, then create the endpoint or update it in place."""
    execution = Execution.of(event)
    return endpoint_lifecycle.launch(
        sagemaker=sagemaker(),
        sfn=boto3.client("stepfunctions"),
        table=token_table(),
        endpoint=event[ENDPOINT.spec.request_field],
        task_token=event["TaskToken"],
        execution=execution,
        wait_seconds=int(event[PLAN_TIMEOUT_FIELD]),
        output_extras=with_execution_link(event[PLAN_EXTRAS_FIELD], execution),
    )


#: Complete the wait on the endpoint's state change; describe it once after a timeout.
_, on_state_change, reconcile = wait_handlers(ENDPOINT)
