"""Pieces every waiting pipeline (fine-tune, tune, deploy) builds the same way: retries, the
failure path, the state machine with its logs and permissions, and EventBridge rules.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from tunestack.constructs.compliance import INLINE_POLICY_FOR_ONE_ROLE, acknowledge, nag_resource
from tunestack.constructs.pipeline_runtime import PipelineRuntime, grant_waiting
from tunestack.constructs.team_key import log_group_name
from tunestack_runtime.contract import (
    EXECUTION_ENDED_WITHOUT_SUCCESS,
    EXECUTION_STATUS_CHANGE,
    PIPELINE_TAG,
    PLAN_EXTRAS_FIELD,
    PLAN_STATE_FIELD,
    PLAN_TIMEOUT_FIELD,
    SAGEMAKER_EVENT_SOURCE,
    SHARED_HANDLERS,
    STATES_EVENT_SOURCE,
    TEAM_TAG,
    JobKindSpec,
    plan_path,
)

#: Errors worth retrying: the Lambda service's own, and SageMaker throttling, which every SageMaker
#: call of every handler reports by this name (``tunestack_runtime.sagemaker_errors``).
TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "SageMakerThrottled",
]
#: The account's SageMaker quota in use by other jobs: retried slowly, about an hour and a half at
#: most, then the execution fails naming the quota. A quota that can never fit the request fails
#: at once (ResourceLimitExceeded, not retried).
QUOTA_IN_USE = "SageMakerQuotaInUse"
#: Errors of the input or the job itself: retrying cannot help.
INPUT_ERRORS = ["InvalidInput", "PolicyViolation", "InvalidDataset", "ModelPackageNotApproved"]


def retry_transient(task: sfn.TaskStateBase) -> None:
    task.add_retry(
        errors=TRANSIENT_ERRORS,
        interval=cdk.Duration.seconds(2),
        max_attempts=6,
        backoff_rate=2,
        jitter_strategy=sfn.JitterType.FULL,
    )
    task.add_retry(
        errors=[QUOTA_IN_USE],
        interval=cdk.Duration.minutes(5),
        max_attempts=6,
        backoff_rate=1.5,
        max_delay=cdk.Duration.minutes(30),
        jitter_strategy=sfn.JitterType.FULL,
    )


def failure_path(scope: Construct, runtime: PipelineRuntime, *, subject: str, fail_state: str) -> sfn.TaskStateBase:
    """Describe the error found at ``$.Error`` in readable lines and notify the team (one function,
    ``tunestack_runtime.handlers.failure``), then fail with the described error and cause (at
    ``$.Failure``). If the notice cannot be sent, fail with the error as it came."""
    from tunestack.constructs.failure_notice import describing_function

    notify = tasks.LambdaInvoke(
        scope,
        "Notify the team",
        lambda_function=describing_function(runtime),
        payload=sfn.TaskInput.from_object(
            {"Error": sfn.JsonPath.object_at("$.Error"), "Execution": sfn.JsonPath.execution_id, "Subject": subject}
        ),
        retry_on_service_exceptions=False,
        payload_response_only=True,
        result_path="$.Failure",
    )
    retry_transient(notify)
    acknowledge(
        scope,
        f"AwsSolutions-IAM5[{nag_resource(scope, describing_function(runtime).function_arn + ':*')}]",
        "Step Functions invokes any version or alias of the team's failure-describing function.",
    )
    notify.add_catch(
        sfn.Fail(scope, f"{fail_state} (notice not sent)", error_path="$.Error.Error", cause_path="$.Error.Cause"),
        errors=["States.ALL"],
        result_path="$.NoticeError",
    )
    notify.next(sfn.Fail(scope, fail_state, error_path="$.Failure.Error", cause_path="$.Failure.Cause"))
    return notify


def execution_fields() -> dict[str, object]:
    """What a function needs to know which run of which execution it serves (see
    ``tunestack_runtime.executions``): the ARN, and the start time that tells a reused name apart."""
    return {
        "ExecutionArn": sfn.JsonPath.execution_id,
        "ExecutionStartTime": sfn.JsonPath.string_at("$$.Execution.StartTime"),
    }


def validate_task(scope: Construct, state_name: str, function: lambda_.IFunction) -> tasks.LambdaInvoke:
    """The first state: checks the input and builds the plan, which then *replaces* the state
    (``{"Launch": plan}``), so the input is not carried beside the request built from it."""
    task = tasks.LambdaInvoke(
        scope,
        state_name,
        lambda_function=function,
        payload=sfn.TaskInput.from_object(
            {"Input": sfn.JsonPath.entire_payload, "ExecutionName": sfn.JsonPath.execution_name, **execution_fields()}
        ),
        retry_on_service_exceptions=False,
        payload_response_only=True,
        result_selector={PLAN_STATE_FIELD: sfn.JsonPath.object_at("$")},
        result_path="$",
    )
    retry_transient(task)
    return task


def invoke(
    scope: Construct,
    state_name: str,
    function: lambda_.IFunction,
    payload: dict[str, object],
    *,
    result_path: str,
    wait_for_token: bool = False,
    timeout_path: str | None = None,
) -> tasks.LambdaInvoke:
    """A Lambda task whose retries are the pipeline's own (see ``retry_transient``)."""
    # payload_response_only and an integration pattern exclude each other.
    mode: dict[str, object] = (
        {"integration_pattern": sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN}
        if wait_for_token
        else {"payload_response_only": True}
    )
    task = tasks.LambdaInvoke(
        scope,
        state_name,
        lambda_function=function,
        payload=sfn.TaskInput.from_object(payload),
        retry_on_service_exceptions=False,
        task_timeout=sfn.Timeout.at(timeout_path) if timeout_path else None,
        result_path=result_path,
        **mode,  # type: ignore[arg-type]
    )
    retry_transient(task)
    return task


class WaitingFunctions:
    """The four functions of a wait on a SageMaker resource of ``kind``: the launch that stores the
    task token, the handler of its state-change events, the reconcile after a timeout, and the
    handler of aborted or timed-out executions."""

    def __init__(self, scope: Construct, runtime: PipelineRuntime, *, kind: JobKindSpec, on_end: str) -> None:
        noun = kind.noun
        self.launch = runtime.function(
            scope, "Launch", handler=kind.handler("launch"), description=f"Stores the task token and starts the {noun}"
        )
        self.state_change = runtime.function(
            scope,
            "OnStateChange",
            handler=kind.handler("on_state_change"),
            asynchronous=True,
            description=f"Completes the waiting execution on SageMaker {noun} state changes",
        )
        self.reconcile = runtime.function(
            scope,
            "Reconcile",
            handler=kind.handler("reconcile"),
            description=f"Describes the {noun} once after a timeout",
        )
        self.execution_end = runtime.function(
            scope,
            "OnExecutionEnd",
            handler=f"{SHARED_HANDLERS}.on_execution_end",
            asynchronous=True,
            description=on_end,
        )
        grant_waiting(
            runtime,
            launch=self.launch,
            state_change=self.state_change,
            reconcile=self.reconcile,
            execution_end=self.execution_end,
        )


def wait_states(
    scope: Construct, functions: WaitingFunctions, *, kind: JobKindSpec, state_name: str
) -> tuple[tasks.LambdaInvoke, tasks.LambdaInvoke]:
    """The launch task waiting on its token (timeout from the plan's ``TaskTimeoutSeconds``) and
    the reconcile step its timeout leads to; both leave their result at ``$.Result``. The launch
    gets the plan's request (``kind.request_field``); reconcile gets the resource's name from it,
    under ``kind.reconcile_field``."""
    request = kind.request_field
    timeout = plan_path(PLAN_TIMEOUT_FIELD)
    launch = invoke(
        scope,
        state_name,
        functions.launch,
        {
            "TaskToken": sfn.JsonPath.task_token,
            **execution_fields(),
            request: sfn.JsonPath.object_at(plan_path(request)),
            PLAN_EXTRAS_FIELD: sfn.JsonPath.object_at(plan_path(PLAN_EXTRAS_FIELD)),
            # The token lives as long as the wait.
            PLAN_TIMEOUT_FIELD: sfn.JsonPath.number_at(timeout),
        },
        result_path="$.Result",
        wait_for_token=True,
        timeout_path=timeout,
    )
    reconcile = invoke(
        scope,
        "Reconcile after timeout",
        functions.reconcile,
        {kind.reconcile_field: sfn.JsonPath.string_at(plan_path(request, kind.name_field)), **execution_fields()},
        result_path="$.Result",
    )
    launch.add_catch(reconcile, errors=["States.Timeout"], result_path="$.Error")
    return launch, reconcile


def state_machine(
    scope: Construct,
    runtime: PipelineRuntime,
    *,
    definition: sfn.IChainable,
    name: str,
    comment: str,
    invoked: Sequence[lambda_.IFunction],
    responders: Sequence[lambda_.IFunction],
) -> sfn.StateMachine:
    """A Standard state machine logging ALL to a KMS log group, traced; ``responders`` may complete
    its task tokens. Named ``tunestack-<team>-<name>``, so a team's console lists its three
    machines by what they do (the name is part of the product's contract)."""
    machine_logs = logs.LogGroup(
        scope,
        "ExecutionLogs",
        log_group_name=log_group_name(runtime.resources.team.name, f"pipelines/{scope.node.id.lower()}-executions"),
        encryption_key=runtime.resources.key,
        retention=logs.RetentionDays.ONE_YEAR,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    machine = sfn.StateMachine(
        scope,
        "StateMachine",
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        state_machine_type=sfn.StateMachineType.STANDARD,
        state_machine_name=f"tunestack-{runtime.resources.team.name}-{name}",
        comment=f"tunestack {runtime.resources.team.name}: {comment}",
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=machine_logs, level=sfn.LogLevel.ALL, include_execution_data=True),
    )
    # A policy of its own, outside the functions' roles: the state machine already depends on
    # the functions, so their default policies cannot depend on the state machine.
    responses = iam.Policy(
        scope,
        "TaskResponses",
        roles=[f.role for f in responders if f.role is not None],
        statements=[
            iam.PolicyStatement(
                actions=["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
                resources=[machine.state_machine_arn],
            )
        ],
    )
    acknowledge(
        responses,
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "Lets this pipeline's launch and completion handlers answer its own task tokens; it exists only for "
        "them and is deleted with the pipeline.",
    )
    acknowledge(machine.role, "NIST.800.53.R5-IAMNoInlinePolicy", INLINE_POLICY_FOR_ONE_ROLE)
    # Publishing to the failure topic encrypts with the team key.
    machine.add_to_role_policy(
        iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[runtime.resources.key.key_arn])
    )
    acknowledge(
        machine.role,
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray tracing and CloudWatch Logs delivery actions of Step Functions have no resource-level permissions.",
    )
    for function in invoked:
        acknowledge(
            machine.role,
            f"AwsSolutions-IAM5[{nag_resource(machine, function.function_arn + ':*')}]",
            "Step Functions invokes any version or alias of the pipeline's own function.",
        )
    return machine


def rule(
    scope: Construct,
    runtime: PipelineRuntime,
    construct_id: str,
    *,
    description: str,
    pattern: events.EventPattern,
    function: lambda_.IFunction,
) -> events.Rule:
    """EventBridge delivers asynchronously: retries for two hours, then the dead-letter queue."""
    created = events.Rule(scope, construct_id, description=description, event_pattern=pattern)
    created.add_target(
        targets.LambdaFunction(
            function, dead_letter_queue=runtime.dead_letters, retry_attempts=8, max_event_age=cdk.Duration.hours(2)
        )
    )
    return created


def stop_on_execution_end(
    scope: Construct, runtime: PipelineRuntime, machine: sfn.StateMachine, function: lambda_.IFunction, what: str
) -> events.Rule:
    """Every end but success: a launch that died after its create call, an error no Catch takes
    (States.DataLimitExceeded, States.Runtime), an abort, a timeout. The handler stops what the
    execution still waited on; a completed wait holds no token, so nothing else is touched."""
    return rule(
        scope,
        runtime,
        "ExecutionEnded",
        description=f"Stops the {what} of executions that failed, were aborted or timed out",
        pattern=events.EventPattern(
            source=[STATES_EVENT_SOURCE],
            detail_type=[EXECUTION_STATUS_CHANGE],
            detail={"status": list(EXECUTION_ENDED_WITHOUT_SUCCESS), "stateMachineArn": [machine.state_machine_arn]},
        ),
        function=function,
    )


def team_job_pattern(runtime: PipelineRuntime, kind: JobKindSpec, *, by_pipeline: bool) -> events.EventPattern:
    """A terminal state change of ``kind`` of the team's own resources only, by the tags its events
    carry (``detail.Tags``, a map, in every documented example): other teams' jobs invoke nothing.
    With ``by_pipeline``, only what the kind's pipeline created: a tuning job's trials carry its
    tags, the pipeline tag saying ``tune`` among them, so a training-job rule for fine-tunes never
    sees them."""
    tags = {TEAM_TAG: [runtime.resources.team.name]}
    if by_pipeline:
        tags[PIPELINE_TAG] = [kind.pipeline]
    return events.EventPattern(
        source=[SAGEMAKER_EVENT_SOURCE],
        detail_type=[kind.event_detail_type],
        detail={kind.status_field: list(kind.event_statuses), "Tags": tags},
    )
