"""The team's customer-managed KMS key."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class TeamKey(kms.Key):
    """A rotating symmetric key with a ``alias/tunestack/<team>`` alias.

    CloudWatch Logs in the stack's region may use it for log groups of this account, so flow logs
    and pipeline logs are encrypted with the team's key too.
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
                sid="AllowCloudWatchLogsOfThisAccount",
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
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
