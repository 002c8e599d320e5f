"""IAM statements for the model registry, written once: a team registers versions in, reads, and
deploys from its own model package groups only (named ``<team>-...``, tagged for the team).

Resource types and ARN formats, actions and condition keys are those of the Service Authorization
Reference, "Actions, resources, and condition keys for Amazon SageMaker"
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html):

- ``model-package-group``:
  ``arn:${Partition}:sagemaker:${Region}:${Account}:model-package-group/${ModelPackageGroupName}``;
- ``model-package``: ``arn:${Partition}:sagemaker:${Region}:${Account}:model-package/${ModelPackageName}``;
  a version's ARN is ``model-package/<group>/<version>`` (DescribeModelPackage, ``ModelPackageArn``);
- CreateModelPackage: resource types ``model-package`` and ``model-package-group``; condition keys
  ``aws:RequestTag/${TagKey}``, ``aws:TagKeys``, ``sagemaker:ModelApprovalStatus``;
- CreateModelPackageGroup: ``model-package-group``; ``aws:RequestTag/${TagKey}``, ``aws:TagKeys``;
- UpdateModelPackage: ``model-package``; ``sagemaker:ModelApprovalStatus``;
- AddTags with ``sagemaker:TaggingAction`` on a create call's own tags;
- ListModelPackages: no resource types (List access level), so ``Resource: "*"``.

Versions take no tags (a version of a group "uses the tags associated with the model group",
CreateModelPackage in botocore's service model), so what is the team's is told by the group: its
name prefix in the resource ARNs, and its team tag where a statement can read it.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from tunestack.constructs.team_tags import TEAM_TAG_KEY

#: What a pipeline may register a version as; ``Rejected`` is a reviewer's verdict.
REGISTER_STATUSES = ("PendingManualApproval", "Approved")
REVIEW_STATUSES = ("Approved", "Rejected", "PendingManualApproval")


def group_arn(scope: Construct, team: str) -> str:
    return cdk.Stack.of(scope).format_arn(
        service="sagemaker", resource="model-package-group", resource_name=f"{team}-*"
    )


def version_arn(scope: Construct, team: str) -> str:
    """Every version of every group of the team: ``model-package/<team>-.../<version>``."""
    return cdk.Stack.of(scope).format_arn(service="sagemaker", resource="model-package", resource_name=f"{team}-*/*")


def register_statements(
    scope: Construct, team: str, *, statuses: Sequence[str] = REGISTER_STATUSES
) -> list[iam.PolicyStatement]:
    """What the register function needs: create the team's group (with the team tag) when missing,
    read it, find this run's version, and create a version in one of ``statuses``."""
    unknown = sorted(set(statuses) - set(REGISTER_STATUSES))
    if unknown:
        raise ValueError(f"statuses: a version is registered as one of {', '.join(REGISTER_STATUSES)}, got {unknown}")
    team_tag = f"aws:RequestTag/{TEAM_TAG_KEY}"
    return [
        iam.PolicyStatement(
            sid="CreateTheTeamsModelPackageGroup",
            actions=["sagemaker:CreateModelPackageGroup"],
            resources=[group_arn(scope, team)],
            conditions={"StringEquals": {team_tag: team}},
        ),
        iam.PolicyStatement(
            sid="TagModelPackageGroupOnCreate",
            actions=["sagemaker:AddTags"],
            resources=[group_arn(scope, team)],
            # sagemaker:TaggingAction is absent from a direct AddTags call, which this never allows.
            conditions={"StringEquals": {"sagemaker:TaggingAction": "CreateModelPackageGroup", team_tag: team}},
        ),
        iam.PolicyStatement(
            sid="RegisterVersionsInTheTeamsGroups",
            actions=["sagemaker:CreateModelPackage"],
            resources=[group_arn(scope, team), version_arn(scope, team)],
            # StringEquals needs the key: a request without ModelApprovalStatus is not allowed.
            conditions={"StringEquals": {"sagemaker:ModelApprovalStatus": list(statuses)}},
        ),
        *read_statements(scope, team),
        iam.PolicyStatement(
            sid="ListModelPackages",
            actions=["sagemaker:ListModelPackages"],
            # ListModelPackages has no resource types in the Service Authorization Reference: it
            # cannot be scoped to a group. It lists summaries only; DescribeModelPackage stays scoped.
            resources=["*"],
        ),
    ]


def read_statements(scope: Construct, team: str) -> list[iam.PolicyStatement]:
    """Describe the team's groups and their tags, and their versions (deploy checks a version's
    status and its group's team tag)."""
    return [
        iam.PolicyStatement(
            sid="ReadTheTeamsModelPackageGroups",
            actions=["sagemaker:DescribeModelPackageGroup", "sagemaker:ListTags"],
            resources=[group_arn(scope, team)],
        ),
        iam.PolicyStatement(
            sid="ReadTheTeamsModelPackages",
            actions=["sagemaker:DescribeModelPackage"],
            resources=[version_arn(scope, team)],
        ),
    ]


def deploy_statements(scope: Construct, team: str) -> list[iam.PolicyStatement]:
    """Deploy (and the approval function) may describe only the team's groups and versions."""
    return read_statements(scope, team)


def review_statements(scope: Construct, team: str) -> list[iam.PolicyStatement]:
    """For the team's reviewers (not the pipelines): approve or reject the team's versions."""
    return [
        iam.PolicyStatement(
            sid="ReviewTheTeamsModelPackages",
            actions=["sagemaker:UpdateModelPackage"],
            resources=[version_arn(scope, team)],
            conditions={"StringEquals": {"sagemaker:ModelApprovalStatus": list(REVIEW_STATUSES)}},
        ),
        *read_statements(scope, team),
    ]
