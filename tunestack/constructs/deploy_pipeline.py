"""The deploy state machine of one team: a model from a training job (or a tuning job's best) onto
an endpoint, created or updated in place with a blue/green deployment that rolls back on alarms.
Fine-tune and tune executions start it as a nested execution (``nested_deploy``).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from tunestack.constructs import pipeline_parts as parts
from tunestack.constructs import sagemaker_statements as statements
from tunestack.constructs.compliance import acknowledge, nag_resource
from tunestack.constructs.pipeline_runtime import (
    PipelineRuntime,
    acknowledge_wildcards,
    grant_key_use,
    grant_reads,
)
from tunestack.constructs.team_tags import DEPLOYER_TAG_KEY

#: EventBridge spells endpoint states in capitals; both spellings are matched, the handler
#: describes the endpoint either way.
ENDPOINT_DONE = ["IN_SERVICE", "FAILED", "InService", "Failed"]


class DeployPipeline(Construct):
    """validate -> create model and config -> create or update the endpoint and wait -> output."""

    def __init__(self, scope: Construct, construct_id: str, *, runtime: PipelineRuntime) -> None:
        super().__init__(scope, construct_id)
        handler = "tunestack_runtime.handlers.deploy"
        self.validate_fn = runtime.function(
            self,
            "Validate",
            handler=f"{handler}.validate",
            description="Validates a deploy input, the model and the endpoint; creates nothing",
        )
        self.prepare_fn = runtime.function(
            self,
            "Prepare",
            handler=f"{handler}.prepare",
            # Copying a large model artifact (server-side, in parts) takes minutes.
            timeout=cdk.Duration.minutes(15),
            description="Copies the pinned model artifact, creates the model, endpoint config and rollback alarms",
        )
        waiting = parts.WaitingFunctions(
            self,
            runtime,
            module="deploy",
            noun="endpoint",
            on_end="Releases the endpoint of deployments that failed, were aborted or timed out",
        )
        self.launch_fn, self.state_change_fn = waiting.launch, waiting.state_change
        self.reconcile_fn, self.execution_end_fn = waiting.reconcile, waiting.execution_end
        self.waiting = waiting
        self._grant(runtime)
        self.state_machine = self._state_machine(runtime)
        parts.rule(
            self,
            runtime,
            "EndpointStateChange",
            description="Completes executions waiting on an endpoint",
            # Team only: an endpoint updated in place keeps the tags it was created with.
            pattern=parts.team_job_pattern(
                runtime, "SageMaker Endpoint State Change", {"EndpointStatus": ENDPOINT_DONE}, pipeline=None
            ),
            function=self.state_change_fn,
        )
        parts.stop_on_execution_end(self, runtime, self.state_machine, self.execution_end_fn, "deployments")

    def _grant(self, runtime: PipelineRuntime) -> None:
        guardrails = runtime.guardrails
        stack = cdk.Stack.of(self)
        arn = statements.sagemaker_arn
        jobs = [arn(self, "training-job"), arn(self, "hyper-parameter-tuning-job")]
        endpoints = arn(self, "endpoint")
        serving = [arn(self, "model"), arn(self, "endpoint-config")]
        named = [arn(self, kind, f"{guardrails.name_prefix}*") for kind in ("model", "endpoint-config")]
        why_named = "Models and endpoint configs are named <team>-<endpoint>-<execution hash> per deployment."
        alarms = stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name=f"tunestack-{guardrails.team_name}-*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        why_names = "Names come from inputs and executions; every call needs the team tag or sets it."

        read = ["sagemaker:DescribeTrainingJob", "sagemaker:ListTags"]
        self.validate_fn.add_to_role_policy(statements.manage_team_jobs(self, guardrails, read, ["training-job"]))
        self.validate_fn.add_to_role_policy(
            statements.manage_team_jobs(
                self, guardrails, ["sagemaker:DescribeHyperParameterTuningJob"], ["hyper-parameter-tuning-job"]
            )
        )
        self.validate_fn.add_to_role_policy(
            statements.manage_team_jobs(
                self, guardrails, ["sagemaker:DescribeEndpoint", "sagemaker:ListTags"], ["endpoint"]
            )
        )
        grant_reads(
            self.validate_fn,
            runtime,
            team_data=False,
            why_jumpstart="Reads JumpStart hosting specs from the region's bucket.",
        )
        acknowledge_wildcards(self.validate_fn, dict.fromkeys([*jobs, endpoints], why_names))
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

        for statement in [
            *statements.create_endpoint(self, guardrails),
            *statements.tag_on_create(self, guardrails, ["endpoint"]),
        ]:
            self.launch_fn.add_to_role_policy(statement)
        self.launch_fn.add_to_role_policy(
            statements.manage_team_jobs(self, guardrails, ["sagemaker:UpdateEndpoint"], ["endpoint", "endpoint-config"])
        )
        # Blue/green rollback watches the team's alarms.
        self.launch_fn.add_to_role_policy(
            iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"], resources=[alarms])
        )
        for function in (self.launch_fn, self.state_change_fn, self.reconcile_fn):
            function.add_to_role_policy(
                statements.manage_team_jobs(
                    self, guardrails, ["sagemaker:DescribeEndpoint", "sagemaker:ListTags"], ["endpoint"]
                )
            )
        acknowledge_wildcards(
            self.launch_fn,
            {
                **{resource: why_names for resource in [endpoints, serving[1]]},
                named[1]: why_named,
                alarms: "The team's endpoint alarms.",
            },
        )
        for function in (self.state_change_fn, self.reconcile_fn):
            acknowledge_wildcards(function, {endpoints: why_names})

    def _state_machine(self, runtime: PipelineRuntime) -> sfn.StateMachine:
        failed = parts.failure_path(self, runtime, subject="tunestack deploy failed", fail_state="Deploy failed")
        validate = parts.validate_task(self, "Validate input and model", self.validate_fn)
        prepare = parts.invoke(
            self,
            "Create model and endpoint config",
            self.prepare_fn,
            {"Plan": sfn.JsonPath.object_at("$.Launch"), **parts.execution_fields()},
            result_path=sfn.JsonPath.DISCARD,
        )
        launch, reconcile = parts.wait_states(
            self,
            self.waiting,
            state_name="Deploy (waits for SageMaker)",
            request_field="Endpoint",
            name_path="Endpoint.EndpointName",
            name_field="EndpointName",
        )
        done = sfn.Pass(self, "Report the endpoint", output_path="$.Result")
        for task in (validate, prepare, launch, reconcile):
            task.add_catch(failed, errors=["States.ALL"], result_path="$.Error")
        reconcile.next(done)
        return parts.state_machine(
            self,
            runtime,
            definition=validate.next(prepare.next(launch.next(done))),
            name="deploy",
            comment="deploy a model to an endpoint",
            invoked=[self.validate_fn, self.prepare_fn, self.launch_fn, self.reconcile_fn],
            responders=[self.launch_fn, self.state_change_fn],
        )


def nested_deploy(
    scope: Construct,
    deploy: sfn.IStateMachine,
    *,
    state_name: str,
    source: dict[str, str],
    target_path: str,
    result_path: str,
    failed: sfn.IChainable,
) -> tasks.StepFunctionsStartExecution:
    """Start the deploy state machine and wait for it (``.sync:2``); ``source`` maps the deploy
    input's TrainingJobName or TuningJobName to a path of the parent's state. Failures go to
    ``failed``, a failed deployment named ``DeployFailed`` with its execution's description as the
    cause (Step Functions reports it as States.TaskFailed, a name no Fail state may raise)."""
    task = tasks.StepFunctionsStartExecution(
        scope,
        state_name,
        state_machine=deploy,
        integration_pattern=sfn.IntegrationPattern.RUN_JOB,
        # Named by the first state after the parent's pipeline, name and run
        # (``Execution.nested_name``): a retried start finds the running deployment, the console
        # shows which execution deployed, and a fine-tune and a tune of one name never collide.
        name=sfn.JsonPath.string_at(f"{target_path}.ExecutionName"),
        input=sfn.TaskInput.from_object(
            {
                **{key: sfn.JsonPath.string_at(path) for key, path in source.items()},
                "EndpointName": sfn.JsonPath.string_at(f"{target_path}.EndpointName"),
                "InstanceType": sfn.JsonPath.string_at(f"{target_path}.InstanceType"),
                "InitialInstanceCount": sfn.JsonPath.number_at(f"{target_path}.InitialInstanceCount"),
            }
        ),
        result_selector={
            "ExecutionArn": sfn.JsonPath.string_at("$.ExecutionArn"),
            "Endpoint": sfn.JsonPath.object_at("$.Output"),
        },
        result_path=result_path,
    )
    parts.retry_transient(task)
    named = sfn.Pass(
        scope,
        "Deployment failed",
        parameters={"Error": "DeployFailed", "Cause": sfn.JsonPath.string_at("$.Error.Cause")},
        result_path="$.Error",
    )
    named.next(failed)
    task.add_catch(named, errors=["States.TaskFailed"], result_path="$.Error")
    task.add_catch(failed, errors=["States.ALL"], result_path="$.Error")
    return task


def acknowledge_nested(machine: sfn.StateMachine, deploy: sfn.IStateMachine) -> None:
    """``.sync`` runs of a nested state machine need its executions and a managed EventBridge rule."""
    executions = cdk.Stack.of(machine).format_arn(
        service="states",
        resource="execution",
        resource_name=f"{cdk.Arn.split(deploy.state_machine_arn, cdk.ArnFormat.COLON_RESOURCE_NAME).resource_name}*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    acknowledge(
        machine.role,
        f"AwsSolutions-IAM5[{nag_resource(machine, executions)}]",
        "Describes and stops the nested deploy executions it starts; their names are generated per run.",
    )
