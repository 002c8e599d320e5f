"""A team's three state machines and what they share: fine-tune, tune and deploy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from tunestack.constructs import registry_statements
from tunestack.constructs.compliance import acknowledge, annotate_cdk_provider_functions, nag_resource
from tunestack.constructs.data_scientist_access import DataScientistAccess, DataScientistAccessProps
from tunestack.constructs.deploy_pipeline import DeployPipeline
from tunestack.constructs.feature_flags import pin_feature_flags
from tunestack.constructs.fine_tune_pipeline import FineTunePipeline
from tunestack.constructs.pipeline_runtime import PipelineRuntime, TeamResources
from tunestack.constructs.registry_steps import WHY_GROUPS, ApprovalDeploys
from tunestack.constructs.team_settings import TeamPropsError, TeamSettings
from tunestack.constructs.tune_pipeline import TunePipeline


class TeamPipelines(Construct):
    """The state machines (named ``tunestack-<team>-fine-tune``, ``-tune``, ``-deploy``), their
    functions, the task-token table, the failure topic and the team's dashboard, running jobs with
    the given key, data bucket, SageMaker role, subnets and security groups (a ``TeamFoundation``'s,
    or a platform team's own); and the team's data-scientist role and managed policy
    (``data_scientists``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: TeamSettings,
        key: kms.IKey,
        data_bucket: s3.IBucket,
        sagemaker_role: iam.IRole,
        subnet_ids: Sequence[str],
        security_group_ids: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        pin_feature_flags(self)
        problems = settings.problems()
        for name, values in (("subnet_ids", subnet_ids), ("security_group_ids", security_group_ids)):
            if isinstance(values, str) or not values:
                problems.append(f"{name}: must be a non-empty sequence of ids, got {values!r}")
        if problems:
            raise TeamPropsError(self.node.path or construct_id, problems)
        self.settings = settings
        self.runtime = PipelineRuntime(
            self,
            "Runtime",
            resources=TeamResources(
                team=settings,
                bucket=data_bucket,
                key=key,
                role=sagemaker_role,
                subnet_ids=subnet_ids,
                security_group_ids=security_group_ids,
            ),
        )
        self.deploy = DeployPipeline(self, "Deploy", runtime=self.runtime)
        self.fine_tune = FineTunePipeline(self, "FineTune", runtime=self.runtime, deploy=self.deploy.state_machine)
        self.tune = TunePipeline(self, "Tune", runtime=self.runtime, deploy=self.deploy.state_machine)
        #: Approving a version of a group listed in ``settings.model_registry.auto_deploy`` deploys
        #: it; None when the team lists none.
        self.approval_deploys = (
            ApprovalDeploys(self, "ApprovalDeploys", runtime=self.runtime, deploy=self.deploy.state_machine)
            if settings.model_registry.auto_deploy
            else None
        )
        self.failure_topic = self.runtime.failures
        pipelines = (self.fine_tune, self.tune, self.deploy)
        self.data_scientists = DataScientistAccess(
            self,
            "DataScientists",
            props=DataScientistAccessProps(
                team_name=settings.name,
                state_machines=[p.state_machine for p in pipelines],
                bucket=self.runtime.bucket,
                key=key,
                topic=self.runtime.failures,
                log_groups=[
                    self.runtime.log_group,
                    *(cast(logs.ILogGroup, p.node.find_child("ExecutionLogs")) for p in pipelines),
                ],
                dashboard_name=self.tune.dashboard.dashboard_name,
            ),
        )
        self.model_reviewers = model_reviewer_policy(self, settings.name)
        annotate_cdk_provider_functions(cdk.Stack.of(self))


def model_reviewer_policy(scope: Construct, team: str) -> iam.ManagedPolicy:
    """``tunestack-<team>-model-reviewer``: approve or reject the team's model versions (and read
    them), for the people who decide what may be deployed; attach it to their permission set. The
    pipelines only register versions and the data scientists' policy cannot approve them."""
    policy = iam.ManagedPolicy(
        scope,
        "ModelReviewers",
        managed_policy_name=f"tunestack-{team}-model-reviewer",
        description=f"tunestack team {team}: approve or reject the team's model package versions",
        statements=registry_statements.review_statements(scope, team),
    )
    for resource in (registry_statements.group_arn(scope, team), registry_statements.version_arn(scope, team)):
        acknowledge(policy, f"AwsSolutions-IAM5[{nag_resource(policy, resource)}]", WHY_GROUPS)
    return policy
