"""The foundation's identifiers, published as SSM parameters that the pipelines stack reads.

Reading them at deploy time (CloudFormation SSM parameter types) instead of cross-stack exports
keeps the stacks apart: a pipelines stack can be destroyed or redeployed, and the foundation can
change a value, without export locks between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm
from constructs import Construct

FIELDS = ("bucket-name", "key-arn", "role-arn", "subnet-ids", "security-group-ids")


def parameter_name(team_name: str, field: str) -> str:
    if field not in FIELDS:
        raise ValueError(f"unknown platform parameter {field!r}")
    return f"/tunestack/{team_name}/platform/{field}"


@dataclass(frozen=True)
class PlatformValues:
    """Values as deploy-time tokens; list values are comma-joined strings."""

    bucket_name: str
    key_arn: str
    role_arn: str
    subnet_ids: str
    security_group_ids: str


class PlatformParameters(Construct):
    """Writes the values (in the foundation stack)."""

    def __init__(self, scope: Construct, construct_id: str, *, team_name: str, values: PlatformValues) -> None:
        super().__init__(scope, construct_id)
        self.parameters = {
            field: ssm.StringParameter(
                self,
                field.title().replace("-", ""),
                parameter_name=parameter_name(team_name, field),
                string_value=getattr(values, field.replace("-", "_")),
                description=f"tunestack team {team_name}: {field}",
            )
            for field in FIELDS
        }


def read_platform_values(scope: Construct, team_name: str) -> PlatformValues:
    """Reads the values (in the pipelines stack), resolved by CloudFormation at deploy time."""

    def value(field: str) -> str:
        return ssm.StringParameter.value_for_string_parameter(scope, parameter_name(team_name, field))

    return PlatformValues(
        bucket_name=value("bucket-name"),
        key_arn=value("key-arn"),
        role_arn=value("role-arn"),
        subnet_ids=value("subnet-ids"),
        security_group_ids=value("security-group-ids"),
    )


def split(value: str) -> list[str]:
    return cdk.Fn.split(",", value)
