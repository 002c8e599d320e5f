"""Stateful resources of one team: key, buckets, network, SageMaker role and SDK defaults."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from tunestack.app.config import TeamConfig
from tunestack.constructs.compliance import annotate_cdk_provider_functions
from tunestack.constructs.platform_parameters import PlatformExports, PlatformValues
from tunestack.constructs.team_foundation import TeamFoundation


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
        # "Default" adds nothing to the logical ids: the resources keep the ids they had when the
        # stack created them itself.
        self.foundation = TeamFoundation(
            self, "Default", settings=team, vpc=self._imported_vpc(team), removal_policy=removal
        )
        self.key = self.foundation.key
        self.data_bucket = self.foundation.data_bucket
        self.network = self.foundation.network
        self.sagemaker_role = self.foundation.sagemaker_role
        self.sdk_defaults = self.foundation.sdk_defaults
        self.platform_exports = PlatformExports(
            self,
            "Platform",
            team_name=team.name,
            values=PlatformValues(
                bucket_name=self.data_bucket.bucket_name,
                key_arn=self.key.key_arn,
                role_arn=self.sagemaker_role.role_arn,
                subnet_ids=cdk.Fn.join(",", self.foundation.subnet_ids),
                security_group_ids=self.foundation.security_group.security_group_id,
            ),
        )
        self._outputs()
        annotate_cdk_provider_functions(self)

    def _imported_vpc(self, team: TeamConfig) -> ec2.IVpc | None:
        """The VPC cdk.json names by ids, without any synth-time look-up."""
        if team.vpc is None:
            return None
        return ec2.Vpc.from_vpc_attributes(
            self,
            "ImportedVpc",
            vpc_id=team.vpc.vpc_id,
            availability_zones=list(team.vpc.availability_zones),
            isolated_subnet_ids=list(team.vpc.subnet_ids),
        )

    def _outputs(self) -> None:
        outputs = {
            "DataBucketName": self.data_bucket.bucket_name,
            "KeyArn": self.key.key_arn,
            "SageMakerRoleArn": self.sagemaker_role.role_arn,
            "SubnetIds": cdk.Fn.join(",", self.foundation.subnet_ids),
            "SecurityGroupId": self.foundation.security_group.security_group_id,
            "SageMakerConfigS3Uri": self.sdk_defaults.s3_uri,
            "SageMakerConfigParameter": self.sdk_defaults.parameter.parameter_name,
        }
        for name, value in outputs.items():
            cdk.CfnOutput(self, name, value=value)
