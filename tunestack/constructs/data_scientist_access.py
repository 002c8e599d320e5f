"""What a team's data scientists may do, as a role and as the same customer managed policy.

The policy is named ``tunestack-<team>-data-scientist``: an IAM Identity Center permission set
refers to a customer managed policy by name (and path), and finds it in each account it is
provisioned to, so the name is part of the contract. The role carries the policy for people who
sign in with IAM (``assumed_by``: by default any principal of the account its policies allow).

Actions and resources, from the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/; the Step Functions rows
checked against parliament's copy of it, ``parliament/iam_definition.json`` in the venv):

* Step Functions (``list_awsstepfunctions.html``): StartExecution, ListExecutions (also
  authorized on a ``mapRun``, which these machines have none of) and DescribeStateMachine on the
  ``stateMachine`` resource
  ``arn:${Partition}:states:${Region}:${Account}:stateMachine:${StateMachineName}``;
  StopExecution, DescribeExecution, GetExecutionHistory and DescribeStateMachineForExecution on
  the ``execution`` resource
  ``arn:${Partition}:states:${Region}:${Account}:execution:${StateMachineName}:${ExecutionId}``.
  ListStateMachines has no resource type (``*`` only) and would list every team's machines: it is
  not granted; the three machine ARNs are the pipelines stack's outputs.
* Amazon S3 (``list_amazons3.html``): GetObject, PutObject and AbortMultipartUpload on ``object``
  ARNs, ListBucket on the ``bucket`` ARN with the ``s3:prefix`` condition key.
* AWS KMS (``list_awskeymanagementservice.html``): Decrypt and GenerateDataKey on the ``key``,
  with ``kms:ViaService`` (the AWS service that calls KMS for the principal, e.g.
  ``s3.us-east-1.amazonaws.com``), so the key serves only S3 requests.
* CloudWatch Logs (``list_amazoncloudwatchlogs.html``): FilterLogEvents, DescribeLogStreams and
  StartQuery on ``log-group`` ARNs ``arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}``,
  GetLogEvents on ``log-stream`` ARNs (``...:log-group:${LogGroupName}:log-stream:${LogStreamName}``);
  both the bare log-group ARN and the group's ``Arn`` attribute (``...:log-group:<name>:*``) are named.
* CloudWatch (``list_amazoncloudwatch.html``): GetDashboard on the ``dashboard`` resource
  ``arn:${Partition}:cloudwatch::${Account}:dashboard/${DashboardName}`` (global: no region).
* Amazon SNS (``list_amazonsns.html``): Subscribe on the ``topic`` resource.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from tunestack.constructs.compliance import acknowledge, nag_resource

#: Where data scientists put training data (read and write).
DATASETS_PREFIX = "datasets/"
#: What the pipelines write that data scientists read (``tunestack_runtime``): a training job's
#: output under ``<job name>/output/`` (``training_job.create_request``: S3OutputPath is the
#: bucket's top level, SageMaker adds ``<job>/output/``; trials of a tuning job alike), and a
#: tuning job's leaderboard and chart under ``tuning/<tuning job>/`` (``tuning_analysis``).
OUTPUT_PATTERNS = ("*/output/*", "tuning/*")


@dataclass(frozen=True, kw_only=True)
class DataScientistAccessProps:
    """The team's resources a data scientist uses.

    ``state_machines``: the team's pipelines (fine-tune, tune, deploy), started and watched.
    ``bucket`` and ``key``: the team's data bucket and the key it is encrypted with.
    ``topic``: the failure topic people subscribe to. ``log_groups``: the pipelines' log groups
    (``/tunestack/<team>/...``). ``dashboard_name``: the team's CloudWatch dashboard.
    ``assumed_by``: who may assume the role; left out, the account (its root principal: any
    principal of the account whose own policies allow sts:AssumeRole on the role).
    ``policy_name``: left out, ``tunestack-<team>-data-scientist``.
    """

    team_name: str
    state_machines: Sequence[sfn.IStateMachine]
    bucket: s3.IBucket
    key: kms.IKey
    topic: sns.ITopic
    log_groups: Sequence[logs.ILogGroup]
    dashboard_name: str
    assumed_by: iam.IPrincipal | None = None
    policy_name: str | None = None


class DataScientistAccess(Construct):
    """A customer managed policy (``policy``) for the team's data scientists and a role
    (``role``) that carries it: their own team's executions, datasets, outputs, logs, dashboard
    and failure notices, nothing of another team's and nothing the pipelines do for them
    (no iam:PassRole, no SageMaker calls: jobs are created by the state machines alone)."""

    def __init__(self, scope: Construct, construct_id: str, *, props: DataScientistAccessProps) -> None:
        super().__init__(scope, construct_id)
        problems = []
        if not props.state_machines:
            problems.append("state_machines: give the team's state machines, got none")
        if not props.log_groups:
            problems.append("log_groups: give the team's log groups, got none")
        if not cdk.Token.is_unresolved(props.team_name) and not props.team_name:
            problems.append(f"team_name: must not be empty, got {props.team_name!r}")
        if problems:
            raise ValueError(f"{self.node.path}: " + "; ".join(problems))
        self.props = props
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=props.assumed_by or iam.AccountRootPrincipal(),
            description=f"tunestack {props.team_name}: data scientists of the team",
            max_session_duration=cdk.Duration.hours(12),
        )
        # Attached from the policy's side (its Roles), as a permission set attaches it by name.
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            managed_policy_name=props.policy_name or f"tunestack-{props.team_name}-data-scientist",
            description=f"tunestack {props.team_name}: run and watch the team's pipelines, its datasets and outputs",
            statements=self._statements(),
            roles=[self.role],
        )
        self._acknowledge()

    def _executions(self, machine: sfn.IStateMachine) -> str:
        name = cdk.Arn.split(machine.state_machine_arn, cdk.ArnFormat.COLON_RESOURCE_NAME).resource_name
        return cdk.Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )

    def _dashboard_arn(self) -> str:
        return cdk.Stack.of(self).format_arn(
            service="cloudwatch",
            region="",
            resource="dashboard",
            resource_name=self.props.dashboard_name,
        )

    def _log_group_arns(self, group: logs.ILogGroup) -> list[str]:
        """The log group as the ``log-group`` resource (``...:log-group:<name>``, what FilterLogEvents
        and DescribeLogStreams are authorized on) and its ``Arn`` attribute (``...:<name>:*``, which
        also holds its ``log-stream`` ARNs, what GetLogEvents is authorized on)."""
        bare = cdk.Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=group.log_group_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        return [bare, group.log_group_arn]

    def _statements(self) -> list[iam.PolicyStatement]:
        props = self.props
        machines = [m.state_machine_arn for m in props.state_machines]
        bucket = props.bucket
        region = cdk.Stack.of(self).region
        return [
            iam.PolicyStatement(
                sid="StartAndListTheTeamsPipelines",
                actions=["states:StartExecution", "states:ListExecutions", "states:DescribeStateMachine"],
                resources=machines,
            ),
            iam.PolicyStatement(
                sid="WatchAndStopTheTeamsExecutions",
                actions=[
                    "states:StopExecution",
                    "states:DescribeExecution",
                    "states:GetExecutionHistory",
                    "states:DescribeStateMachineForExecution",
                ],
                resources=[self._executions(m) for m in props.state_machines],
            ),
            iam.PolicyStatement(
                sid="ListDatasetsAndOutputs",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={
                    "StringLike": {"s3:prefix": [f"{DATASETS_PREFIX}*", "tuning/*", "*/output/*", "*/output/"]}
                },
            ),
            iam.PolicyStatement(
                sid="ReadAndWriteDatasets",
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[bucket.arn_for_objects(f"{DATASETS_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="ReadOutputs",
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(pattern) for pattern in OUTPUT_PATTERNS],
            ),
            iam.PolicyStatement(
                sid="UseTheTeamKeyThroughS3",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[props.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="ReadTheTeamsLogs",
                actions=["logs:FilterLogEvents", "logs:GetLogEvents", "logs:DescribeLogStreams", "logs:StartQuery"],
                resources=[arn for group in props.log_groups for arn in self._log_group_arns(group)],
            ),
            iam.PolicyStatement(
                sid="ReadTheTeamsDashboard", actions=["cloudwatch:GetDashboard"], resources=[self._dashboard_arn()]
            ),
            iam.PolicyStatement(
                sid="SubscribeToFailureNotices", actions=["sns:Subscribe"], resources=[props.topic.topic_arn]
            ),
        ]

    def _acknowledge(self) -> None:
        """Each wildcard resource, with why it is the team's own and nothing more. (A log group's
        ``Arn`` attribute ends in ``:*`` inside the attribute, which cdk-nag does not report.)"""
        reasons = {
            **{
                self._executions(m): "Executions are named when started; the pattern holds the executions of "
                "one of the team's own state machines."
                for m in self.props.state_machines
            },
            self.props.bucket.arn_for_objects(f"{DATASETS_PREFIX}*"): "Dataset keys are chosen by the data "
            "scientists; the pattern holds them to the datasets/ prefix of the team's own bucket.",
            self.props.bucket.arn_for_objects("*/output/*"): "SageMaker writes a job's output under "
            "<job name>/output/ and job names come from inputs; read only, in the team's own bucket.",
            self.props.bucket.arn_for_objects("tuning/*"): "The tuning analysis writes leaderboards and charts "
            "under tuning/<tuning job>/; read only, in the team's own bucket.",
        }
        for resource, reason in reasons.items():
            acknowledge(self.policy, f"AwsSolutions-IAM5[{nag_resource(self, resource)}]", reason)
