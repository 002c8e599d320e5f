"""A team's stateful resources: key, data bucket, job network, SageMaker role and SDK defaults.

Each of the four resources a platform team may already have (the key, the data bucket, the
network, the SageMaker role) is a typed CDK interface: pass your own, or the construct creates it
hardened. Every resource is a public attribute.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from tunestack.constructs.compliance import annotate_cdk_provider_functions
from tunestack.constructs.feature_flags import pin_feature_flags
from tunestack.constructs.job_network import JobNetwork
from tunestack.constructs.sagemaker_defaults import SageMakerDefaults
from tunestack.constructs.sagemaker_execution_role import SageMakerExecutionRole, protect_deployed_models
from tunestack.constructs.secure_bucket import AccessLogBucket, SecureBucket
from tunestack.constructs.team_key import TeamKey
from tunestack.constructs.team_settings import TeamPropsError, TeamSettings


class TeamFoundation(Construct):
    """What a team's data lives in. Created resources are retained on deletion unless
    ``removal_policy`` says otherwise (buckets must still be emptied first).

    Given resources are used as they are: an imported key or bucket cannot take the key-policy and
    bucket-policy statements the created ones carry (CloudWatch Logs' use of the key, the deny on
    overwriting deployed models); their owner provides those. ``security_group`` and
    ``vpc_subnets`` need ``vpc``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: TeamSettings,
        key: kms.IKey | None = None,
        data_bucket: s3.IBucket | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        sagemaker_role: iam.IRole | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        pin_feature_flags(self)
        problems = settings.problems()
        if vpc is None and vpc_subnets is not None:
            problems.append("vpc_subnets: selects subnets of a given vpc; pass vpc too (or leave both out)")
        if vpc is None and security_group is not None:
            problems.append("security_group: belongs to a given vpc; pass vpc too (or leave both out)")
        if problems:
            raise TeamPropsError(self.node.path or construct_id, problems)
        self.settings = settings
        team = settings.name

        self.key: kms.IKey = key or TeamKey(self, "Key", team_name=team, removal_policy=removal_policy)
        self.access_logs_bucket: s3.IBucket | None = None
        if data_bucket is None:
            self.access_logs_bucket = AccessLogBucket(self, "AccessLogs", removal_policy=removal_policy)
            data_bucket = SecureBucket(
                self,
                "Data",
                encryption_key=self.key,
                access_logs_bucket=self.access_logs_bucket,
                access_logs_prefix="data-bucket/",
                removal_policy=removal_policy,
            )
        self.data_bucket: s3.IBucket = data_bucket
        protect_deployed_models(self.data_bucket, team)
        self.network = JobNetwork(
            self,
            "Network",
            team_name=team,
            encryption_key=self.key,
            data_bucket=self.data_bucket,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_group=security_group,
            removal_policy=removal_policy,
        )
        self.sagemaker_role: iam.IRole = sagemaker_role or SageMakerExecutionRole(
            self,
            "SageMakerRole",
            team_name=team,
            data_bucket=self.data_bucket,
            encryption_key=self.key,
            vpc_arn=self.network.vpc_arn,
        )
        self.sdk_defaults = SageMakerDefaults(
            self,
            "SageMakerDefaults",
            team_name=team,
            bucket=self.data_bucket,
            encryption_key=self.key,
            role=self.sagemaker_role,
            subnet_ids=self.subnet_ids,
            security_group_ids=self.security_group_ids,
        )
        # After the SDK defaults: their AwsCustomResource provider runs this look-up too.
        self.network.restrict_egress_to_s3()
        annotate_cdk_provider_functions(cdk.Stack.of(self))

    @property
    def vpc(self) -> ec2.IVpc:
        return self.network.vpc

    @property
    def security_group(self) -> ec2.ISecurityGroup:
        return self.network.security_group

    @property
    def subnet_ids(self) -> list[str]:
        return self.network.subnet_ids

    @property
    def security_group_ids(self) -> list[str]:
        return [self.network.security_group.security_group_id]
