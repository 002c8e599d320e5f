"""The fine-tune state machine of one team and the handlers it runs: the waiting pipeline on a
training job, deploying the model when the input asks."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from tunestack.constructs.pipeline_runtime import WHY_JUMPSTART_SPECS, PipelineRuntime, grant_reads
from tunestack.constructs.registry_steps import grant_register, register_step
from tunestack.constructs.waiting_pipeline import (
    DeployStep,
    WaitingPipeline,
    WaitingPipelineProps,
    validate_step,
)
from tunestack_runtime.contract import TRAINING_JOB

PROPS = WaitingPipelineProps(
    kind=TRAINING_JOB,
    comment="fine-tune a model",
    validate=validate_step(
        "Validate input and dataset",
        "Validates a fine-tune input, the team policy and the dataset; creates nothing",
        timeout=cdk.Duration.minutes(15),
        memory_size=512,
    ),
    wait_state="Train (waits for SageMaker)",
    # Register the trained model when the input asks (``Register``), before it deploys.
    after_wait=[register_step(TRAINING_JOB, "$.Result")],
    report_state="Report the model",
    rule_id="TrainingJobStateChange",
    ended="training jobs",
    why_names="Job names come from executions; creation is held to the team's guardrails by conditions and "
    "other calls to jobs carrying the team tag.",
    notice_fields=("TrainingJobName", "TrainingJobArn", "ModelArtifacts", "TrainingTimeSeconds"),
    deploy=DeployStep(state_name="Deploy the model", source_field="TrainingJobName"),
)


class FineTunePipeline(WaitingPipeline):
    """validate -> launch and wait (task token) -> register if asked -> deploy if asked -> output;
    failures notify and end in Fail."""

    def __init__(
        self, scope: Construct, construct_id: str, *, runtime: PipelineRuntime, deploy: sfn.IStateMachine
    ) -> None:
        super().__init__(scope, construct_id, runtime=runtime, props=PROPS, deploy_machine=deploy)
        grant_reads(self.validate_fn, runtime, team_data=True, why_jumpstart=WHY_JUMPSTART_SPECS)
        self.register_fn = self.steps["RegistryRegister"]
        grant_register(self, self.register_fn, runtime)
