"""The fine-tune state machine of one team and the handlers it runs."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from tunestack_constructs import sagemaker_statements as statements
from tunestack_constructs.compliance import acknowledge, nag_resource
from tunestack_constructs.pipeline_runtime import (
    PipelineRuntime,
    acknowledge_wildcards,
    grant_key_use,
    grant_token_store,
)
from tunestack_constructs.platform_parameters import split
from tunestack_constructs.sagemaker_execution_role import jumpstart_bucket_arn

#: Errors worth retrying: the Lambda service's own, and throttling reported by the handlers.
TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "SageMakerThrottled",
]
#: Errors of the input or the job itself: retrying cannot help.
INPUT_ERRORS = ["InvalidInput", "PolicyViolation", "InvalidDataset"]


def retry_transient(task: sfn.TaskStateBase) -> None:
    task.add_retry(
        errors=TRANSIENT_ERRORS,
        interval=cdk.Duration.seconds(2),
        max_attempts=6,
        backoff_rate=2,
        jitter_strategy=sfn.JitterType.FULL,
    )
    task.add_retry(
        errors=["ResourceLimitExceeded"],
        interval=cdk.Duration.minutes(5),
        max_attempts=12,
        backoff_rate=1.5,
        max_delay=cdk.Duration.minutes(30),
        jitter_strategy=sfn.JitterType.FULL,
    )


class FineTunePipeline(Construct):
    """validate -> launch and wait (task token) -> output; failures notify and end in Fail."""

    def __init__(self, scope: Construct, construct_id: str, *, runtime: PipelineRuntime) -> None:
        super().__init__(scope, construct_id)
        resources = runtime.resources
        team = resources.team
        guardrails = statements.Guardrails(
            team_name=team.name,
            role_arn=resources.role_arn,
            key_arn=resources.key.key_arn,
            subnet_ids=split(resources.subnet_ids),
            security_group_ids=split(resources.security_group_ids),
            training_instance_types=team.allowed_instance_types.training,
        )
        handler = "tunestack_handlers.fine_tune"
        self.validate_fn = runtime.function(
            self,
            "Validate",
            handler=f"{handler}.validate",
            timeout=cdk.Duration.minutes(15),
            memory_size=512,
            description="Validates a fine-tune input, the team policy and the dataset; creates nothing",
        )
        self.launch_fn = runtime.function(
            self,
            "Launch",
            handler=f"{handler}.launch",
            description="Stores the task token and creates (or adopts) the training job",
        )
        self.state_change_fn = runtime.function(
            self,
            "OnStateChange",
            handler=f"{handler}.on_state_change",
            asynchronous=True,
            description="Completes the waiting execution on SageMaker training job state changes",
        )
        self.reconcile_fn = runtime.function(
            self,
            "Reconcile",
            handler=f"{handler}.reconcile",
            description="Describes a training job once after the wait timed out",
        )
        self.execution_end_fn = runtime.function(
            self,
            "OnExecutionEnd",
            handler=f"{handler}.on_execution_end",
            asynchronous=True,
            description="Stops the training jobs of aborted or timed-out executions",
        )
        self._grant(runtime, guardrails)
        self.state_machine = self._state_machine(runtime)
        self._events(runtime)

    def _grant(self, runtime: PipelineRuntime, guardrails: statements.Guardrails) -> None:
        bucket = s3.Bucket.from_bucket_name(self, "TeamBucket", runtime.resources.bucket_name)
        jumpstart_objects = f"{jumpstart_bucket_arn(self)}/*"
        self.validate_fn.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
        )
        self.validate_fn.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects("*"), jumpstart_objects])
        )
        grant_key_use(self.validate_fn, runtime.resources.key, ["kms:Decrypt"])
        acknowledge_wildcards(
            self.validate_fn,
            {
                bucket.arn_for_objects("*"): "Reads the dataset an input names, anywhere in the team's own bucket.",
                jumpstart_objects: "Reads JumpStart manifests and model specs from the region's JumpStart bucket.",
            },
        )
        self.launch_fn.add_to_role_policy(statements.create_training_job(self, guardrails))
        self.launch_fn.add_to_role_policy(statements.tag_on_create(self, guardrails, ["training-job"]))
        self.launch_fn.add_to_role_policy(statements.pass_team_role(guardrails))
        describe = ["sagemaker:DescribeTrainingJob", "sagemaker:ListTags"]
        for function, actions in (
            (self.launch_fn, describe),
            (self.state_change_fn, describe),
            (self.reconcile_fn, [*describe, "sagemaker:StopTrainingJob"]),
            (self.execution_end_fn, ["sagemaker:StopTrainingJob"]),
        ):
            function.add_to_role_policy(statements.manage_team_jobs(self, guardrails, actions, ["training-job"]))
        grant_token_store(self.launch_fn, runtime, ["dynamodb:PutItem", "dynamodb:DeleteItem"])
        grant_token_store(self.state_change_fn, runtime, ["dynamodb:DeleteItem"])
        grant_token_store(self.reconcile_fn, runtime, ["dynamodb:DeleteItem"])
        grant_token_store(self.execution_end_fn, runtime, ["dynamodb:Query", "dynamodb:DeleteItem"])
        jobs = statements.sagemaker_arn(self, "training-job")
        for function in (self.launch_fn, self.state_change_fn, self.reconcile_fn, self.execution_end_fn):
            acknowledge_wildcards(
                function,
                {
                    jobs: "Job names come from executions; creation is held to the team's guardrails by "
                    "conditions and other calls to jobs carrying the team tag."
                },
            )

    def _state_machine(self, runtime: PipelineRuntime) -> sfn.StateMachine:
        notify = tasks.SnsPublish(
            self,
            "Notify the team",
            topic=runtime.failures,
            subject="tunestack fine-tune failed",
            message=sfn.TaskInput.from_object(
                {
                    "Execution": sfn.JsonPath.execution_id,
                    "Error": sfn.JsonPath.string_at("$.Error.Error"),
                    "Cause": sfn.JsonPath.string_at("$.Error.Cause"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        failed = sfn.Fail(self, "Fine-tune failed", error_path="$.Error.Error", cause_path="$.Error.Cause")
        notify.next(failed)

        validate = tasks.LambdaInvoke(
            self,
            "Validate input and dataset",
            lambda_function=self.validate_fn,
            payload=sfn.TaskInput.from_object(
                {"Input": sfn.JsonPath.entire_payload, "ExecutionArn": sfn.JsonPath.execution_id}
            ),
            payload_response_only=True,
            retry_on_service_exceptions=False,
            result_path="$.Launch",
        )
        launch = tasks.LambdaInvoke(
            self,
            "Train (waits for SageMaker)",
            lambda_function=self.launch_fn,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object(
                {
                    "TaskToken": sfn.JsonPath.task_token,
                    "ExecutionArn": sfn.JsonPath.execution_id,
                    "CreateTrainingJob": sfn.JsonPath.object_at("$.Launch.CreateTrainingJob"),
                    "OutputExtras": sfn.JsonPath.object_at("$.Launch.OutputExtras"),
                }
            ),
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.at("$.Launch.TaskTimeoutSeconds"),
            result_path="$.Result",
        )
        reconcile = tasks.LambdaInvoke(
            self,
            "Reconcile after timeout",
            lambda_function=self.reconcile_fn,
            payload=sfn.TaskInput.from_object(
                {"TrainingJobName": sfn.JsonPath.string_at("$.Launch.CreateTrainingJob.TrainingJobName")}
            ),
            payload_response_only=True,
            retry_on_service_exceptions=False,
            result_path="$.Result",
        )
        done = sfn.Pass(self, "Report the model", output_path="$.Result")
        for task in (validate, launch, reconcile):
            retry_transient(task)
        launch.add_catch(reconcile, errors=["States.Timeout"], result_path="$.Error")
        for task in (validate, launch, reconcile):
            task.add_catch(notify, errors=["States.ALL"], result_path="$.Error")
        reconcile.next(done)
        definition = validate.next(launch.next(done))

        machine_logs = logs.LogGroup(
            self,
            "ExecutionLogs",
            encryption_key=runtime.resources.key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            comment=f"tunestack {runtime.resources.team.name}: fine-tune a model",
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=machine_logs, level=sfn.LogLevel.ALL, include_execution_data=True),
        )
        # A policy of its own, outside the functions' roles: the state machine already depends on
        # the functions, so their default policies cannot depend on the state machine.
        iam.Policy(
            self,
            "TaskResponses",
            roles=[self.launch_fn.role, self.state_change_fn.role],  # type: ignore[list-item]
            statements=[
                iam.PolicyStatement(
                    actions=["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
                    resources=[machine.state_machine_arn],
                )
            ],
        )
        # Publishing to the failure topic encrypts with the team key.
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[runtime.resources.key.key_arn]
            )
        )
        acknowledge(
            machine.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing and CloudWatch Logs delivery actions of Step Functions have no resource-level permissions.",
        )
        for function in (self.validate_fn, self.launch_fn, self.reconcile_fn):
            acknowledge(
                machine.role,
                f"AwsSolutions-IAM5[{nag_resource(machine, function.function_arn + ':*')}]",
                "Step Functions invokes any version or alias of the pipeline's own function.",
            )
        return machine

    def _events(self, runtime: PipelineRuntime) -> None:
        self._rule(
            runtime,
            "TrainingJobStateChange",
            "Completes executions waiting on a training job",
            events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Training Job State Change"],
                detail={"TrainingJobStatus": ["Completed", "Failed", "Stopped"]},
            ),
            self.state_change_fn,
        )
        self._rule(
            runtime,
            "ExecutionEnded",
            "Stops the training jobs of executions that were aborted or timed out",
            events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": ["ABORTED", "TIMED_OUT"], "stateMachineArn": [self.state_machine.state_machine_arn]},
            ),
            self.execution_end_fn,
        )

    def _rule(
        self,
        runtime: PipelineRuntime,
        construct_id: str,
        description: str,
        pattern: events.EventPattern,
        function: lambda_.IFunction,
    ) -> None:
        """EventBridge delivers asynchronously: retries for two hours, then the dead-letter queue."""
        rule = events.Rule(self, construct_id, description=description, event_pattern=pattern)
        rule.add_target(
            targets.LambdaFunction(
                function, dead_letter_queue=runtime.dead_letters, retry_attempts=8, max_event_age=cdk.Duration.hours(2)
            )
        )
