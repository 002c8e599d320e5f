"""Lambda handlers of the tune state machine."""

from __future__ import annotations

import os
from typing import Any

import boto3

from tunestack_runtime import tuning_analysis
from tunestack_runtime.contract import TUNING_JOB
from tunestack_runtime.executions import Execution
from tunestack_runtime.handlers.shared import (
    complete_from_event,
    launch_from_event,
    logger,
    reconcile_named,
    sagemaker,
)
from tunestack_runtime.job_kinds import TUNING
from tunestack_runtime.policy import TeamPolicy
from tunestack_runtime.tune_plan import plan_tuning


@logger.inject_lambda_context(log_event=False)
def validate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Check the input, the team policy, the parents and the data; build the request. Creates nothing."""
    plan = plan_tuning(
        event["Input"],
        policy=TeamPolicy.from_environment(os.environ),
        sagemaker=sagemaker(),
        s3=boto3.client("s3"),
        execution=Execution.of(event),
        log=logger.info,
    )
    logger.info(
        "validated",
        extra={"job": plan.request[TUNING_JOB.name_field], "dataset": plan.dataset},
    )
    return plan.to_dict()


@logger.inject_lambda_context(log_event=False)
def launch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Store the task token and create (or adopt) the tuning job; the token completes later."""
    return launch_from_event(TUNING, event)


@logger.inject_lambda_context(log_event=False)
def on_state_change(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """EventBridge: the tuning job's state change; completes the waiting execution."""
    return complete_from_event(TUNING, event)


@logger.inject_lambda_context(log_event=False)
def reconcile(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return reconcile_named(TUNING, event)


@logger.inject_lambda_context(log_event=False)
def analyse(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Leaderboard (with warm-start parents' trials), CSV, JSON and chart in the team bucket, the
    best objective as a metric; returns the execution's output."""
    policy = TeamPolicy.from_environment(os.environ)
    analysis = tuning_analysis.analyse(
        sagemaker=sagemaker(),
        s3=boto3.client("s3"),
        cloudwatch=boto3.client("cloudwatch"),
        tuning_job_name=event["Launched"]["TuningJobName"],
        bucket=policy.bucket,
        team=policy.team,
    )
    launched = {k: v for k, v in event["Launched"].items() if v is not None and k != "TrainingJobStatusCounters"}
    # Completed, or Stopped by a person: the choice after this state deploys only a completed one.
    launched.setdefault("TuningJobStatus", "Completed")
    return {**launched, **analysis.output()}
