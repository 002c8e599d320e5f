"""IAM statements for launching and managing SageMaker jobs, written once.

The guardrails hold in IAM as well as in the Lambdas: a create call outside the team's subnets,
security groups, key, instance types, network isolation or without the team tag is denied whatever
the code does; models and endpoint configs carry the team's name prefix, and an endpoint config
may serve only the team's models.

Condition keys, per action, are those of the Service Authorization Reference, "Actions, resources,
and condition keys for Amazon SageMaker"
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from tunestack.constructs.team_tags import TEAM_TAG_KEY, tag_statements
from tunestack_runtime.contract import ENDPOINT, TRAINING_JOB, TUNING_JOB, JobKindSpec
from tunestack_runtime.instances import has_local_storage


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
    #: True: every job and model must run network-isolated. False: the Lambdas choose per
    #: algorithm (IAM cannot see the algorithm), and the request must still say which.
    network_isolation_required: bool = True

    @property
    def name_prefix(self) -> str:
        """Models and endpoint configs of the team are named ``<team>-...``; team names have no
        hyphen, so no team's prefix is another's."""
        return f"{self.team_name}-"


def sagemaker_arn(scope: Construct, resource_type: str, name: str = "*") -> str:
    return cdk.Stack.of(scope).format_arn(service="sagemaker", resource=resource_type, resource_name=name)


def _isolation(guardrails: Guardrails, conditions: dict[str, dict[str, Any]]) -> None:
    """sagemaker:NetworkIsolation (CreateTrainingJob, CreateHyperParameterTuningJob, CreateModel):
    true when the team requires it, and present in every request either way."""
    if guardrails.network_isolation_required:
        conditions.setdefault("Bool", {})["sagemaker:NetworkIsolation"] = "true"
    conditions.setdefault("Null", {})["sagemaker:NetworkIsolation"] = "false"


def pass_team_role(guardrails: Guardrails) -> iam.PolicyStatement:
    """iam:PassRole on the team's SageMaker role alone, and only to SageMaker."""
    return iam.PolicyStatement(
        sid="PassTeamRoleToSageMaker",
        actions=["iam:PassRole"],
        resources=[guardrails.role_arn],
        conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    )


def create_training_job(scope: Construct, guardrails: Guardrails) -> list[iam.PolicyStatement]:
    return _create_within_guardrails(scope, guardrails, TRAINING_JOB.create_operation, TRAINING_JOB.arn_resource_type)


def create_tuning_job(scope: Construct, guardrails: Guardrails) -> list[iam.PolicyStatement]:
    """The same condition keys hold for CreateHyperParameterTuningJob (its training job definition)."""
    return _create_within_guardrails(scope, guardrails, TUNING_JOB.create_operation, TUNING_JOB.arn_resource_type)


def launch_statements(scope: Construct, guardrails: Guardrails, kind: JobKindSpec) -> list[iam.PolicyStatement]:
    """What the launch of ``kind`` needs to create it within the team's guardrails, tagged on
    creation; a job also passes the team's role (an endpoint's model passed it earlier)."""
    if kind is ENDPOINT:
        return [*create_endpoint(scope, guardrails), *tag_on_create(scope, guardrails, [kind.arn_resource_type])]
    create = {TRAINING_JOB.job_type: create_training_job, TUNING_JOB.job_type: create_tuning_job}[kind.job_type]
    return [
        *create(scope, guardrails),
        *tag_on_create(scope, guardrails, [kind.arn_resource_type]),
        pass_team_role(guardrails),
    ]


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
    conditions: dict[str, dict[str, Any]] = {
        "ForAllValues:StringEquals": {
            "sagemaker:VpcSubnets": list(guardrails.subnet_ids),
            "sagemaker:VpcSecurityGroupIds": list(guardrails.security_group_ids),
            "sagemaker:InstanceTypes": instance_types,
        },
        "ArnEquals": keys,
        "StringEquals": {f"aws:RequestTag/{TEAM_TAG_KEY}": guardrails.team_name},
        # Instances of one job always encrypt what they exchange; no job outlives the team's limit.
        "Bool": {"sagemaker:InterContainerTrafficEncryption": "true"},
        "NumericLessThanEquals": {"sagemaker:MaxRuntimeInSeconds": str(guardrails.max_runtime_in_seconds)},
        # ForAllValues holds for an absent key too: require the keys to be present (and, on
        # local storage, the volume key to be absent).
        "Null": null,
    }
    _isolation(guardrails, conditions)
    return iam.PolicyStatement(
        sid=f"{action}WithinGuardrails" if volume_key else f"{action}OnLocalStorageWithinGuardrails",
        actions=[f"sagemaker:{action}"],
        resources=[sagemaker_arn(scope, resource_type)],
        conditions=conditions,
    )


def tag_on_create(scope: Construct, guardrails: Guardrails, resource_types: Sequence[str]) -> list[iam.PolicyStatement]:
    """Creating with tags needs sagemaker:AddTags on the new resource: only at creation with the
    team tag, or on what already is the team's (``team_tags.tag_statements``)."""
    return tag_statements(scope, guardrails.team_name, resource_types)


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
    """Models named ``<team>-...``, run in the team's subnets and security groups, isolated as the
    team requires, tagged for the team."""
    conditions: dict[str, dict[str, Any]] = {
        "ForAllValues:StringEquals": {
            "sagemaker:VpcSubnets": list(guardrails.subnet_ids),
            "sagemaker:VpcSecurityGroupIds": list(guardrails.security_group_ids),
        },
        "StringEquals": {f"aws:RequestTag/{TEAM_TAG_KEY}": guardrails.team_name},
        "Null": {"sagemaker:VpcSubnets": "false", "sagemaker:VpcSecurityGroupIds": "false"},
    }
    _isolation(guardrails, conditions)
    return iam.PolicyStatement(
        sid="CreateModelWithinGuardrails",
        actions=["sagemaker:CreateModel"],
        resources=[sagemaker_arn(scope, "model", f"{guardrails.name_prefix}*")],
        conditions=conditions,
    )


def create_endpoint_config(scope: Construct, guardrails: Guardrails) -> list[iam.PolicyStatement]:
    """Endpoint configs named ``<team>-...`` that serve only the team's models (sagemaker:ModelArn,
    ArnLike on the team's prefix), on the team's hosting instance types, tagged for the team. As for
    training: the team key encrypts EBS volumes, and instance types with local storage, for which
    SageMaker refuses a key, must come without one."""
    hosting = list(guardrails.hosting_instance_types)
    local = [t for t in hosting if has_local_storage(t)]
    statements = [_endpoint_config_statement(scope, guardrails, hosting, volume_key=True)]
    if local:
        statements.append(_endpoint_config_statement(scope, guardrails, local, volume_key=False))
    return statements


def _endpoint_config_statement(
    scope: Construct, guardrails: Guardrails, instance_types: list[str], *, volume_key: bool
) -> iam.PolicyStatement:
    null = {"sagemaker:InstanceTypes": "false", "sagemaker:ModelArn": "false"}
    conditions: dict[str, dict[str, Any]] = {
        "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": instance_types},
        # Every model of every variant is one of the team's (ARN-typed key, multivalued).
        "ForAllValues:ArnLike": {"sagemaker:ModelArn": [sagemaker_arn(scope, "model", f"{guardrails.name_prefix}*")]},
        "StringEquals": {f"aws:RequestTag/{TEAM_TAG_KEY}": guardrails.team_name},
        "Null": null,
    }
    if volume_key:
        conditions["ArnEquals"] = {"sagemaker:VolumeKmsKey": guardrails.key_arn}
    else:
        null["sagemaker:VolumeKmsKey"] = "true"
    return iam.PolicyStatement(
        sid="CreateEndpointConfigWithinGuardrails"
        if volume_key
        else "CreateEndpointConfigOnLocalStorageWithinGuardrails",
        actions=["sagemaker:CreateEndpointConfig"],
        resources=[sagemaker_arn(scope, "endpoint-config", f"{guardrails.name_prefix}*")],
        conditions=conditions,
    )


def create_endpoint(scope: Construct, guardrails: Guardrails) -> list[iam.PolicyStatement]:
    """CreateEndpoint is authorized on the new endpoint and on the config it names: the endpoint
    is tagged for the team, and the config must already be the team's (by its tag and its name)."""
    return [
        iam.PolicyStatement(
            sid="CreateEndpointForTheTeam",
            actions=[f"sagemaker:{ENDPOINT.create_operation}"],
            resources=[sagemaker_arn(scope, ENDPOINT.arn_resource_type)],
            conditions={"StringEquals": {f"aws:RequestTag/{TEAM_TAG_KEY}": guardrails.team_name}},
        ),
        iam.PolicyStatement(
            sid="CreateEndpointFromTheTeamsConfig",
            actions=[f"sagemaker:{ENDPOINT.create_operation}"],
            resources=[sagemaker_arn(scope, "endpoint-config", f"{guardrails.name_prefix}*")],
            conditions={"StringEquals": {f"aws:ResourceTag/{TEAM_TAG_KEY}": guardrails.team_name}},
        ),
    ]
