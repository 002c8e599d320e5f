"""One team's whole platform in one construct: ``TeamPlatform(stack, "Search", team_name="search")``."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from tunestack.constructs.compliance import annotate_cdk_provider_functions
from tunestack.constructs.feature_flags import pin_feature_flags
from tunestack.constructs.team_foundation import TeamFoundation
from tunestack.constructs.team_pipelines import TeamPipelines
from tunestack.constructs.team_settings import DefaultInstanceTypes, InstanceTypes, TeamLimits, TeamSettings
from tunestack_runtime.contract import RegistrySettings


class TeamPlatform(Construct):
    """A team's key, data bucket, job network, SageMaker role, SDK defaults and the fine-tune, tune
    and deploy state machines, in the stack it is added to.

    Only ``team_name`` is required. Defaults: the instance types and limits of
    ``tunestack.constructs.team_settings`` (``InstanceTypes()``, ``DefaultInstanceTypes()``,
    ``TeamLimits()``), network isolation required, no model registry defaults and no deploy on
    approval (``RegistrySettings()``), failures (not successes) told to the team's topic
    (``notify_on_success``), a created key, bucket, VPC and role, retained on
    deletion. Pass ``key``, ``data_bucket``, ``vpc`` (with ``vpc_subnets`` and ``security_group``)
    or ``sagemaker_role`` to use your own. Every problem with the props is named at once
    (``TeamPropsError``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        team_name: str,
        allowed_instance_types: InstanceTypes | None = None,
        default_instance_types: DefaultInstanceTypes | None = None,
        limits: TeamLimits | None = None,
        network_isolation: str = "required",
        model_registry: RegistrySettings | None = None,
        notify_on_success: bool = False,
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
        self.settings = TeamSettings(
            name=team_name,
            allowed_instance_types=allowed_instance_types or InstanceTypes(),
            default_instance_types=default_instance_types or DefaultInstanceTypes(),
            limits=limits or TeamLimits(),
            network_isolation=network_isolation,
            model_registry=model_registry or RegistrySettings(),
            notify_on_success=notify_on_success,
        )
        self.foundation = TeamFoundation(
            self,
            "Foundation",
            settings=self.settings,
            key=key,
            data_bucket=data_bucket,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_group=security_group,
            sagemaker_role=sagemaker_role,
            removal_policy=removal_policy,
        )
        self.key = self.foundation.key
        self.data_bucket = self.foundation.data_bucket
        self.vpc = self.foundation.vpc
        self.security_group = self.foundation.security_group
        self.sagemaker_role = self.foundation.sagemaker_role
        self.pipelines = TeamPipelines(
            self,
            "Pipelines",
            settings=self.settings,
            key=self.key,
            data_bucket=self.data_bucket,
            sagemaker_role=self.sagemaker_role,
            subnet_ids=self.foundation.subnet_ids,
            security_group_ids=self.foundation.security_group_ids,
        )
        self.fine_tune = self.pipelines.fine_tune.state_machine
        self.tune = self.pipelines.tune.state_machine
        self.deploy = self.pipelines.deploy.state_machine
        self.failure_topic = self.pipelines.failure_topic
        self.data_scientist_role = self.pipelines.data_scientists.role
        self.data_scientist_policy = self.pipelines.data_scientists.policy
        self.model_reviewer_policy = self.pipelines.model_reviewers
        annotate_cdk_provider_functions(cdk.Stack.of(self))
