"""The model registry in a team's pipelines: the register step of fine-tune and tune, what deploy
may read of the registry, and the rule that deploys a version when a person approves it.

Statements come from ``registry_statements`` (one place for the registry's IAM); the run-time
logic is ``tunestack_runtime.model_registry`` and its handlers ``tunestack_runtime.handlers.registry``.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from tunestack.constructs import pipeline_parts as parts
from tunestack.constructs import registry_statements
from tunestack.constructs import sagemaker_statements as statements
from tunestack.constructs.pipeline_runtime import (
    WHY_JUMPSTART_SPECS,
    PipelineRuntime,
    acknowledge_wildcards,
    grant_key_use,
    grant_reads,
)
from tunestack.constructs.waiting_pipeline import FunctionStep
from tunestack_runtime.contract import (
    DEPLOY_STATE_MACHINE_ENV,
    PLAN_REGISTER_FIELD,
    REGISTRY_HANDLERS,
    TRAINING_JOB,
    TUNING_JOB,
    JobKindSpec,
    approval_event_pattern,
    plan_path,
)

#: Where the model-quality statistics of each version go in the team bucket
#: (``model_registry.statistics_key``).
STATISTICS_PREFIX = "registry/*"
WHY_GROUPS = "The team's model package groups are named <team>-<name> by the team; versions are numbered by SageMaker."
WHY_LIST = (
    "ListModelPackages has no resource types in the Service Authorization Reference; it lists summaries, and "
    "DescribeModelPackage stays scoped to the team's groups."
)


def register_step(kind: JobKindSpec, report_path: str, only_if: sfn.Condition | None = None) -> FunctionStep:
    """After the job: register its model (a tuning job's best) as a new version when the plan holds
    a registration; the version's ARN and number land in the output under ``Registered``."""
    planned = sfn.Condition.is_present(plan_path(PLAN_REGISTER_FIELD))
    return FunctionStep(
        construct_id="RegistryRegister",
        module=REGISTRY_HANDLERS,
        handler="register",
        state_name="Register model version",
        description="Registers the trained model as a new version of one of the team's model package groups",
        payload={
            PLAN_REGISTER_FIELD: sfn.JsonPath.object_at(plan_path(PLAN_REGISTER_FIELD)),
            "Pipeline": kind.pipeline,
            **parts.execution_fields(),
        },
        result_path=f"{report_path}.Registered",
        timeout=cdk.Duration.minutes(2),
        only_if=planned if only_if is None else sfn.Condition.and_(planned, only_if),
        choice_state="Register the model?",
    )


def grant_register(scope: Construct, function: lambda_.IFunction, runtime: PipelineRuntime) -> None:
    """Create the team's groups and versions in them, read the job it registers (a tuning job and
    its best training job), the JumpStart spec of the serving container, and write the statistics."""
    team = runtime.guardrails.team_name
    for statement in registry_statements.register_statements(scope, team):
        function.add_to_role_policy(statement)
    kinds = [TRAINING_JOB.arn_resource_type, TUNING_JOB.arn_resource_type]
    function.add_to_role_policy(
        statements.manage_team_jobs(
            scope,
            runtime.guardrails,
            [
                f"sagemaker:{TRAINING_JOB.describe_operation}",
                f"sagemaker:{TUNING_JOB.describe_operation}",
                "sagemaker:ListTags",
            ],
            kinds,
        )
    )
    grant_reads(function, runtime, team_data=False, why_jumpstart=WHY_JUMPSTART_SPECS)
    reports = runtime.bucket.arn_for_objects(STATISTICS_PREFIX)
    function.add_to_role_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[reports]))
    grant_key_use(function, runtime.resources.key, ["kms:GenerateDataKey"])
    why_jobs = "Job names come from inputs and executions; describing a job needs the team tag."
    acknowledge_wildcards(
        function,
        {
            registry_statements.group_arn(scope, team): WHY_GROUPS,
            registry_statements.version_arn(scope, team): WHY_GROUPS,
            "*": WHY_LIST,
            reports: "Writes each version's model-quality statistics under the team bucket's registry/ prefix.",
            **{statements.sagemaker_arn(scope, kind): why_jobs for kind in kinds},
        },
    )


def grant_deploy_reads(scope: Construct, function: lambda_.IFunction, team: str) -> None:
    """Deploy's first state reads a version and its group (status, team tag)."""
    for statement in registry_statements.deploy_statements(scope, team):
        function.add_to_role_policy(statement)
    acknowledge_wildcards(
        function,
        {
            registry_statements.group_arn(scope, team): WHY_GROUPS,
            registry_statements.version_arn(scope, team): WHY_GROUPS,
        },
    )


class ApprovalDeploys(Construct):
    """A function behind an EventBridge rule on the approval of a version of the groups the team
    deploys on approval: it starts the deploy state machine with the version and the group's
    endpoint (created, or updated in place blue/green). Create it only for a team whose registry
    settings list ``auto_deploy`` targets."""

    def __init__(
        self, scope: Construct, construct_id: str, *, runtime: PipelineRuntime, deploy: sfn.IStateMachine
    ) -> None:
        super().__init__(scope, construct_id)
        settings = runtime.resources.team.model_registry
        groups = sorted({rule.group for rule in settings.auto_deploy})
        if not groups:
            raise ValueError(f"{construct_id}: the team's model_registry.auto_deploy lists no group")
        team = runtime.guardrails.team_name
        self.function = runtime.function(
            self,
            "RegistryOnApproval",
            handler=f"{REGISTRY_HANDLERS}.on_approval",
            description="Starts a deploy when a version of a group that deploys on approval is approved",
            asynchronous=True,
        )
        self.function.add_environment(DEPLOY_STATE_MACHINE_ENV, deploy.state_machine_arn)
        deploy.grant_start_execution(self.function)
        grant_deploy_reads(self, self.function, team)
        pattern = approval_event_pattern(groups)
        self.rule = parts.rule(
            self,
            runtime,
            "ModelPackageApproved",
            description=f"Deploys approved versions of {', '.join(groups)}",
            pattern=events.EventPattern(
                source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"]
            ),
            function=self.function,
        )
