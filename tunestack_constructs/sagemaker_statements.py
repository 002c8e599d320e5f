"""IAM statements for launching and managing SageMaker jobs, written once.

The guardrails hold in IAM as well as in the Lambdas: a create call outside the team's subnets,
security groups, key, instance types or without the team tag is denied whatever the code does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct
from tunestack_runtime.instances import has_local_storage

from tunestack_constructs.sagemaker_execution_role import TEAM_TAG_KEY


@dataclass(frozen=True, kw_only=True)
class Guardrails:
    """What every SageMaker create call of a team must carry."""

    team_name: str
    role_arn: str
    key_arn: str
    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]
    training_instance_types: Sequence[str]
    hosting_instance_types: Sequence[str] = ()
    max_runtime_in_seconds: int = 28 * 24 * 3600


def sagemaker_arn(scope: Construct, resource_type: str, name: str = "*") -> str:
    return cdk.Stack.of(scope).format_arn(service="sagemaker", resource=resource_type, resource_name=name)


def pass_team_role(guardrails: Guardrails) -> iam.PolicyStatement:
    """iam:PassRole on the team's SageMaker role alone, and only to SageMaker."""
    return iam.PolicyStatement(
        sid="PassTeamRoleToSageMaker",
        actions=["iam:PassRole"],
        resources=[guardrails.role_arn],
        conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    )


def create_training_job(scope: Construct, guardrails: Guardrails) -> list[iam.PolicyStatement]:
    return _create_within_guardrails(scope, guardrails, "CreateTrainingJob", "training-job")


def create_tuning_job(scope: Construct, guardrails: Guardrails) -> list[iam.PolicyStatement]:
    """The same condition keys hold for CreateHyperParameterTuningJob (its training job definition)."""
    return _create_within_guardrails(scope, guardrails, "CreateHyperParameterTuningJob", "hyper-parameter-tuning-job")


def _create_within_guardrails(
    scope: Construct, guardrails: Guardrails, action: str, resource_type: str
) -> list[iam.PolicyStatement]:
    """Two ways to launch, each complete: on EBS-backed instance types the team key must encrypt the
    volume; on instance types with local storage, which SageMaker refuses a volume key for, the key
    must be absent and every instance type of the request must be one of those. Statements are
    alternatives (an Allow of either suffices), so a request mixing both kinds has the EBS one's
    conditions to meet, and SageMaker refuses its volume key on the local types: no such job runs.
    """
    local = [t for t in guardrails.training_instance_types if has_local_storage(t)]
    statements = [
        _create_statement(scope, guardrails, action, resource_type, list(guardrails.training_instance_types), True)
    ]
    if local:
        statements.append(_create_statement(scope, guardrails, action, resource_type, local, False))
    return statements


def _create_statement(
    scope: Construct,
    guardrails: Guardrails,
    action: str,
    resource_type: str,
    instance_types: list[str],
    volume_key: bool,
) -> iam.PolicyStatement:
    # The KMS keys are ARN-typed condition keys.
    keys = {"sagemaker:OutputKmsKey": guardrails.key_arn}
    null = {
        "sagemaker:VpcSubnets": "false",
        "sagemaker:VpcSecurityGroupIds": "false",
        "sagemaker:InstanceTypes": "false",
        "sagemaker:MaxRuntimeInSeconds": "false",
    }
    if volume_key:
        keys["sagemaker:VolumeKmsKey"] = guardrails.key_arn
    else:
        null["sagemaker:VolumeKmsKey"] = "true"
    return iam.PolicyStatement(
        sid=f"{action}WithinGuardrails" if volume_key else f"{action}OnLocalStorageWithinGuardrails",
        actions=[f"sagemaker:{action}"],
        resources=[sagemaker_arn(scope, resource_type)],
        conditions={
            "ForAllValues:StringEquals": {
                "sagemaker:VpcSubnets": list(guardrails.subnet_ids),
                "sagemaker:VpcSecurityGroupIds": list(guardrails.security_group_ids),
                "sagemaker:InstanceTypes": instance_types,
            },
            "ArnEquals": keys,
            "StringEquals": {f"aws:RequestTag/{TEAM_TAG_KEY}": guardrails.team_name},
            # Instances of one job always encrypt what they exchange; no job outlives the team's limit.
            # (Network isolation depends on the algorithm, which IAM cannot see: the Lambdas set it.)
            "Bool": {"sagemaker:InterContainerTrafficEncryption": "true"},
            "NumericLessThanEquals": {"sagemaker:MaxRuntimeInSeconds": str(guardrails.max_runtime_in_seconds)},
            # ForAllValues holds for an absent key too: require the keys to be present (and, on
            # local storage, the volume key to be absent).
            "Null": null,
        },
    )


def tag_on_create(scope: Construct, guardrails: Guardrails, resource_types: Sequence[str]) -> iam.PolicyStatement:
    """Creating with tags needs sagemaker:AddTags on the new resource; only with the team tag."""
    return iam.PolicyStatement(
        sid="TagOnCreateWithTeamTag",
        actions=["sagemaker:AddTags"],
        resources=[sagemaker_arn(scope, kind) for kind in resource_types],
        conditions={"StringEquals": {f"aws:RequestTag/{TEAM_TAG_KEY}": guardrails.team_name}},
    )


def manage_team_jobs(
    scope: Construct, guardrails: Guardrails, actions: Sequence[str], resource_types: Sequence[str]
) -> iam.PolicyStatement:
    """Describe / stop / list tags of the team's own resources, recognized by the team tag."""
    return iam.PolicyStatement(
        sid="ManageTeam" + "".join(part.title() for kind in resource_types for part in kind.split("-")),
        actions=list(actions),
        resources=[sagemaker_arn(scope, kind) for kind in resource_types],
        conditions={"StringEquals": {f"aws:ResourceTag/{TEAM_TAG_KEY}": guardrails.team_name}},
    )


def create_model(scope: Construct, guardrails: Guardrails) -> iam.PolicyStatement:
    """Models run in the team's subnets and security groups, tagged for the team."""
    return iam.PolicyStatement(
        sid="CreateModelWithinGuardrails",
        actions=["sagemaker:CreateModel"],
        resources=[sagemaker_arn(scope, "model")],
        conditions={
            "ForAllValues:StringEquals": {
                "sagemaker:VpcSubnets": list(guardrails.subnet_ids),
                "sagemaker:VpcSecurityGroupIds": list(guardrails.security_group_ids),
            },
            "StringEquals": {f"aws:RequestTag/{TEAM_TAG_KEY}": guardrails.team_name},
            "Null": {"sagemaker:VpcSubnets": "false", "sagemaker:VpcSecurityGroupIds": "false"},
        },
    )


def create_endpoint_config(scope: Construct, guardrails: Guardrails) -> iam.PolicyStatement:
    """Only the team's hosting instance types, tagged for the team."""
    return iam.PolicyStatement(
        sid="CreateEndpointConfigWithinGuardrails",
        actions=["sagemaker:CreateEndpointConfig"],
        resources=[sagemaker_arn(scope, "endpoint-config")],
        conditions={
            "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": list(guardrails.hosting_instance_types)},
            "StringEquals": {f"aws:RequestTag/{TEAM_TAG_KEY}": guardrails.team_name},
            "Null": {"sagemaker:InstanceTypes": "false"},
        },
    )


def create_endpoint(scope: Construct, guardrails: Guardrails) -> iam.PolicyStatement:
    """A new endpoint is tagged for the team (CreateEndpoint is authorized on the config too)."""
    return iam.PolicyStatement(
        sid="CreateEndpointForTheTeam",
        actions=["sagemaker:CreateEndpoint"],
        resources=[sagemaker_arn(scope, "endpoint"), sagemaker_arn(scope, "endpoint-config")],
        conditions={"StringEquals": {f"aws:RequestTag/{TEAM_TAG_KEY}": guardrails.team_name}},
    )
