"""The deploy state machine of one team: a model from a training job (or a tuning job's best) onto
an endpoint, created or updated in place with a blue/green deployment that rolls back on alarms.
It is the waiting pipeline on an endpoint, with the model and endpoint config prepared before the
wait. Fine-tune and tune executions start it as a nested execution
(``waiting_pipeline.nested_deploy``).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from tunestack.constructs import pipeline_parts as parts
from tunestack.constructs import sagemaker_statements as statements
from tunestack.constructs.pipeline_runtime import (
    PipelineRuntime,
    acknowledge_wildcards,
    grant_key_use,
    grant_reads,
)
from tunestack.constructs.registry_steps import grant_deploy_reads
from tunestack.constructs.team_tags import DEPLOYER_TAG_KEY
from tunestack.constructs.waiting_pipeline import FunctionStep, WaitingPipeline, WaitingPipelineProps, validate_step
from tunestack_runtime.contract import ENDPOINT, TRAINING_JOB, TUNING_JOB, plan_path

WHY_NAMES = "Names come from inputs and executions; every call needs the team tag or sets it."

PROPS = WaitingPipelineProps(
    kind=ENDPOINT,
    comment="deploy a model to an endpoint",
    validate=validate_step(
        "Validate input and model", "Validates a deploy input, the model and the endpoint; creates nothing"
    ),
    before_wait=[
        FunctionStep(
            construct_id="Prepare",
            handler="prepare",
            state_name="Create model and endpoint config",
            description="Copies the pinned model artifact, creates the model, endpoint config and rollback alarms",
            payload={"Plan": sfn.JsonPath.object_at(plan_path()), **parts.execution_fields()},
            # Copying a large model artifact (server-side, in parts) takes minutes.
            timeout=cdk.Duration.minutes(15),
        )
    ],
    wait_state="Deploy (waits for SageMaker)",
    report_state="Report the endpoint",
    rule_id="EndpointStateChange",
    ended="deployments",
    on_end="Releases the endpoint of deployments that failed, were aborted or timed out",
    # Team only: an endpoint updated in place keeps the tags it was created with.
    by_pipeline=False,
    why_names=WHY_NAMES,
    notice_fields=("EndpointName", "EndpointArn", "Action"),
)


class DeployPipeline(WaitingPipeline):
    """validate -> create model and config -> create or update the endpoint and wait -> output."""

    def __init__(self, scope: Construct, construct_id: str, *, runtime: PipelineRuntime) -> None:
        super().__init__(scope, construct_id, runtime=runtime, props=PROPS)
        self.prepare_fn = self.steps["Prepare"]
        self._grant(runtime)

    def _grant(self, runtime: PipelineRuntime) -> None:
        guardrails = runtime.guardrails
        stack = cdk.Stack.of(self)
        arn = statements.sagemaker_arn
        jobs = [arn(self, TRAINING_JOB.arn_resource_type), arn(self, TUNING_JOB.arn_resource_type)]
        endpoints = arn(self, ENDPOINT.arn_resource_type)
        serving = [arn(self, "model"), arn(self, "endpoint-config")]
        named = [arn(self, kind, f"{guardrails.name_prefix}*") for kind in ("model", "endpoint-config")]
        why_named = "Models and endpoint configs are named <team>-<endpoint>-<execution hash> per deployment."
        alarms = stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name=f"tunestack-{guardrails.team_name}-*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        why_names = WHY_NAMES

        self.validate_fn.add_to_role_policy(
            statements.manage_team_jobs(
                self, guardrails, TRAINING_JOB.describe_actions, [TRAINING_JOB.arn_resource_type]
            )
        )
        self.validate_fn.add_to_role_policy(
            statements.manage_team_jobs(
                self, guardrails, [f"sagemaker:{TUNING_JOB.describe_operation}"], [TUNING_JOB.arn_resource_type]
            )
        )
        self.validate_fn.add_to_role_policy(
            statements.manage_team_jobs(self, guardrails, ENDPOINT.describe_actions, [ENDPOINT.arn_resource_type])
        )
        grant_reads(
            self.validate_fn,
            runtime,
            team_data=False,
            why_jumpstart="Reads JumpStart hosting specs from the region's bucket.",
        )
        acknowledge_wildcards(self.validate_fn, dict.fromkeys([*jobs, endpoints], why_names))
        # A ModelPackageArn input: the version, its status and its group's team tag.
        grant_deploy_reads(self, self.validate_fn, guardrails.team_name)
        # Which version of a job's model.tar.gz its job wrote (artifacts.pin).
        self.validate_fn.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:ListBucketVersions"], resources=[runtime.bucket.bucket_arn])
        )
        # Copy that version to deployed/<model>/model.tar.gz, which CreateModel serves; the bucket
        # policy lets only this role (by its tag) write there.
        artifacts_of_jobs = runtime.bucket.arn_for_objects("*/output/model.tar.gz")
        deployed = runtime.bucket.arn_for_objects("deployed/*")
        self.prepare_fn.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[artifacts_of_jobs])
        )
        self.prepare_fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[deployed]))
        grant_key_use(self.prepare_fn, runtime.resources.key, ["kms:Decrypt", "kms:GenerateDataKey"])
        assert self.prepare_fn.role is not None
        cdk.Tags.of(self.prepare_fn.role).add(DEPLOYER_TAG_KEY, guardrails.team_name)
        acknowledge_wildcards(
            self.prepare_fn,
            {
                artifacts_of_jobs: "Reads the model artifact of whichever training job of the team is deployed.",
                deployed: "Writes the deployed copy of a model under deployed/<model name>/, one per deployment.",
            },
        )

        for statement in [
            statements.create_model(self, guardrails),
            *statements.create_endpoint_config(self, guardrails),
            statements.pass_team_role(guardrails),
            *statements.tag_on_create(self, guardrails, ["model", "endpoint-config"]),
        ]:
            self.prepare_fn.add_to_role_policy(statement)
        self.prepare_fn.add_to_role_policy(
            statements.manage_team_jobs(
                self,
                guardrails,
                ["sagemaker:DescribeModel", "sagemaker:DescribeEndpointConfig", "sagemaker:ListTags"],
                ["model", "endpoint-config"],
            )
        )
        self.prepare_fn.add_to_role_policy(
            iam.PolicyStatement(actions=["cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"], resources=[alarms])
        )
        acknowledge_wildcards(
            self.prepare_fn,
            {
                **{resource: why_names for resource in serving},
                **{resource: why_named for resource in named},
                alarms: "The team's endpoint alarms, named tunestack-<team>-<endpoint>-<metric>.",
            },
        )

        # The waiting pipeline grants the launch CreateEndpoint (tagged) and DescribeEndpoint; an
        # update in place needs UpdateEndpoint on the endpoint and the team's new config.
        self.launch_fn.add_to_role_policy(
            statements.manage_team_jobs(
                self, guardrails, ["sagemaker:UpdateEndpoint"], [ENDPOINT.arn_resource_type, "endpoint-config"]
            )
        )
        # Blue/green rollback watches the team's alarms.
        self.launch_fn.add_to_role_policy(
            iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"], resources=[alarms])
        )
        acknowledge_wildcards(
            self.launch_fn,
            {serving[1]: why_names, named[1]: why_named, alarms: "The team's endpoint alarms."},
        )
