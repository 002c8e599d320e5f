"""The role SageMaker jobs and models of one team run as."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from tunestack_constructs.compliance import INLINE_POLICY_FOR_ONE_ROLE, acknowledge, nag_resource

#: Tag every SageMaker resource of a team carries; IAM conditions key on it.
TEAM_TAG_KEY = "tunestack:team"

#: SageMaker resource types the team's jobs create and may tag.
TAGGABLE_RESOURCE_TYPES = (
    "training-job",
    "hyper-parameter-tuning-job",
    "model",
    "endpoint-config",
    "endpoint",
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


class SageMakerExecutionRole(iam.Role):
    """Least-privilege execution role for a team's training jobs, tuning jobs and models.

    Grants: read and write in the team's data bucket, use of the team's key, read of the
    region's JumpStart buckets (public and gated), image pulls from ECR, its own logs and metrics, network
    interfaces in the team's VPC, and ``sagemaker:AddTags`` on the resources it creates when the
    request carries the team's tag (a tuning job tags the training jobs it launches).
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
        images = stack.format_arn(service="ecr", account="*", resource="repository", resource_name="*")
        job_logs = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/sagemaker/*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        taggable = [
            stack.format_arn(service="sagemaker", resource=kind, resource_name="*") for kind in TAGGABLE_RESOURCE_TYPES
        ]
        # Every wildcard resource below, with the AWS reason it cannot be narrower.
        wildcard_reasons = {
            team_objects: "Jobs read datasets and write outputs under any model name the team "
            "chooses, inside the team's own bucket.",
            jumpstart_objects: "Pretrained JumpStart weights and training scripts are objects of "
            "the region's JumpStart cache bucket.",
            gated_objects: "Gated JumpStart models' weights are objects of the region's private JumpStart "
            "bucket; a job reads them only once its input accepted the model's EULA.",
            images: "Training and inference images live in AWS-owned ECR accounts that differ by region and framework.",
            job_logs: "SageMaker writes each job's logs to log groups under /aws/sagemaker/ named by job type.",
            "*": "GetAuthorizationToken, PutMetricData and EC2 Describe* have no resource-level "
            "permissions; network interfaces are held to the team VPC by the ec2:Vpc condition.",
            **{
                arn: "Job and model names come from executions; AddTags requires the team's tag in the request."
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
            iam.PolicyStatement(
                sid="PullImages",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                resources=[images],
            ),
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
            iam.PolicyStatement(
                sid="TagWhatTeamJobsCreate",
                actions=["sagemaker:AddTags"],
                resources=taggable,
                conditions={"StringEquals": {f"aws:RequestTag/{TEAM_TAG_KEY}": team_name}},
            ),
        )
        self.attach_inline_policy(policy)
        self.permissions = policy
        for resource, reason in wildcard_reasons.items():
            acknowledge(policy, f"AwsSolutions-IAM5[{nag_resource(self, resource)}]", reason)
