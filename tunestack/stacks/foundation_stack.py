"""Stateful resources of one team: key, buckets, network, SageMaker role and SDK defaults."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from tunestack.app.config import TeamConfig
from tunestack.constructs.compliance import annotate_cdk_provider_functions
from tunestack.constructs.job_network import JobNetwork
from tunestack.constructs.platform_parameters import PlatformExports, PlatformValues
from tunestack.constructs.sagemaker_defaults import SageMakerDefaults
from tunestack.constructs.sagemaker_execution_role import SageMakerExecutionRole, protect_deployed_models
from tunestack.constructs.secure_bucket import AccessLogBucket, SecureBucket
from tunestack.constructs.team_key import TeamKey


class FoundationStack(cdk.Stack):
    """What a team's data lives in; termination protection is on and data is retained.

    Pipelines come and go in their own stack; this one changes rarely. ``allow_destroy`` turns
    RETAIN into DESTROY for throw-away environments (buckets must still be emptied first).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        team: TeamConfig,
        allow_destroy: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"tunestack team {team.name}: data, key, network and SageMaker defaults",
            termination_protection=True,
            **kwargs,
        )
        self.team = team
        removal = cdk.RemovalPolicy.DESTROY if allow_destroy else cdk.RemovalPolicy.RETAIN

        self.key = TeamKey(self, "Key", team_name=team.name, removal_policy=removal)
        self.access_logs_bucket = AccessLogBucket(self, "AccessLogs", removal_policy=removal)
        self.data_bucket = SecureBucket(
            self,
            "Data",
            encryption_key=self.key,
            access_logs_bucket=self.access_logs_bucket,
            access_logs_prefix="data-bucket/",
            removal_policy=removal,
        )
        protect_deployed_models(self.data_bucket, team.name)
        self.network = JobNetwork(
            self,
            "Network",
            team_name=team.name,
            encryption_key=self.key,
            data_bucket=self.data_bucket,
            imported=team.vpc,
            removal_policy=removal,
        )
        self.sagemaker_role = SageMakerExecutionRole(
            self,
            "SageMakerRole",
            team_name=team.name,
            data_bucket=self.data_bucket,
            encryption_key=self.key,
            vpc_arn=self.network.vpc_arn,
        )
        self.sdk_defaults = SageMakerDefaults(
            self,
            "SageMakerDefaults",
            team_name=team.name,
            bucket=self.data_bucket,
            encryption_key=self.key,
            role=self.sagemaker_role,
            subnet_ids=self.network.subnet_ids,
            security_group_ids=[self.network.security_group.security_group_id],
        )
        # After the SDK defaults: their AwsCustomResource provider runs this look-up too.
        self.network.restrict_egress_to_s3()
        self.platform_exports = PlatformExports(
            self,
            "Platform",
            team_name=team.name,
            values=PlatformValues(
                bucket_name=self.data_bucket.bucket_name,
                key_arn=self.key.key_arn,
                role_arn=self.sagemaker_role.role_arn,
                subnet_ids=cdk.Fn.join(",", self.network.subnet_ids),
                security_group_ids=self.network.security_group.security_group_id,
            ),
        )
        self._outputs()
        annotate_cdk_provider_functions(self)

    def _outputs(self) -> None:
        outputs = {
            "DataBucketName": self.data_bucket.bucket_name,
            "KeyArn": self.key.key_arn,
            "SageMakerRoleArn": self.sagemaker_role.role_arn,
            "SubnetIds": cdk.Fn.join(",", self.network.subnet_ids),
            "SecurityGroupId": self.network.security_group.security_group_id,
            "SageMakerConfigS3Uri": self.sdk_defaults.s3_uri,
            "SageMakerConfigParameter": self.sdk_defaults.parameter.parameter_name,
        }
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)
