"""The SageMaker Python SDK defaults of a team, published where SDK and Studio users find them.

The SDK reads a ``config.yaml`` (``SchemaVersion: '1.0'``) from a local path or an S3 URI named by
``SAGEMAKER_ADMIN_CONFIG_OVERRIDE``; with it, ``Estimator(...)`` and ``Model(...)`` get the same
role, VPC, KMS keys and network isolation the pipelines enforce, without anyone copying ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from aws_cdk import custom_resources as cr
from constructs import Construct

from tunestack.constructs.compliance import INLINE_POLICY_FOR_ONE_ROLE, acknowledge
from tunestack.constructs.team_key import log_group_name
from tunestack.constructs.team_tags import TEAM_TAG_KEY

CONFIG_OBJECT_KEY = "sagemaker-sdk/config.yaml"


def sdk_defaults_document(
    *,
    team_name: str,
    bucket_name: str,
    role_arn: str,
    subnet_ids: Sequence[str],
    security_group_ids: Sequence[str],
    key_arn: str,
) -> dict[str, Any]:
    """The SDK's ``config.yaml`` as a dict; values may be CDK tokens."""
    vpc = {"SecurityGroupIds": list(security_group_ids), "Subnets": list(subnet_ids)}
    tags = [{"Key": TEAM_TAG_KEY, "Value": team_name}]
    return {
        "SchemaVersion": "1.0",
        "SageMaker": {
            "PythonSDK": {
                "Modules": {
                    "Session": {"DefaultS3Bucket": bucket_name, "DefaultS3ObjectKeyPrefix": "sdk"},
                }
            },
            "TrainingJob": {
                "RoleArn": role_arn,
                "VpcConfig": vpc,
                "EnableNetworkIsolation": True,
                "EnableInterContainerTrafficEncryption": True,
                "OutputDataConfig": {"KmsKeyId": key_arn},
                "ResourceConfig": {"VolumeKmsKeyId": key_arn},
                "Tags": tags,
            },
            "Model": {
                "ExecutionRoleArn": role_arn,
                "VpcConfig": vpc,
                "EnableNetworkIsolation": True,
                "Tags": tags,
            },
            "EndpointConfig": {
                "KmsKeyId": key_arn,
                "DataCaptureConfig": {"KmsKeyId": key_arn},
                "AsyncInferenceConfig": {"OutputConfig": {"KmsKeyId": key_arn}},
                "Tags": tags,
            },
            "ProcessingJob": {
                "RoleArn": role_arn,
                "NetworkConfig": {
                    "VpcConfig": vpc,
                    "EnableNetworkIsolation": True,
                    "EnableInterContainerTrafficEncryption": True,
                },
                "ProcessingOutputConfig": {"KmsKeyId": key_arn},
                "ProcessingResources": {"ClusterConfig": {"VolumeKmsKeyId": key_arn}},
                "Tags": tags,
            },
        },
    }


def render_yaml(document: dict[str, Any]) -> str:
    # width: never fold a line inside a token or an ARN.
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=10_000)


class SageMakerDefaults(Construct):
    """Publishes the team's SDK ``config.yaml`` to ``s3://<bucket>/sagemaker-sdk/config.yaml``
    (encrypted with the team key) and to the SSM parameter ``/tunestack/<team>/sagemaker-config``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        team_name: str,
        bucket: s3.IBucket,
        encryption_key: kms.IKey,
        role: iam.IRole,
        subnet_ids: Sequence[str],
        security_group_ids: Sequence[str],
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, construct_id)
        self.document_text = render_yaml(
            sdk_defaults_document(
                team_name=team_name,
                bucket_name=bucket.bucket_name,
                role_arn=role.role_arn,
                subnet_ids=subnet_ids,
                security_group_ids=security_group_ids,
                key_arn=encryption_key.key_arn,
            )
        )
        self.s3_uri = f"s3://{bucket.bucket_name}/{CONFIG_OBJECT_KEY}"
        self.parameter = ssm.StringParameter(
            self,
            "Parameter",
            parameter_name=f"/tunestack/{team_name}/sagemaker-config",
            description=f"SageMaker Python SDK config.yaml of tunestack team {team_name}",
            string_value=self.document_text,
        )
        publisher_logs = logs.LogGroup(
            self,
            "PublisherLogs",
            log_group_name=log_group_name(team_name, "sdk-defaults-publisher"),
            encryption_key=encryption_key,
            retention=log_retention,
        )
        put_object = cr.AwsSdkCall(
            service="S3",
            action="putObject",
            parameters={
                "Bucket": bucket.bucket_name,
                "Key": CONFIG_OBJECT_KEY,
                "Body": self.document_text,
                "ContentType": "application/yaml",
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": encryption_key.key_arn,
            },
            physical_resource_id=cr.PhysicalResourceId.of(self.s3_uri),
        )
        # Our own role: the provider's default one would carry AWSLambdaBasicExecutionRole.
        publisher_role = iam.Role(
            self,
            "PublisherRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Runs the foundation's deployment-time SDK calls: writes the SDK config.yaml, "
            "reads the S3 prefix list id",
        )
        publisher_logs.grant_write(publisher_role)
        acknowledge(publisher_role, "NIST.800.53.R5-IAMNoInlinePolicy", INLINE_POLICY_FOR_ONE_ROLE)
        self.publisher = cr.AwsCustomResource(
            self,
            "PublishToS3",
            on_create=put_object,
            on_update=put_object,
            log_group=publisher_logs,
            install_latest_aws_sdk=False,
            role=publisher_role,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(
                        actions=["s3:PutObject"], resources=[bucket.arn_for_objects(CONFIG_OBJECT_KEY)]
                    ),
                    iam.PolicyStatement(
                        actions=["kms:GenerateDataKey", "kms:Encrypt"], resources=[encryption_key.key_arn]
                    ),
                ]
            ),
        )
        # Only the publisher writes the defaults: not the SageMaker role, not a team member, whatever
        # their identity policies say (an explicit Deny in the bucket policy wins).
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyThePlatformWritesSdkDefaults",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=[bucket.arn_for_objects(f"{CONFIG_OBJECT_KEY.split('/')[0]}/*")],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": publisher_role.role_arn}},
            )
        )
        acknowledge(
            self.publisher.node.find_child("CustomResourcePolicy"),
            "NIST.800.53.R5-IAMNoInlinePolicy",
            INLINE_POLICY_FOR_ONE_ROLE,
        )
