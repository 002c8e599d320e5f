"""The team tag, and the only ways a team's roles may tag SageMaker resources.

IAM conditions on the team tag, ``aws:ResourceTag/<TEAM_TAG>`` (Describe, Stop, UpdateEndpoint, ...) are only
as strong as the control over who can set that tag. A role may therefore tag a resource in two
cases alone: while creating it (``sagemaker:TaggingAction`` names the create action, and the new
resource carries the team's tag), or when the resource already belongs to the team and the request
leaves it the team's. It can never tag another team's resource as its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from tunestack_runtime.contract import DEPLOYER_TAG, TEAM_TAG

#: Tag every SageMaker resource of a team carries; IAM conditions key on it.
TEAM_TAG_KEY = TEAM_TAG
#: Carried (value: the team) by the one role that writes the team's deployed model copies; the
#: data bucket's policy denies every other principal writes under ``deployed/``.
DEPLOYER_TAG_KEY = DEPLOYER_TAG

#: The create actions that tag each SageMaker resource type on creation. A tuning job's trials are
#: training jobs it creates with its tags. ``sagemaker:TaggingAction`` is present only on the AddTags
#: authorization a create call makes for its ``Tags`` ("Actions, resources, and condition keys for
#: Amazon SageMaker", Service Authorization Reference: AddTags, condition key sagemaker:TaggingAction;
#: AWS's managed policies use it the same way to allow tag-on-create only).
CREATE_ACTIONS = {
    "training-job": ("CreateTrainingJob", "CreateHyperParameterTuningJob"),
    "hyper-parameter-tuning-job": ("CreateHyperParameterTuningJob",),
    "model": ("CreateModel",),
    "endpoint-config": ("CreateEndpointConfig",),
    "endpoint": ("CreateEndpoint",),
}


def _arn(scope: Construct, resource_type: str) -> str:
    return cdk.Stack.of(scope).format_arn(service="sagemaker", resource=resource_type, resource_name="*")


def tag_statements(
    scope: Construct, team_name: str, resource_types: Sequence[str], *, retag_own: bool = True
) -> list[iam.PolicyStatement]:
    """``sagemaker:AddTags`` on ``resource_types``: at creation with the team's tag, and (with
    ``retag_own``) on resources already tagged for the team, keeping that tag."""
    unknown = sorted(set(resource_types) - set(CREATE_ACTIONS))
    if unknown:
        raise ValueError(f"resource_types: no create action known for {unknown}")
    resources = [_arn(scope, kind) for kind in resource_types]
    tagging_actions = sorted({a for kind in resource_types for a in CREATE_ACTIONS[kind]})
    team_tag = f"aws:RequestTag/{TEAM_TAG_KEY}"
    statements = [
        iam.PolicyStatement(
            sid="TagOnCreateWithTeamTag",
            actions=["sagemaker:AddTags"],
            resources=resources,
            # sagemaker:TaggingAction is absent from a direct AddTags call, which this statement
            # therefore never allows.
            conditions={"StringEquals": {"sagemaker:TaggingAction": tagging_actions, team_tag: team_name}},
        )
    ]
    if retag_own:
        statements.append(
            iam.PolicyStatement(
                sid="TagOnlyTheTeamsOwn",
                actions=["sagemaker:AddTags"],
                resources=resources,
                conditions={
                    "StringEquals": {f"aws:ResourceTag/{TEAM_TAG_KEY}": team_name},
                    # A request that sets the team tag must keep it the team's.
                    "StringEqualsIfExists": {team_tag: team_name},
                },
            )
        )
    return statements
