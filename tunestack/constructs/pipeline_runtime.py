"""What every state machine of a team shares: the Lambda asset, logs, token store, notifications."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tunestack.constructs.compliance import INLINE_POLICY_FOR_ONE_ROLE, acknowledge, nag_resource, skip_checkov
from tunestack.constructs.lambda_code import lambda_code_directory
from tunestack.constructs.sagemaker_execution_role import jumpstart_bucket_arn
from tunestack.constructs.sagemaker_statements import Guardrails
from tunestack.constructs.team_key import log_group_name
from tunestack.constructs.team_policy import team_policy
from tunestack.constructs.team_settings import TeamSettings
from tunestack_runtime.contract import POLICY_ENV, SERVICE_NAME, SERVICE_NAME_ENV, TOKEN_TABLE_ENV

RUNTIME = lambda_.Runtime.PYTHON_3_13
#: AWS's public Powertools for AWS Lambda (Python) v3 layer for the runtime above; not vendored.
POWERTOOLS_LAYER = (
    "arn:${AWS::Partition}:lambda:${AWS::Region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:18"
)


@dataclass(frozen=True, kw_only=True)
class TeamResources:
    """The team's settings and the foundation's resources its pipelines use."""

    team: TeamSettings
    bucket: s3.IBucket
    key: kms.IKey
    role: iam.IRole
    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]


class PipelineRuntime(Construct):
    """One Lambda asset for every handler, a KMS-encrypted log group, the task-token table, the
    failure topic and a dead-letter queue for event-driven handlers.
    """

    def __init__(self, scope: Construct, construct_id: str, *, resources: TeamResources) -> None:
        super().__init__(scope, construct_id)
        self.resources = resources
        key = resources.key
        self.code = lambda_.Code.from_asset(str(lambda_code_directory()))
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=log_group_name(resources.team.name, "pipelines/functions"),
            encryption_key=key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.token_table = dynamodb.Table(
            self,
            "TaskTokens",
            partition_key=dynamodb.Attribute(name="JobName", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute="ExpiresAt",
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.token_table,
            "NIST.800.53.R5-DynamoDBInBackupPlan",
            "Task tokens live as long as a job and expire by TTL; point-in-time recovery covers mistakes, and a "
            "restored token would belong to an execution that has moved on.",
        )
        self.token_table.add_global_secondary_index(
            index_name="ByExecution",
            partition_key=dynamodb.Attribute(name="ExecutionArn", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=["JobType"],
        )
        self.failures = sns.Topic(
            self,
            "Failures",
            display_name=f"tunestack {resources.team.name} failures",
            master_key=key,
            enforce_ssl=True,
        )
        # SQS-managed encryption: EventBridge delivers to this queue as a service, and the team key
        # (in the foundation stack) has no key-policy statement for events.amazonaws.com.
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        acknowledge(
            self.dead_letters,
            "Serverless-SQSRedrivePolicy",
            "This queue is the dead-letter queue of the event-driven handlers; it has nowhere further to send.",
        )
        skip_checkov(
            self.dead_letters,
            "CKV_AWS_27",
            "Encrypted with SQS-managed SSE (SqsManagedSseEnabled), which this check does not recognize; "
            "a customer key would need a key policy for events.amazonaws.com.",
        )
        self.bucket = resources.bucket
        self.team_environment = self._team_environment()
        self.guardrails = Guardrails(
            team_name=resources.team.name,
            role_arn=resources.role.role_arn,
            key_arn=key.key_arn,
            subnet_ids=list(resources.subnet_ids),
            security_group_ids=list(resources.security_group_ids),
            training_instance_types=resources.team.allowed_instance_types.training,
            hosting_instance_types=resources.team.allowed_instance_types.hosting,
            max_runtime_in_seconds=resources.team.limits.max_runtime_in_seconds,
            network_isolation_required=resources.team.network_isolation == "required",
        )
        self.layer = lambda_.LayerVersion.from_layer_version_arn(self, "Powertools", cdk.Fn.sub(POWERTOOLS_LAYER))

    def _team_environment(self) -> str:
        """The policy variable (``contract.POLICY_ENV``): the team's policy and platform settings,
        written by the contract's ``TeamPolicy`` (deploy-time values stay tokens)."""
        policy = team_policy(
            self.resources.team,
            bucket=self.resources.bucket.bucket_name,
            region=cdk.Stack.of(self).region,
            role_arn=self.resources.role.role_arn,
            subnet_ids=cdk.Fn.join(",", list(self.resources.subnet_ids)),
            security_group_ids=cdk.Fn.join(",", list(self.resources.security_group_ids)),
            key_arn=self.resources.key.key_arn,
        )
        return cdk.Stack.of(self).to_json_string(policy.to_document())

    def function(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        description: str,
        asynchronous: bool = False,
        timeout: cdk.Duration | None = None,
        memory_size: int = 256,
    ) -> lambda_.Function:
        """A handler of the shared asset with a role of its own (no managed policies), logging to the
        shared group, environment encrypted with the team key, traced with X-Ray."""
        role = iam.Role(
            scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=description,
        )
        self.log_group.grant_write(role)
        function = lambda_.Function(
            scope,
            construct_id,
            runtime=RUNTIME,
            code=self.code,
            handler=handler,
            role=role,
            description=description,
            layers=[self.layer],
            timeout=timeout or cdk.Duration.minutes(1),
            memory_size=memory_size,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                POLICY_ENV: self.team_environment,
                TOKEN_TABLE_ENV: self.token_table.table_name,
                SERVICE_NAME_ENV: SERVICE_NAME,
            },
            environment_encryption=self.resources.key,
            dead_letter_queue=self.dead_letters if asynchronous else None,
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments and PutTelemetryRecords have no resource-level permissions.",
        )
        runtime_reason = "Python 3.13 is the newest runtime AWS publishes the Powertools v3 public layer for."
        acknowledge(function, "AwsSolutions-L1", runtime_reason)
        acknowledge(function, "Serverless-LambdaLatestVersion", runtime_reason)
        acknowledge(role, "NIST.800.53.R5-IAMNoInlinePolicy", INLINE_POLICY_FOR_ONE_ROLE)
        no_dlq = "Invoked only by Step Functions, which retries and catches its errors; a DLQ would stay empty."
        if not asynchronous:
            skip_checkov(function, "CKV_AWS_116", no_dlq)
            acknowledge(function, "NIST.800.53.R5-LambdaDLQ", no_dlq)
            acknowledge(function, "Serverless-LambdaDLQ", no_dlq)
        outside_vpc = "Calls only AWS APIs; outside the VPC it needs no interface endpoints. Jobs run in the VPC."
        skip_checkov(function, "CKV_AWS_117", outside_vpc)
        acknowledge(function, "NIST.800.53.R5-LambdaInsideVPC", outside_vpc)
        concurrency = "Concurrency follows executions; reserving it would take from the account pool for all teams."
        skip_checkov(function, "CKV_AWS_115", concurrency)
        acknowledge(function, "NIST.800.53.R5-LambdaConcurrency", concurrency)
        return function


#: Why the validating functions read the region's JumpStart bucket.
WHY_JUMPSTART_SPECS = "Reads JumpStart manifests and model specs from the region's JumpStart bucket."


def grant_reads(function: lambda_.IFunction, runtime: PipelineRuntime, *, team_data: bool, why_jumpstart: str) -> None:
    """Read the region's JumpStart bucket (manifests, specs) and, with ``team_data``, any object of
    the team's bucket (the data an input names), decrypting with the team key."""
    jumpstart_objects = f"{jumpstart_bucket_arn(runtime)}/*"
    reasons = {jumpstart_objects: why_jumpstart}
    objects = [jumpstart_objects]
    if team_data:
        bucket = runtime.bucket
        function.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
        objects.append(bucket.arn_for_objects("*"))
        reasons[bucket.arn_for_objects("*")] = "Reads the data an input names, anywhere in the team's own bucket."
        grant_key_use(function, runtime.resources.key, ["kms:Decrypt"])
    function.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=objects))
    acknowledge_wildcards(function, reasons)


def grant_key_use(function: lambda_.IFunction, key: kms.IKey, actions: list[str]) -> None:
    """Exact KMS actions on the team key (CDK's grants use wildcards such as GenerateDataKey*)."""
    function.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=[key.key_arn]))


def grant_token_store(function: lambda_.IFunction, runtime: PipelineRuntime, actions: list[str]) -> None:
    """Exact DynamoDB actions on the token table (and its index when it queries)."""
    table = runtime.token_table
    resources = [table.table_arn]
    if "dynamodb:Query" in actions:
        resources.append(f"{table.table_arn}/index/ByExecution")
    function.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=resources))
    grant_key_use(function, runtime.resources.key, ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"])


def grant_waiting(
    runtime: PipelineRuntime,
    *,
    launch: lambda_.IFunction,
    state_change: lambda_.IFunction,
    reconcile: lambda_.IFunction,
    execution_end: lambda_.IFunction,
) -> None:
    """The token store as the wait uses it: the launch stores a token, completion and reconcile
    take it, the end of an aborted execution finds its tokens by execution."""
    grant_token_store(launch, runtime, ["dynamodb:PutItem", "dynamodb:DeleteItem"])
    grant_token_store(state_change, runtime, ["dynamodb:DeleteItem"])
    grant_token_store(reconcile, runtime, ["dynamodb:DeleteItem"])
    grant_token_store(execution_end, runtime, ["dynamodb:Query", "dynamodb:DeleteItem"])


def acknowledge_wildcards(function: lambda_.IFunction, reasons: dict[str, str]) -> None:
    """Acknowledge each wildcard resource of the function's role, with its AWS reason."""
    role = function.role
    assert role is not None
    for resource, reason in reasons.items():
        acknowledge(role, f"AwsSolutions-IAM5[{nag_resource(role, resource)}]", reason)
