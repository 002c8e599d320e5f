"""The fine-tune state machine of one team and the handlers it runs."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from tunestack.constructs import pipeline_parts as parts
from tunestack.constructs import sagemaker_statements as statements
from tunestack.constructs.deploy_pipeline import acknowledge_nested, nested_deploy
from tunestack.constructs.pipeline_runtime import (
    WHY_JUMPSTART_SPECS,
    PipelineRuntime,
    acknowledge_wildcards,
    grant_reads,
)


class FineTunePipeline(Construct):
    """validate -> launch and wait (task token) -> output; failures notify and end in Fail."""

    def __init__(
        self, scope: Construct, construct_id: str, *, runtime: PipelineRuntime, deploy: sfn.IStateMachine
    ) -> None:
        super().__init__(scope, construct_id)
        guardrails = runtime.guardrails
        handler = "tunestack_runtime.handlers.fine_tune"
        self.validate_fn = runtime.function(
            self,
            "Validate",
            handler=f"{handler}.validate",
            timeout=cdk.Duration.minutes(15),
            memory_size=512,
            description="Validates a fine-tune input, the team policy and the dataset; creates nothing",
        )
        waiting = parts.WaitingFunctions(
            self,
            runtime,
            module="fine_tune",
            noun="training job",
            on_end="Stops the training jobs of executions that failed, were aborted or timed out",
        )
        self.launch_fn, self.state_change_fn = waiting.launch, waiting.state_change
        self.reconcile_fn, self.execution_end_fn = waiting.reconcile, waiting.execution_end
        self.waiting = waiting
        self._grant(runtime, guardrails)
        self.state_machine = self._state_machine(runtime, deploy)
        self._events(runtime)

    def _grant(self, runtime: PipelineRuntime, guardrails: statements.Guardrails) -> None:
        grant_reads(self.validate_fn, runtime, team_data=True, why_jumpstart=WHY_JUMPSTART_SPECS)
        for statement in statements.create_training_job(self, guardrails):
            self.launch_fn.add_to_role_policy(statement)
        for statement in statements.tag_on_create(self, guardrails, ["training-job"]):
            self.launch_fn.add_to_role_policy(statement)
        self.launch_fn.add_to_role_policy(statements.pass_team_role(guardrails))
        describe = ["sagemaker:DescribeTrainingJob", "sagemaker:ListTags"]
        for function, actions in (
            (self.launch_fn, describe),
            (self.state_change_fn, describe),
            (self.reconcile_fn, [*describe, "sagemaker:StopTrainingJob"]),
            (self.execution_end_fn, ["sagemaker:StopTrainingJob"]),
        ):
            function.add_to_role_policy(statements.manage_team_jobs(self, guardrails, actions, ["training-job"]))
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
        validate = parts.validate_task(self, "Validate input and dataset", self.validate_fn)
        launch, reconcile = parts.wait_states(
            self,
            self.waiting,
            state_name="Train (waits for SageMaker)",
            request_field="CreateTrainingJob",
            name_path="CreateTrainingJob.TrainingJobName",
            name_field="TrainingJobName",
        )
        done = sfn.Pass(self, "Report the model", output_path="$.Result")
        deploy_model = nested_deploy(
            self,
            deploy,
            state_name="Deploy the model",
            source={"TrainingJobName": "$.Result.TrainingJobName"},
            target_path="$.Launch.Deploy",
            result_path="$.Result.Deployment",
            failed=failed,
        )
        requested = sfn.Choice(self, "Deploy requested?")
        requested.when(sfn.Condition.is_present("$.Launch.Deploy"), deploy_model.next(done)).otherwise(done)
        for task in (validate, launch, reconcile):
            task.add_catch(failed, errors=["States.ALL"], result_path="$.Error")
        reconcile.next(requested)
        machine = parts.state_machine(
            self,
            runtime,
            definition=validate.next(launch.next(requested)),
            name="fine-tune",
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
            pattern=parts.team_job_pattern(
                runtime,
                "SageMaker Training Job State Change",
                {"TrainingJobStatus": ["Completed", "Failed", "Stopped"]},
                pipeline="fine-tune",
            ),
            function=self.state_change_fn,
        )
        parts.stop_on_execution_end(self, runtime, self.state_machine, self.execution_end_fn, "training jobs")
