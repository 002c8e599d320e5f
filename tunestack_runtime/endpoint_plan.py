"""The first state of a deploy execution: the model, endpoint config, alarms and endpoint call it
will make, checked and built, nothing created.

Names derive from the endpoint and the execution, so a retried step finds what it created. An
existing endpoint of the team is updated in place with a blue/green deployment that rolls back on
the alarms the pipeline creates for it; the old config keeps serving until the new fleet is healthy.
"""

from __future__ import annotations

from typing import Any

from tunestack_runtime import artifacts, model_registry
from tunestack_runtime.contract import ENDPOINT, LaunchPlan
from tunestack_runtime.deploy_input import DeployRequest
from tunestack_runtime.endpoint_lifecycle import describe_endpoint
from tunestack_runtime.errors import EndpointBusy, InvalidInput, not_the_teams
from tunestack_runtime.executions import Execution
from tunestack_runtime.instances import takes_volume_key
from tunestack_runtime.job_lifecycle import TIMEOUT_MARGIN_SECONDS
from tunestack_runtime.policy import TeamPolicy
from tunestack_runtime.tags import TEAM_TAG, execution_tags, resource_tags

VARIANT = "AllTraffic"
#: Blue/green: the new fleet takes all traffic at once, then bakes while the alarms watch it.
BAKE_SECONDS = 600
UPDATE_LIMIT_SECONDS = 3600
CREATE_LIMIT_SECONDS = 2 * 3600


def resource_name(team: str, endpoint: str, execution: Execution) -> str:
    """Model and endpoint config name: the team's prefix (IAM lets a team create and serve only
    ``<team>-*``), the endpoint's name and 8 characters of this run (<= 63), so a retried step finds
    them and an execution reusing a name never does."""
    room = 63 - len(team) - 1 - 9
    return f"{team}-{endpoint[:room].rstrip('-')}-{execution.short_id()}"


def alarm_names(policy: TeamPolicy, endpoint: str) -> list[str]:
    return [f"tunestack-{policy.team}-{endpoint}-{kind}" for kind in ("invocation-5xx", "model-latency")]


def _alarms(policy: TeamPolicy, endpoint: str) -> list[dict[str, Any]]:
    dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": VARIANT}]
    five_xx, latency = alarm_names(policy, endpoint)
    common = {
        "Namespace": "AWS/SageMaker",
        "Dimensions": dimensions,
        "Period": 60,
        "TreatMissingData": "notBreaching",
        "Tags": [{"Key": TEAM_TAG, "Value": policy.team}],
    }
    return [
        {
            **common,
            "AlarmName": five_xx,
            "AlarmDescription": f"{endpoint} answers with server errors; a deployment in progress rolls back",
            "MetricName": "Invocation5XXErrors",
            "Statistic": "Sum",
            "EvaluationPeriods": 1,
            "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        },
        {
            **common,
            "AlarmName": latency,
            "AlarmDescription": f"{endpoint} takes over 5 s per request; a deployment in progress rolls back",
            "MetricName": "ModelLatency",
            "Statistic": "Average",
            "EvaluationPeriods": 3,
            "Threshold": 5_000_000.0,  # microseconds
            "ComparisonOperator": "GreaterThanThreshold",
        },
    ]


def plan_deploy(
    request: DeployRequest,
    *,
    policy: TeamPolicy,
    sagemaker: Any,
    s3: Any,
    execution: Execution,
) -> LaunchPlan:
    """The launch's input: CreateModel, CreateEndpointConfig, the alarms (prepared before the
    wait), and the endpoint call."""
    target = request.target
    # A registered version serves the container it was registered with, if Approved
    # (ModelPackageNotApproved otherwise); a job's model as ``hosting`` resolves it.
    source, container = model_registry.deploy_source(
        sagemaker,
        policy,
        s3,
        training_job=request.training_job_name,
        tuning_job=request.tuning_job_name,
        model_package_arn=request.model_package_arn,
        instance_type=target.instance_type,
    )
    source_field = "$.ModelPackageArn" if request.model_package_arn else "$.TrainingJobName"
    policy.require_isolation(container.network_isolation, source_field, f"serving {source.parent_model}")
    name = resource_name(policy.team, target.endpoint_name, execution)
    pinned = artifacts.pin(s3, source.model_data_url, name, f"the model of {source.training_job_name}")
    tags = [{"Key": TEAM_TAG, "Value": policy.team}, *execution_tags(execution, ENDPOINT.pipeline)]
    variant: dict[str, Any] = {
        "VariantName": VARIANT,
        "ModelName": name,
        "InstanceType": target.instance_type,
        "InitialInstanceCount": target.initial_instance_count,
    }
    config: dict[str, Any] = {"EndpointConfigName": name, "ProductionVariants": [variant], "Tags": tags}
    if takes_volume_key(target.instance_type):
        config["KmsKeyId"] = policy.key_arn
    existing = describe_endpoint(sagemaker, target.endpoint_name)
    endpoint: dict[str, Any] = {"EndpointName": target.endpoint_name, "EndpointConfigName": name}
    if existing is None:
        endpoint.update(Action="Create", Tags=tags)
        limit = CREATE_LIMIT_SECONDS
    else:
        _check_existing(sagemaker, existing, policy, name, "$.EndpointName")
        endpoint.update(
            Action="Update",
            DeploymentConfig={
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                    "TerminationWaitInSeconds": BAKE_SECONDS,
                    "MaximumExecutionTimeoutInSeconds": UPDATE_LIMIT_SECONDS,
                },
                "AutoRollbackConfiguration": {
                    "Alarms": [{"AlarmName": alarm} for alarm in alarm_names(policy, target.endpoint_name)]
                },
            },
        )
        limit = UPDATE_LIMIT_SECONDS + BAKE_SECONDS
    preparation = {
        "CreateModel": {
            "ModelName": name,
            "PrimaryContainer": {
                "Image": container.image,
                "ModelDataUrl": pinned.serving_uri if pinned else source.model_data_url,
                "Environment": container.environment,
            },
            "ExecutionRoleArn": policy.role_arn,
            "VpcConfig": {"SecurityGroupIds": list(policy.security_group_ids), "Subnets": list(policy.subnet_ids)},
            "EnableNetworkIsolation": container.network_isolation,
            "Tags": tags,
        },
        "CreateEndpointConfig": config,
        **({"PinArtifact": pinned.as_plan()} if pinned else {}),
        "Alarms": _alarms(policy, target.endpoint_name),
    }
    return LaunchPlan(
        kind=ENDPOINT,
        preparation=preparation,
        request=endpoint,
        task_timeout_seconds=limit + TIMEOUT_MARGIN_SECONDS,
        output_extras={
            "EndpointName": target.endpoint_name,
            "EndpointConfigName": name,
            "ModelName": name,
            "ModelDataUrl": source.model_data_url,
            **({"ModelDataVersionId": pinned.version_id} if pinned else {}),
            "TrainingJobName": source.training_job_name,
            "TuningJobName": source.tuning_job_name,
            **({"ModelPackageArn": request.model_package_arn} if request.model_package_arn else {}),
            "Action": "Created" if existing is None else "Updated",
            "PreviousEndpointConfigName": None if existing is None else existing.get("EndpointConfigName"),
        },
    )


def _check_existing(sagemaker: Any, existing: dict[str, Any], policy: TeamPolicy, ours: str, field: str) -> None:
    tags = resource_tags(sagemaker, existing["EndpointArn"])
    name = existing["EndpointName"]
    if tags.get(TEAM_TAG) != policy.team:
        raise not_the_teams(field, name, tags.get(TEAM_TAG), policy.team)
    status = existing["EndpointStatus"]
    pending = (existing.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
    if status == "Failed":
        raise InvalidInput(
            f"{field} ({name}): it is Failed ({existing.get('FailureReason', 'no reason given')}); "
            "delete it or choose another EndpointName"
        )
    if status != "InService" and ours not in {existing.get("EndpointConfigName"), pending}:
        raise EndpointBusy(f"{field} ({name}): it is {status}; deploy again once it is InService")
