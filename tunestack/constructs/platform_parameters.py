"""The foundation's identifiers, as CloudFormation exports that the pipelines stack imports.

These values are the guardrails every IAM condition of the pipelines names (key, role, subnets,
security groups, bucket), so they are held where only the platform can write them: an export is
written by the foundation stack alone, and CloudFormation refuses to change or remove it while the
pipelines stack imports it. (Plain SSM String parameters, read at deploy time, could be rewritten
by anyone allowed ``ssm:PutParameter`` and would redirect the next deploy's guardrails.) The cost
is the one CloudFormation states: a value the pipelines import changes only after they stop
importing it, i.e. a changed subnet or key is rolled out by redeploying both stacks.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Construct

FIELDS = ("bucket-name", "key-arn", "role-arn", "subnet-ids", "security-group-ids")


def export_name(team_name: str, field: str) -> str:
    if field not in FIELDS:
        raise ValueError(f"unknown platform value {field!r}")
    return f"tunestack-{team_name}-platform-{field}"


@dataclass(frozen=True)
class PlatformValues:
    """Values as deploy-time tokens; list values are comma-joined strings."""

    bucket_name: str
    key_arn: str
    role_arn: str
    subnet_ids: str
    security_group_ids: str


class PlatformExports(Construct):
    """Exports the values (in the foundation stack), one named export per field."""

    def __init__(self, scope: Construct, construct_id: str, *, team_name: str, values: PlatformValues) -> None:
        super().__init__(scope, construct_id)
        self.outputs = {
            field: cdk.CfnOutput(
                self,
                field.title().replace("-", ""),
                value=getattr(values, field.replace("-", "_")),
                export_name=export_name(team_name, field),
                description=f"tunestack team {team_name}: {field} (imported by the pipelines stack)",
            )
            for field in FIELDS
        }


def read_platform_values(team_name: str) -> PlatformValues:
    """Imports the values (in the pipelines stack), resolved by CloudFormation at deploy time."""

    def value(field: str) -> str:
        return cdk.Fn.import_value(export_name(team_name, field))

    return PlatformValues(
        bucket_name=value("bucket-name"),
        key_arn=value("key-arn"),
        role_arn=value("role-arn"),
        subnet_ids=value("subnet-ids"),
        security_group_ids=value("security-group-ids"),
    )


def split(value: str) -> list[str]:
    return cdk.Fn.split(",", value)
