"""Stateless resources of one team: Lambdas, state machines, events, notifications."""

from __future__ import annotations

from typing import Any, cast

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from tunestack.constructs.compliance import annotate_cdk_provider_functions
from tunestack.constructs.data_scientist_access import DataScientistAccess, DataScientistAccessProps
from tunestack.constructs.deploy_pipeline import DeployPipeline
from tunestack.constructs.fine_tune_pipeline import FineTunePipeline
from tunestack.constructs.pipeline_runtime import PipelineRuntime, TeamResources
from tunestack.constructs.platform_parameters import read_platform_values
from tunestack.constructs.tune_pipeline import TunePipeline
from tunestack.stacks.foundation_stack import FoundationStack


class PipelinesStack(cdk.Stack):
    """Can be redeployed or destroyed without touching the team's data."""

    def __init__(self, scope: Construct, construct_id: str, *, foundation: FoundationStack, **kwargs: Any) -> None:
        team = foundation.team
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
        resources = TeamResources(
            team=team,
            bucket_name=values.bucket_name,
            key=kms.Key.from_key_arn(self, "TeamKey", values.key_arn),
            role_arn=values.role_arn,
            subnet_ids=values.subnet_ids,
            security_group_ids=values.security_group_ids,
        )
        self.runtime = PipelineRuntime(self, "Runtime", resources=resources)
        self.deploy = DeployPipeline(self, "Deploy", runtime=self.runtime)
        machine = self.deploy.state_machine
        self.fine_tune = FineTunePipeline(self, "FineTune", runtime=self.runtime, deploy=machine)
        self.tune = TunePipeline(self, "Tune", runtime=self.runtime, deploy=machine)
        cdk.CfnOutput(self, "FineTuneStateMachineArn", value=self.fine_tune.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "TuneStateMachineArn", value=self.tune.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "DeployStateMachineArn", value=machine.state_machine_arn)
        cdk.CfnOutput(self, "FailureTopicArn", value=self.runtime.failures.topic_arn)
        pipelines = (self.fine_tune, self.tune, self.deploy)
        self.data_scientists = DataScientistAccess(
            self,
            "DataScientists",
            props=DataScientistAccessProps(
                team_name=team.name,
                state_machines=[p.state_machine for p in pipelines],
                bucket=self.runtime.bucket,
                key=resources.key,
                topic=self.runtime.failures,
                log_groups=[
                    self.runtime.log_group,
                    *(cast(logs.ILogGroup, p.node.find_child("ExecutionLogs")) for p in pipelines),
                ],
                dashboard_name=self.tune.dashboard.dashboard_name,
            ),
        )
        cdk.CfnOutput(self, "DataScientistRoleArn", value=self.data_scientists.role.role_arn)
        cdk.CfnOutput(self, "DataScientistPolicyArn", value=self.data_scientists.policy.managed_policy_arn)
        annotate_cdk_provider_functions(self)
