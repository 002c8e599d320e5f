"""The role SageMaker jobs and models of one team run as."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import region_info
from constructs import Construct

from tunestack.constructs.compliance import INLINE_POLICY_FOR_ONE_ROLE, acknowledge, nag_resource
from tunestack.constructs.team_tags import DEPLOYER_TAG_KEY, TEAM_TAG_KEY, tag_statements
from tunestack_runtime.image_registries import image_accounts, regions

__all__ = ["TEAM_TAG_KEY", "SageMakerExecutionRole", "image_repositories", "protect_deployed_models"]

ECR_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
#: Objects of the team bucket only the platform writes: the SDK defaults (``SageMakerDefaults``) and
#: the deployed copies of model artifacts (``protect_deployed_models``).
PLATFORM_PREFIXES = ("sagemaker-sdk/", "deployed/")


def protect_deployed_models(bucket: s3.IBucket, team_name: str) -> None:
    """Deployed model copies (``deployed/``) are written once, by the deploy's prepare step alone
    (the role carrying the deployer tag, ``DEPLOYER_TAG_KEY=<team>``), and never overwritten or deleted by anyone:
    SageMaker downloads them again whenever an endpoint starts an instance. An explicit Deny in the
    bucket policy holds whatever other principals' identity policies allow."""
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid="OnlyTheDeployWritesDeployedModels",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["s3:PutObject"],
            resources=[bucket.arn_for_objects("deployed/*")],
            conditions={"StringNotEquals": {f"aws:PrincipalTag/{DEPLOYER_TAG_KEY}": team_name}},
        )
    )
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid="NobodyDeletesDeployedModels",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
            resources=[bucket.arn_for_objects("deployed/*")],
        )
    )


def jumpstart_bucket_arn(scope: Construct) -> str:
    """ARN of the JumpStart cache bucket of the stack's region (pretrained models and scripts)."""
    stack = cdk.Stack.of(scope)
    return stack.format_arn(service="s3", region="", account="", resource=f"jumpstart-cache-prod-{stack.region}")


def jumpstart_gated_bucket_arn(scope: Construct) -> str:
    """ARN of the region's private JumpStart bucket, which holds the weights of gated (EULA) models."""
    stack = cdk.Stack.of(scope)
    return stack.format_arn(
        service="s3", region="", account="", resource=f"jumpstart-private-cache-prod-{stack.region}"
    )


def image_repositories(scope: Construct) -> tuple[str, list[str]]:
    """ECR repositories jobs may pull from: (the team account's, the AWS image accounts' of the
    region). With a region known at synth the ARNs are written out; in an environment-agnostic
    stack they come from a mapping by region (``image_registries``), so a region tunestack knows
    no images for fails the deployment rather than opening ECR to every account."""
    stack = cdk.Stack.of(scope)
    own = stack.format_arn(service="ecr", resource="repository", resource_name="*")
    if not cdk.Token.is_unresolved(stack.region):
        try:
            accounts = image_accounts(stack.region)
        except KeyError:
            raise ValueError(f"region {stack.region!r}: no SageMaker image accounts known (image_registries)") from None
        return own, [
            stack.format_arn(service="ecr", account=a, resource="repository", resource_name="*") for a in accounts
        ]
    mapping = cdk.CfnMapping(
        stack,
        "ImageRegistries",
        mapping={
            region: {
                "Repositories": [
                    f"arn:{region_info.RegionInfo.get(region).partition}:ecr:{region}:{account}:repository/*"
                    for account in image_accounts(region)
                ]
            }
            for region in regions()
        },
    )
    return own, [mapping.find_in_map(cdk.Aws.REGION, "Repositories")]


class SageMakerExecutionRole(iam.Role):
    """Least-privilege execution role for a team's training jobs, tuning jobs and models.

    Grants: read and write in the team's data bucket, use of the team's key, read of the
    region's JumpStart buckets (public and gated), image pulls from the team's own ECR and from the
    AWS accounts that publish SageMaker and JumpStart images in the region, its own logs and
    metrics, network interfaces in the team's VPC, and ``sagemaker:AddTags`` only while a training
    job is created with the team's tag (a tuning job tags the training jobs it launches). It may
    not write what only the platform writes (``PLATFORM_PREFIXES``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        team_name: str,
        data_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        vpc_arn: str,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"tunestack team {team_name}: SageMaker training jobs, tuning jobs and models",
        )
        stack = cdk.Stack.of(self)
        jumpstart = jumpstart_bucket_arn(self)
        team_objects = data_bucket.arn_for_objects("*")
        jumpstart_objects = f"{jumpstart}/*"
        gated = jumpstart_gated_bucket_arn(self)
        gated_objects = f"{gated}/*"
        own_images, aws_images = image_repositories(self)
        job_logs = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/sagemaker/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        taggable = [stack.format_arn(service="sagemaker", resource="training-job", resource_name="*")]
        # Every wildcard resource below, with the AWS reason it cannot be narrower.
        wildcard_reasons = {
            team_objects: "Jobs read datasets and write outputs under any model name the team "
            "chooses, inside the team's own bucket.",
            jumpstart_objects: "Pretrained JumpStart weights and training scripts are objects of "
            "the region's JumpStart cache bucket.",
            gated_objects: "Gated JumpStart models' weights are objects of the region's private JumpStart "
            "bucket; a job reads them only once its input accepted the model's EULA.",
            own_images: "Custom training and inference images of the team's account; repository names are the team's.",
            # (In an environment-agnostic stack they are one FindInMap, which cdk-nag does not read.)
            **{
                arn: "AWS-owned image repositories (SageMaker built-ins, Deep Learning Containers) of the region's "
                "image accounts; repository names differ by framework and version."
                for arn in aws_images
                if "Fn::FindInMap" not in str(stack.resolve(arn))
            },
            job_logs: "SageMaker writes each job's logs to log groups under /aws/sagemaker/ named by job type.",
            "*": "GetAuthorizationToken, PutMetricData and EC2 Describe* have no resource-level "
            "permissions; network interfaces are held to the team VPC by the ec2:Vpc condition.",
            **{
                arn: "Training job names come from executions; AddTags only while creating one with the team's tag."
                for arn in taggable
            },
        }
        policy = iam.Policy(self, "Permissions")
        acknowledge(policy, "NIST.800.53.R5-IAMNoInlinePolicy", INLINE_POLICY_FOR_ONE_ROLE)
        policy.add_statements(
            iam.PolicyStatement(
                sid="ListTeamBucket",
                actions=["s3:ListBucket", "s3:GetBucketLocation"],
                resources=[data_bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="ReadWriteTeamData",
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[team_objects],
            ),
            iam.PolicyStatement(
                sid="ReadJumpStartArtifacts",
                actions=["s3:GetObject", "s3:ListBucket"],
                resources=[jumpstart, jumpstart_objects, gated, gated_objects],
            ),
            iam.PolicyStatement(
                sid="UseTeamKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[encryption_key.key_arn],
            ),
            iam.PolicyStatement(
                sid="GrantTeamKeyToSageMakerVolumes",
                actions=["kms:CreateGrant"],
                resources=[encryption_key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            iam.PolicyStatement(sid="PullTeamImages", actions=ECR_PULL, resources=[own_images]),
            # Alone in its statement: in an environment-agnostic stack the ARNs are one FindInMap
            # that CloudFormation resolves to the whole list.
            iam.PolicyStatement(sid="PullAwsImages", actions=ECR_PULL, resources=aws_images),
            iam.PolicyStatement(
                sid="EcrAuthorization",
                actions=["ecr:GetAuthorizationToken"],
                # ecr:GetAuthorizationToken does not support resource-level permissions.
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="WriteJobLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[job_logs],
            ),
            iam.PolicyStatement(
                sid="PublishJobMetrics",
                actions=["cloudwatch:PutMetricData"],
                # cloudwatch:PutMetricData does not support resource-level permissions; the
                # namespace condition keeps it to SageMaker's own metrics.
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            ),
            iam.PolicyStatement(
                sid="DescribeNetwork",
                actions=[
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeDhcpOptions",
                ],
                # EC2 Describe* actions do not support resource-level permissions.
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="JobNetworkInterfacesInTeamVpc",
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ],
                # Network interfaces get their ids when SageMaker creates them; the ec2:Vpc
                # condition keeps them inside the team's VPC.
                resources=["*"],
                conditions={"ArnEquals": {"ec2:Vpc": vpc_arn}},
            ),
            *tag_statements(self, team_name, ["training-job"], retag_own=False),
            iam.PolicyStatement(
                sid="NeverWritePlatformObjects",
                effect=iam.Effect.DENY,
                actions=["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=[data_bucket.arn_for_objects(f"{prefix}*") for prefix in PLATFORM_PREFIXES],
            ),
        )
        self.attach_inline_policy(policy)
        self.permissions = policy
        for resource, reason in wildcard_reasons.items():
            acknowledge(policy, f"AwsSolutions-IAM5[{nag_resource(self, resource)}]", reason)
