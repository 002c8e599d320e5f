"""Lambda handlers of the fine-tune state machine."""

from __future__ import annotations

import os
from typing import Any

import boto3

from tunestack_runtime import datasets, model_registry
from tunestack_runtime.contract import TRAINING_JOB, LaunchPlan
from tunestack_runtime.deploy_input import deploy_target
from tunestack_runtime.executions import Execution
from tunestack_runtime.fine_tune_input import validate_fine_tune_input
from tunestack_runtime.handlers.shared import logger, wait_handlers
from tunestack_runtime.job_kinds import TRAINING
from tunestack_runtime.job_lifecycle import TIMEOUT_MARGIN_SECONDS
from tunestack_runtime.policy import TeamPolicy
from tunestack_runtime.training_job import (
    create_request,
    fine_tune_recipe,
    output_artifact_uri,
)


@logger.inject_lambda_context(log_event=False)
def validate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Check the input, the team policy and the dataset; build the job request. Creates nothing."""
    policy = TeamPolicy.from_environment(os.environ)
    execution = Execution.of(event)
    request = validate_fine_tune_input(event["Input"], policy)
    s3 = boto3.client("s3")
    recipe = fine_tune_recipe(request, policy, s3)
    policy.require_isolation(recipe.network_isolation, "$.Algorithm", recipe.parent_model)
    dataset = datasets.check_dataset(s3, recipe.dataset_layout, request.training_data_uri)
    params = create_request(
        job_name=request.model_name,
        recipe=recipe,
        request=request,
        policy=policy,
        execution=execution,
    )
    stopping = params["StoppingCondition"]
    limit = stopping.get("MaxWaitTimeInSeconds", stopping["MaxRuntimeInSeconds"])
    logger.info("validated", extra={"job": request.model_name, "dataset": dataset})
    deploy = None
    if request.deploy is not None:
        deploy = {**deploy_target(request.deploy), "ExecutionName": execution.nested_name(TRAINING_JOB.pipeline)}
    register = None
    if request.register is not None:
        register = {
            **model_registry.register_plan(request.register, policy.model_registry, policy.team),
            "TrainingJobName": request.model_name,
            "InstanceType": request.deploy.instance_type if request.deploy else policy.default_hosting_instance_type,
            "Dataset": request.training_data_uri or "",
        }
    return LaunchPlan(
        kind=TRAINING_JOB,
        request=params,
        task_timeout_seconds=limit + TIMEOUT_MARGIN_SECONDS,
        output_extras={
            "ParentModel": recipe.parent_model,
            "ModelArtifacts": output_artifact_uri(policy.bucket, request.model_name, recipe.compressed_output),
            **({"EulaAccepted": True} if recipe.eula_accepted else {}),
            "Dataset": dataset,
        },
        dataset=dataset,
        deploy=deploy,
        register=register,
    ).to_dict()


#: Store the task token and create (or adopt) the training job; complete the wait on its state
#: change; describe it once after a timeout.
launch, on_state_change, reconcile = wait_handlers(TRAINING)
