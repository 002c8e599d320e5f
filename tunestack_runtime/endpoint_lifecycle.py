"""Deploying: the model, endpoint config and alarms (idempotent), then the endpoint created or
updated in place while the execution waits on its task token. Completion and reconcile are the
shared ``job_lifecycle`` ones, with the ENDPOINT kind: an update that SageMaker rolled back ends
InService on the old config, which fails the execution with the reason.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from tunestack_runtime import artifacts, console_links, contract, token_store
from tunestack_runtime.errors import (
    EndpointBusy,
    EndpointFailed,
    EndpointTimedOut,
    EndpointUpdateRolledBack,
    JobConflict,
    TransientError,
    TunestackError,
)
from tunestack_runtime.executions import Execution
from tunestack_runtime.job_lifecycle import JobKind, complete
from tunestack_runtime.sagemaker_errors import not_visible, translate
from tunestack_runtime.tags import LAUNCH_TAG, owner, resource_tags


def endpoint_outcome(description: dict[str, Any], extras: dict[str, Any]) -> tuple[str, Any]:
    status = description[contract.ENDPOINT.status_field]
    ours = extras.get("EndpointConfigName")
    serving = description.get("EndpointConfigName")
    if status == "Failed":
        return "EndpointFailed", str(description.get("FailureReason") or "the endpoint failed")
    if serving != ours:
        reason = description.get("FailureReason") or "the deployment did not become healthy"
        return "EndpointUpdateRolledBack", f"the update to {ours} was rolled back and {serving} still serves: {reason}"
    arn = description["EndpointArn"]
    return "success", {
        **extras,
        "EndpointArn": arn,
        "EndpointStatus": status,
        console_links.LINKS_FIELD: console_links.merged(extras, deployment_links(arn, extras)),
    }


def deployment_links(endpoint_arn: str, extras: dict[str, Any]) -> dict[str, str]:
    """The endpoint, the model artifact it serves and the job that trained it (a tuning job's best)."""
    place = lambda: console_links.Place.of(endpoint_arn)  # noqa: E731
    found = console_links.links(
        Endpoint=lambda: place().endpoint(extras.get("EndpointName") or console_links.resource_name(endpoint_arn)),
        ModelArtifacts=lambda: place().s3_object(extras["ModelDataUrl"]),
        TrainingJob=lambda: place().training_job(extras["TrainingJobName"]),
        TuningJob=lambda: place().tuning_job(extras["TuningJobName"]),
    )
    return found


ENDPOINT = JobKind(
    spec=contract.ENDPOINT,
    create=None,
    describe=lambda sagemaker, name: sagemaker.describe_endpoint(EndpointName=name),
    stop=None,  # contract.ENDPOINT has no stop operation
    outcome=endpoint_outcome,
    errors={"EndpointFailed": EndpointFailed, "EndpointUpdateRolledBack": EndpointUpdateRolledBack},
    timed_out=EndpointTimedOut,
)


def _exists(error: ClientError) -> bool:
    return "already exist" in str(error).lower()


def _create_once(sagemaker: Any, create: Any, describe: Any, tags_of: Any, execution: Execution, what: str) -> None:
    """Create, or accept what this run already created (a retried step)."""
    try:
        create()
    except ClientError as error:
        if not _exists(error):
            raise translate(error) from None
        tags = resource_tags(sagemaker, tags_of(describe()))
        if tags.get(LAUNCH_TAG) != execution.launch_key:
            raise JobConflict(f"{what} exists and belongs to {owner(tags)}") from None


def prepare(*, sagemaker: Any, cloudwatch: Any, s3: Any, plan: dict[str, Any], execution: Execution) -> dict[str, Any]:
    """The pinned copy of the artifact, the model, the endpoint config and the rollback alarms;
    nothing serves yet."""
    model, config = plan["CreateModel"], plan["CreateEndpointConfig"]
    if "PinArtifact" in plan:
        artifacts.copy_pinned(s3, plan["PinArtifact"])
    _create_once(
        sagemaker,
        lambda: sagemaker.create_model(**model),
        lambda: sagemaker.describe_model(ModelName=model["ModelName"]),
        lambda d: d["ModelArn"],
        execution,
        f"the model {model['ModelName']}",
    )
    _create_once(
        sagemaker,
        lambda: sagemaker.create_endpoint_config(**config),
        lambda: sagemaker.describe_endpoint_config(EndpointConfigName=config["EndpointConfigName"]),
        lambda d: d["EndpointConfigArn"],
        execution,
        f"the endpoint config {config['EndpointConfigName']}",
    )
    for alarm in plan["Alarms"]:
        cloudwatch.put_metric_alarm(**alarm)  # the same call again changes nothing
    return {"ModelName": model["ModelName"], "EndpointConfigName": config["EndpointConfigName"]}


def launch(
    *,
    sagemaker: Any,
    sfn: Any,
    table: Any,
    endpoint: dict[str, Any],
    task_token: str,
    execution: Execution,
    wait_seconds: int,
    output_extras: dict[str, Any],
) -> dict[str, Any]:
    """Create or update the endpoint, or adopt the deployment this run already started. One
    deployment per endpoint at a time: the token store refuses a second waiting run."""
    name, ours = endpoint["EndpointName"], endpoint["EndpointConfigName"]
    if not token_store.put(
        table,
        job_type=ENDPOINT.job_type,
        job_name=name,
        task_token=task_token,
        execution=execution,
        wait_seconds=wait_seconds,
        extras=output_extras,
    ):
        raise EndpointBusy(
            f"$.EndpointName ({name}): another deployment to it is in progress; deploy again once it ends"
        )
    description = describe_endpoint(sagemaker, name)
    pending = ((description or {}).get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
    if description is not None and ours in {description.get("EndpointConfigName"), pending}:
        if description["EndpointStatus"] in ENDPOINT.terminal:
            complete(ENDPOINT, sagemaker=sagemaker, sfn=sfn, table=table, job_name=name)
        return {"EndpointName": name, "EndpointArn": description["EndpointArn"], "Adopted": True}
    try:
        if endpoint["Action"] == "Create":
            arn = sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=ours, Tags=endpoint["Tags"])[
                "EndpointArn"
            ]
        else:
            arn = sagemaker.update_endpoint(
                EndpointName=name, EndpointConfigName=ours, DeploymentConfig=endpoint["DeploymentConfig"]
            )["EndpointArn"]
    except (ClientError, TunestackError, TransientError) as error:
        # SageMaker refused: nothing was created, so nothing is waited on (a retry stores again).
        token_store.take(table, ENDPOINT.job_type, name, launch_key=execution.launch_key)
        if not isinstance(error, ClientError):
            raise
        if _exists(error):
            raise JobConflict(
                f"$.EndpointName ({name}): an endpoint of that name exists and is not this team's"
            ) from None
        raise translate(error) from None
    return {"EndpointName": name, "EndpointArn": arn, "Adopted": False}


def describe_endpoint(sagemaker: Any, name: str) -> dict[str, Any] | None:
    """None when there is no such endpoint (or IAM hides another team's)."""
    try:
        return sagemaker.describe_endpoint(EndpointName=name)  # type: ignore[no-any-return]
    except ClientError as error:
        if not_visible(error):
            return None
        raise translate(error) from None
