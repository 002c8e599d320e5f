"""tunestack as a construct library: each construct alone in a bare stack of an app that sets no
context (no feature flags, no teams), with the cdk-nag packs as validation plugins.

One app holds the four stacks, so one synth (and one nag run) serves every test here; a finding
that is neither fixed nor acknowledged makes ``app.synth()`` raise.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from tunestack import (
    DefaultInstanceTypes,
    InstanceTypes,
    TeamFoundation,
    TeamLimits,
    TeamPipelines,
    TeamPlatform,
    TeamPropsError,
    TeamSettings,
)
from tunestack.constructs.compliance import NAG_PACKS
from tunestack_runtime.contract import AutoDeploy, RegistrySettings

ACCOUNT_ROLE = "arn:aws:iam::111122223333:role/platform-sagemaker"
OWN_KEY = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
SUBNETS = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]


class Library:
    """The synthesized bare stacks, and the constructs that made them."""

    def __init__(self) -> None:
        app = cdk.App()
        env = cdk.Environment(account="111122223333", region="eu-west-1")
        self.default_stack = cdk.Stack(app, "Defaults")
        self.default = TeamPlatform(self.default_stack, "Search", team_name="search")

        self.own_stack = cdk.Stack(app, "OwnResources", env=env)
        vpc = ec2.Vpc.from_vpc_attributes(
            self.own_stack,
            "PlatformVpc",
            vpc_id="vpc-0a1b2c3d4e5f60718",
            availability_zones=["eu-west-1a", "eu-west-1b"],
            isolated_subnet_ids=SUBNETS,
        )
        for subnet in vpc.isolated_subnets:
            cdk.Validations.of(subnet).acknowledge(
                cdk.Acknowledgment(
                    id="Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId",
                    reason="The platform team's subnets are given by id; the route check reads their tables.",
                )
            )
        self.own = TeamPlatform(
            self.own_stack,
            "Ads",
            team_name="ads",
            allowed_instance_types=InstanceTypes(training=("ml.g5.2xlarge",), hosting=("ml.m5.large",)),
            default_instance_types=DefaultInstanceTypes(training="ml.g5.2xlarge", hosting="ml.m5.large"),
            key=kms.Key.from_key_arn(self.own_stack, "PlatformKey", OWN_KEY),
            data_bucket=s3.Bucket.from_bucket_name(self.own_stack, "PlatformBucket", "ads-ml-data"),
            vpc=vpc,
            security_group=ec2.SecurityGroup.from_security_group_id(
                self.own_stack, "PlatformGroup", "sg-0a1b2c3d4e5f60718", mutable=False
            ),
            sagemaker_role=iam.Role.from_role_arn(self.own_stack, "PlatformRole", ACCOUNT_ROLE, mutable=False),
        )

        self.foundation_stack = cdk.Stack(app, "FoundationAlone")
        self.foundation = TeamFoundation(self.foundation_stack, "Foundation", settings=TeamSettings(name="maps"))

        self.pipelines_stack = cdk.Stack(app, "PipelinesAlone", env=env)
        self.pipelines = TeamPipelines(
            self.pipelines_stack,
            "Pipelines",
            settings=TeamSettings(name="maps", limits=TeamLimits(max_instance_count=1)),
            key=kms.Key.from_key_arn(self.pipelines_stack, "Key", OWN_KEY),
            data_bucket=s3.Bucket.from_bucket_name(self.pipelines_stack, "Bucket", "maps-ml-data"),
            sagemaker_role=iam.Role.from_role_arn(self.pipelines_stack, "Role", ACCOUNT_ROLE, mutable=False),
            subnet_ids=SUBNETS,
            security_group_ids=["sg-0a1b2c3d4e5f60718"],
        )
        cdk.Validations.of(app).add_plugins(*(pack(app) for pack in NAG_PACKS))
        app.synth()  # raises ValidationFailed on any unacknowledged cdk-nag finding

    def template(self, stack: cdk.Stack) -> Template:
        return Template.from_stack(stack)


@pytest.fixture(scope="module")
def library() -> Library:
    return Library()


def _count(template: Template, resource_type: str) -> int:
    return len(template.find_resources(resource_type))


def test_the_two_line_app_is_a_whole_team_platform(library: Library) -> None:
    template = library.template(library.default_stack)
    machines = template.find_resources("AWS::StepFunctions::StateMachine")
    names = sorted(m["Properties"]["StateMachineName"] for m in machines.values())
    assert names == ["tunestack-search-deploy", "tunestack-search-fine-tune", "tunestack-search-tune"]
    assert _count(template, "AWS::KMS::Key") == 1
    assert _count(template, "AWS::S3::Bucket") == 2  # data and its access logs
    assert _count(template, "AWS::EC2::VPC") == 1
    assert _count(template, "AWS::DynamoDB::Table") == 1
    template.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/tunestack/search"})


def test_created_resources_are_public_attributes(library: Library) -> None:
    platform = library.default
    assert isinstance(platform.key, kms.Key)
    assert isinstance(platform.data_bucket, s3.Bucket)
    assert isinstance(platform.vpc, ec2.Vpc)
    assert isinstance(platform.sagemaker_role, iam.Role)
    for machine in (platform.fine_tune, platform.tune, platform.deploy):
        assert machine.state_machine_arn
    assert platform.failure_topic.topic_arn
    assert platform.data_scientist_role.role_arn and platform.data_scientist_policy.managed_policy_arn
    assert platform.settings == TeamSettings(name="search")


def test_given_resources_are_used_and_none_is_created_in_their_place(library: Library) -> None:
    template = library.template(library.own_stack)
    for resource_type in ("AWS::KMS::Key", "AWS::S3::Bucket", "AWS::EC2::VPC", "AWS::EC2::SecurityGroup"):
        assert _count(template, resource_type) == 0, resource_type
    roles = template.find_resources("AWS::IAM::Role")
    assert not [r for r in roles.values() if "sagemaker.amazonaws.com" in json.dumps(r)]
    # The team policy every function reads names the given role, key, bucket, subnets and group.
    functions = template.find_resources("AWS::Lambda::Function")
    environment = json.dumps(
        next(f for f in functions.values() if "TUNESTACK_TEAM" in json.dumps(f))["Properties"]["Environment"]
    )
    for given in (ACCOUNT_ROLE, OWN_KEY, "ads-ml-data", SUBNETS[0], SUBNETS[1], "sg-0a1b2c3d4e5f60718"):
        assert given in environment, given
    # The given security group keeps its own rules: no egress rule is added to it.
    assert _count(template, "AWS::EC2::SecurityGroupEgress") == 0
    # The given subnets are still checked for a route out while the stack deploys.
    template.has_resource_properties("Custom::TunestackRouteCheck", {"SubnetIds": SUBNETS})


def test_the_foundation_and_the_pipelines_each_stand_alone(library: Library) -> None:
    foundation = library.template(library.foundation_stack)
    assert _count(foundation, "AWS::StepFunctions::StateMachine") == 0
    assert _count(foundation, "AWS::KMS::Key") == 1
    pipelines = library.template(library.pipelines_stack)
    assert _count(pipelines, "AWS::KMS::Key") == 0
    assert _count(pipelines, "AWS::StepFunctions::StateMachine") == 3
    assert library.pipelines.fine_tune.state_machine is not None


def test_an_app_without_feature_flags_gets_the_same_buckets(library: Library) -> None:
    """The access-log bucket takes its deliveries by bucket policy, not by an ACL that its
    BucketOwnerEnforced ownership would refuse (the flag is pinned on tunestack's own nodes)."""
    template = library.template(library.default_stack)
    for bucket in template.find_resources("AWS::S3::Bucket").values():
        assert "AccessControl" not in bucket["Properties"]
    policies = json.dumps(template.find_resources("AWS::S3::BucketPolicy"))
    assert "logging.s3.amazonaws.com" in policies


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (
            {
                "team_name": "Search_Team",
                "limits": TeamLimits(max_instance_count=0, max_parallel_training_jobs=30),
                "default_instance_types": DefaultInstanceTypes(training="ml.p4d.24xlarge"),
                "network_isolation": "off",
                "notify_on_success": "yes",
            },
            [
                "team_name: must be 2-12 lowercase letters",
                "default_instance_types.training: 'ml.p4d.24xlarge' is not in allowed_instance_types.training",
                "limits.max_instance_count: must be a positive integer, got 0",
                "limits.max_parallel_training_jobs: 30 exceeds limits.max_training_jobs_per_tuning_job (20)",
                "network_isolation: must be one of ['required', 'algorithm'], got 'off'",
                "notify_on_success: must be true or false, got 'yes'",
            ],
        ),
        (
            {"team_name": "ok", "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)},
            ["vpc_subnets: selects subnets of a given vpc; pass vpc too"],
        ),
        (
            {
                "team_name": "ok",
                "model_registry": RegistrySettings(
                    default_group="cv-models",
                    default_approval_status="Rejected",
                    auto_deploy=(
                        AutoDeploy(group="ok-live", endpoint_name="a_b", instance_type="ml.p3.2xlarge"),
                        AutoDeploy(group="ok-live", endpoint_name="b", initial_instance_count=5),
                    ),
                ),
            },
            [
                "model_registry.default_group: 1-63 letters, digits and hyphens starting with the team's prefix 'ok-'",
                "model_registry.default_approval_status: one of ['PendingManualApproval', 'Approved'], got 'Rejected'",
                "model_registry.auto_deploy[0].endpoint_name: 1-63 letters, digits and hyphens, got 'a_b'",
                "model_registry.auto_deploy[0].instance_type: 'ml.p3.2xlarge' is not in allowed_instance_types.hosting",
                "model_registry.auto_deploy[1].group: 'ok-live' deploys to one endpoint only, listed twice",
                "model_registry.auto_deploy[1].initial_instance_count: 5 exceeds limits.max_instance_count (2)",
            ],
        ),
        (
            {"team_name": "ok", "allowed_instance_types": InstanceTypes(training=("p3.2xlarge",))},
            [
                "allowed_instance_types.training: not SageMaker instance types (ml.<family>.<size>): ['p3.2xlarge']",
                "default_instance_types.training: 'ml.m5.xlarge' is not in allowed_instance_types.training",
            ],
        ),
    ],
)
def test_every_bad_prop_is_named_at_once(props: dict[str, Any], expected: list[str]) -> None:
    stack = cdk.Stack(cdk.App(), "Bad")
    with pytest.raises(TeamPropsError) as raised:
        TeamPlatform(stack, "Team", **props)
    assert len(raised.value.problems) == len(expected), raised.value.problems
    for problem, start in zip(raised.value.problems, expected, strict=True):
        assert problem.startswith(start), problem
    assert "Bad/Team" in str(raised.value)
    assert not [c for c in stack.node.find_all() if isinstance(c, cdk.CfnResource)], "nothing is half-created"


def test_the_pipelines_refuse_missing_network_ids() -> None:
    stack = cdk.Stack(cdk.App(), "Bad")
    with pytest.raises(TeamPropsError) as raised:
        TeamPipelines(
            stack,
            "Pipelines",
            settings=TeamSettings(name="maps"),
            key=kms.Key.from_key_arn(stack, "Key", OWN_KEY),
            data_bucket=s3.Bucket.from_bucket_name(stack, "Bucket", "maps-ml-data"),
            sagemaker_role=iam.Role.from_role_arn(stack, "Role", ACCOUNT_ROLE),
            subnet_ids=[],
            security_group_ids="sg-0a1b2c3d4e5f60718",  # type: ignore[arg-type]
        )
    assert [p.split(":")[0] for p in raised.value.problems] == ["subnet_ids", "security_group_ids"]


def test_an_app_that_sets_a_flag_the_other_way_gets_the_same_buckets() -> None:
    """The flags are set on tunestack's own nodes, nearer than the app's context: an app that turns
    serverAccessLogsUseBucketPolicy off still gets a log bucket that takes deliveries by policy."""
    app = cdk.App(context={"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": False})
    stack = cdk.Stack(app, "OtherFlags")
    TeamFoundation(stack, "Foundation", settings=TeamSettings(name="maps"))
    template = Template.from_stack(stack)
    for bucket in template.find_resources("AWS::S3::Bucket").values():
        assert "AccessControl" not in bucket["Properties"]
    assert "logging.s3.amazonaws.com" in json.dumps(template.find_resources("AWS::S3::BucketPolicy"))
