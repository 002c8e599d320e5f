"""Lambda handlers of the tune state machine."""

from __future__ import annotations

import os
from typing import Any

import boto3

from tunestack_runtime import console_links, tuning_analysis
from tunestack_runtime.contract import TUNING_JOB
from tunestack_runtime.executions import Execution
from tunestack_runtime.handlers.shared import logger, sagemaker, wait_handlers
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


#: Store the task token and create (or adopt) the tuning job; complete the wait on its state
#: change; describe it once after a timeout.
launch, on_state_change, reconcile = wait_handlers(TUNING)


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
    links = console_links.merged(launched, analysis.links(str(launched.get("TuningJobArn", ""))))
    return {**launched, **analysis.output(), console_links.LINKS_FIELD: links}
