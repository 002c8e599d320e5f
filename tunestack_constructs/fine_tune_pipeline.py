"""The fine-tune state machine of one team and the handlers it runs."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from tunestack_constructs import pipeline_parts as parts
from tunestack_constructs import sagemaker_statements as statements
from tunestack_constructs.deploy_pipeline import acknowledge_nested, nested_deploy
from tunestack_constructs.pipeline_runtime import (
    WHY_JUMPSTART_SPECS,
    PipelineRuntime,
    acknowledge_wildcards,
    grant_reads,
    grant_waiting,
)


class FineTunePipeline(Construct):
    """validate -> launch and wait (task token) -> output; failures notify and end in Fail."""

    def __init__(
        self, scope: Construct, construct_id: str, *, runtime: PipelineRuntime, deploy: sfn.IStateMachine
    ) -> None:
        super().__init__(scope, construct_id)
        guardrails = runtime.guardrails
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
            handler="tunestack_handlers.shared.on_execution_end",
            asynchronous=True,
            description="Stops the training jobs of aborted or timed-out executions",
        )
        self._grant(runtime, guardrails)
        self.state_machine = self._state_machine(runtime, deploy)
        self._events(runtime)

    def _grant(self, runtime: PipelineRuntime, guardrails: statements.Guardrails) -> None:
        grant_reads(self.validate_fn, runtime, team_data=True, why_jumpstart=WHY_JUMPSTART_SPECS)
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
        grant_waiting(
            runtime,
            launch=self.launch_fn,
            state_change=self.state_change_fn,
            reconcile=self.reconcile_fn,
            execution_end=self.execution_end_fn,
        )
        jobs = statements.sagemaker_arn(self, "training-job")
        for function in (self.launch_fn, self.state_change_fn, self.reconcile_fn, self.execution_end_fn):
            acknowledge_wildcards(
                function,
                {
                    jobs: "Job names come from executions; creation is held to the team's guardrails by "
                    "conditions and other calls to jobs carrying the team tag."
                },
            )

    def _state_machine(self, runtime: PipelineRuntime, deploy: sfn.IStateMachine) -> sfn.StateMachine:
        failed = parts.failure_path(self, runtime, subject="tunestack fine-tune failed", fail_state="Fine-tune failed")
        validate = parts.invoke(
            self,
            "Validate input and dataset",
            self.validate_fn,
            {"Input": sfn.JsonPath.entire_payload, "ExecutionArn": sfn.JsonPath.execution_id},
            result_path="$.Launch",
        )
        launch = parts.invoke(
            self,
            "Train (waits for SageMaker)",
            self.launch_fn,
            {
                "TaskToken": sfn.JsonPath.task_token,
                "ExecutionArn": sfn.JsonPath.execution_id,
                "CreateTrainingJob": sfn.JsonPath.object_at("$.Launch.CreateTrainingJob"),
                "OutputExtras": sfn.JsonPath.object_at("$.Launch.OutputExtras"),
            },
            result_path="$.Result",
            wait_for_token=True,
            timeout_path="$.Launch.TaskTimeoutSeconds",
        )
        reconcile = parts.invoke(
            self,
            "Reconcile after timeout",
            self.reconcile_fn,
            {"TrainingJobName": sfn.JsonPath.string_at("$.Launch.CreateTrainingJob.TrainingJobName")},
            result_path="$.Result",
        )
        done = sfn.Pass(self, "Report the model", output_path="$.Result")
        deploy_model = nested_deploy(
            self,
            deploy,
            state_name="Deploy the model",
            source={"TrainingJobName": "$.Result.TrainingJobName"},
            target_path="$.Launch.Deploy",
            result_path="$.Result.Deployment",
        )
        requested = sfn.Choice(self, "Deploy requested?")
        requested.when(sfn.Condition.is_present("$.Launch.Deploy"), deploy_model.next(done)).otherwise(done)
        launch.add_catch(reconcile, errors=["States.Timeout"], result_path="$.Error")
        for task in (validate, launch, reconcile, deploy_model):
            task.add_catch(failed, errors=["States.ALL"], result_path="$.Error")
        reconcile.next(requested)
        machine = parts.state_machine(
            self,
            runtime,
            definition=validate.next(launch.next(requested)),
            comment="fine-tune a model",
            invoked=[self.validate_fn, self.launch_fn, self.reconcile_fn],
            responders=[self.launch_fn, self.state_change_fn],
        )
        acknowledge_nested(machine, deploy)
        return machine

    def _events(self, runtime: PipelineRuntime) -> None:
        parts.rule(
            self,
            runtime,
            "TrainingJobStateChange",
            description="Completes executions waiting on a training job",
            pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Training Job State Change"],
                detail={"TrainingJobStatus": ["Completed", "Failed", "Stopped"]},
            ),
            function=self.state_change_fn,
        )
        parts.stop_on_execution_end(self, runtime, self.state_machine, self.execution_end_fn, "training jobs")
