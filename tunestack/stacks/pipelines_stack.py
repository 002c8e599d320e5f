"""Stateless resources of one team: Lambdas, state machines, events, notifications."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from tunestack.constructs.compliance import annotate_cdk_provider_functions
from tunestack.constructs.platform_parameters import read_platform_values, split
from tunestack.constructs.team_pipelines import TeamPipelines
from tunestack.stacks.foundation_stack import FoundationStack


class PipelinesStack(cdk.Stack):
    """Can be redeployed or destroyed without touching the team's data."""

    def __init__(self, scope: Construct, construct_id: str, *, foundation: FoundationStack, **kwargs: Any) -> None:
        team = foundation.settings
        super().__init__(
            scope,
            construct_id,
            description=f"tunestack team {team.name}: fine-tune, tune and deploy pipelines",
            **kwargs,
        )
        # The guardrail values come from the foundation's named exports, which only the foundation
        # stack writes and which cannot change while imported.
        self.add_stack_dependency(foundation)
        values = read_platform_values(team.name)
        # "Default" adds nothing to the logical ids: the resources keep the ids they had when the
        # stack created them itself.
        self.pipelines = TeamPipelines(
            self,
            "Default",
            settings=team,
            key=kms.Key.from_key_arn(self, "TeamKey", values.key_arn),
            data_bucket=s3.Bucket.from_bucket_name(self, "TeamBucket", values.bucket_name),
            sagemaker_role=iam.Role.from_role_arn(self, "TeamSageMakerRole", values.role_arn, mutable=False),
            subnet_ids=split(values.subnet_ids),
            security_group_ids=split(values.security_group_ids),
        )
        self.runtime = self.pipelines.runtime
        self.deploy = self.pipelines.deploy
        self.fine_tune = self.pipelines.fine_tune
        self.tune = self.pipelines.tune
        machine = self.deploy.state_machine
        cdk.CfnOutput(self, "FineTuneStateMachineArn", value=self.fine_tune.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "TuneStateMachineArn", value=self.tune.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "DeployStateMachineArn", value=machine.state_machine_arn)
        cdk.CfnOutput(self, "FailureTopicArn", value=self.runtime.failures.topic_arn)
        self.data_scientists = self.pipelines.data_scientists
        cdk.CfnOutput(self, "DataScientistRoleArn", value=self.data_scientists.role.role_arn)
        cdk.CfnOutput(self, "DataScientistPolicyArn", value=self.data_scientists.policy.managed_policy_arn)
        cdk.CfnOutput(self, "ModelReviewerPolicyArn", value=self.pipelines.model_reviewers.managed_policy_arn)
        annotate_cdk_provider_functions(self)
