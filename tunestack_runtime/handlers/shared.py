"""What every pipeline's handlers share: their AWS clients, and stopping what an execution that
ended without completing its wait (failed, aborted, timed out) launched."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from tunestack_runtime import console_links, job_lifecycle
from tunestack_runtime.contract import PLAN_EXTRAS_FIELD, PLAN_TIMEOUT_FIELD, SERVICE_NAME, TOKEN_TABLE_ENV
from tunestack_runtime.executions import Execution
from tunestack_runtime.job_kinds import KINDS
from tunestack_runtime.job_lifecycle import JobKind
from tunestack_runtime.sagemaker_errors import retrying_client

logger = Logger(service=SERVICE_NAME)

#: Step Functions owns retries (with back-off and jitter, visible in the execution's history), so
#: the SDK does not retry SageMaker calls behind its back; every call's throttling and quota errors
#: come out as the names each task's Retry lists (``sagemaker_errors.retrying_client``).
_NO_SDK_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


def token_table() -> Any:
    return boto3.resource("dynamodb").Table(os.environ[TOKEN_TABLE_ENV])


def sagemaker() -> Any:
    return retrying_client(boto3.client("sagemaker", config=_NO_SDK_RETRIES))


def launch_from_event(kind: JobKind, event: dict[str, Any]) -> dict[str, Any]:
    """The launch task (``.waitForTaskToken``): store the token, create or adopt the job. The
    request arrives under the plan's name for it (``kind.spec.request_field``)."""
    execution = Execution.of(event)
    return job_lifecycle.launch(
        kind,
        sagemaker=sagemaker(),
        sfn=boto3.client("stepfunctions"),
        table=token_table(),
        params=event[kind.spec.request_field],
        task_token=event["TaskToken"],
        execution=execution,
        wait_seconds=int(event[PLAN_TIMEOUT_FIELD]),
        output_extras=with_execution_link(event[PLAN_EXTRAS_FIELD], execution),
    )


def with_execution_link(extras: dict[str, Any], execution: Execution) -> dict[str, Any]:
    """The output fields stored with the token, with the execution's console link: the outcome
    (``job_kinds``, ``endpoint_lifecycle``) adds the links of what it describes."""
    links = console_links.links(Execution=lambda: console_links.execution(execution.arn))
    return {**extras, console_links.LINKS_FIELD: console_links.merged(extras, links)}


def complete_from_event(kind: JobKind, event: dict[str, Any]) -> dict[str, Any]:
    """The kind's EventBridge state change (``kind.spec.event_detail_type``): complete the
    execution waiting on the job, if it ended."""
    detail = event.get("detail", {})
    name = detail.get(kind.name_field)
    status = kind.spec.api_status(str(detail.get(kind.status_field)))
    if not name or status not in kind.terminal:
        return {"Completed": False}
    done = job_lifecycle.complete(
        kind, sagemaker=sagemaker(), sfn=boto3.client("stepfunctions"), table=token_table(), job_name=name
    )
    return {"Completed": done, kind.name_field: name}


def reconcile_named(kind: JobKind, event: dict[str, Any]) -> dict[str, Any]:
    """After the wait timed out: describe the job (named under ``kind.spec.reconcile_field``) once
    and end the wait either way."""
    return job_lifecycle.reconcile(
        kind,
        sagemaker=sagemaker(),
        table=token_table(),
        job_name=event[kind.spec.reconcile_field],
        execution=Execution.of(event),
    )


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class WaitHandlers(NamedTuple):
    """The handlers of a wait on one kind of job, as a pipeline's module exports them."""

    launch: Handler
    on_state_change: Handler
    reconcile: Handler


def wait_handlers(kind: JobKind) -> WaitHandlers:
    """The launch (store the token, create or adopt), the completion on the kind's EventBridge
    state change, and the reconcile after a timeout, for ``kind``."""

    @logger.inject_lambda_context(log_event=False)
    def launch(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return launch_from_event(kind, event)

    @logger.inject_lambda_context(log_event=False)
    def on_state_change(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return complete_from_event(kind, event)

    @logger.inject_lambda_context(log_event=False)
    def reconcile(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return reconcile_named(kind, event)

    return WaitHandlers(launch, on_state_change, reconcile)


@logger.inject_lambda_context(log_event=False)
def on_execution_end(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """EventBridge: an execution failed, was aborted or timed out; stop the jobs it still waited on."""
    arn = event.get("detail", {}).get("executionArn", "")
    stopped = job_lifecycle.stop_jobs_of_execution(KINDS, sagemaker=sagemaker(), table=token_table(), execution_arn=arn)
    logger.info("stopped", extra={"execution": arn, "jobs": stopped})
    return {"Stopped": stopped}
