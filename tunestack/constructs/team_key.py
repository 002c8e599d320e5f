"""The team's customer-managed KMS key."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


def log_group_name(team_name: str, purpose: str) -> str:
    """Every log group the team key encrypts is named ``/tunestack/<team>/<purpose>``."""
    return f"/tunestack/{team_name}/{purpose}"


class TeamKey(kms.Key):
    """A rotating symmetric key with a ``alias/tunestack/<team>`` alias.

    CloudWatch Logs in the stack's region may use it for the team's own log groups only, those
    named ``/tunestack/<team>/...`` (``log_group_name``): flow logs and pipeline logs are encrypted
    with the team's key, and no other log group of the account can be.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        team_name: str,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"tunestack team {team_name}: data, SageMaker volumes, outputs and logs",
            enable_key_rotation=True,
            alias=f"alias/tunestack/{team_name}",
            removal_policy=removal_policy,
            pending_window=cdk.Duration.days(30 if removal_policy == cdk.RemovalPolicy.RETAIN else 7),
        )
        stack = cdk.Stack.of(self)
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsForTheTeamsLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                ],
                # A key policy's "*" means this key itself.
                resources=["*"],
                # CloudWatch Logs puts the log group's ARN in the encryption context of every request
                # ("Encrypt log data in CloudWatch Logs using AWS KMS", CloudWatch Logs User Guide:
                # kms:EncryptionContext:aws:logs:arn).
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name=log_group_name(team_name, "*"),
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
