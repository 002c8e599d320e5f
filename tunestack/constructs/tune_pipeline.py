"""The tune state machine of one team (the waiting pipeline on a tuning job, with an analysis after
the wait), the handlers it runs and the team's tuning dashboard."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from tunestack.constructs import sagemaker_statements as statements
from tunestack.constructs.pipeline_runtime import (
    WHY_JUMPSTART_SPECS,
    PipelineRuntime,
    acknowledge_wildcards,
    grant_key_use,
    grant_reads,
)
from tunestack.constructs.registry_steps import grant_register, register_step
from tunestack.constructs.team_tags import TEAM_TAG_KEY
from tunestack.constructs.waiting_pipeline import (
    DeployStep,
    FunctionStep,
    WaitingPipeline,
    WaitingPipelineProps,
    validate_step,
)
from tunestack_runtime.contract import TUNING_JOB
from tunestack_runtime.tuning_analysis import metric_namespace

WHY_TUNING_JOBS = (
    "Tuning job names come from inputs and executions; creation is held to the team's guardrails by "
    "conditions, and other calls to tuning jobs need the team tag."
)

PROPS = WaitingPipelineProps(
    kind=TUNING_JOB,
    comment="tune hyperparameters",
    validate=validate_step(
        "Validate input and warm start",
        "Validates a tune input, its warm-start parents and data; creates nothing",
        timeout=cdk.Duration.minutes(5),
        memory_size=512,
    ),
    wait_state="Tune (waits for SageMaker)",
    after_wait=[
        FunctionStep(
            construct_id="Analyse",
            handler="analyse",
            state_name="Analyse the training jobs",
            description="Leaderboard, chart and best objective of a finished tuning job",
            payload={"Launched": sfn.JsonPath.object_at("$.Result")},
            result_path="$.Analysis",
            timeout=cdk.Duration.minutes(5),
            memory_size=512,
        ),
        # Register the best training job's model when the input asks and the tuning job completed.
        register_step(
            TUNING_JOB, "$.Analysis", only_if=sfn.Condition.string_equals("$.Analysis.TuningJobStatus", "Completed")
        ),
    ],
    report_state="Report the best model",
    report_path="$.Analysis",
    rule_id="TuningJobStateChange",
    ended="tuning jobs",
    why_names=WHY_TUNING_JOBS,
    notice_fields=("TuningJobName", "TuningJobStatus", "Objective", "BestTrainingJob"),
    # A tuning job a person stopped is reported (its finished trials, the best so far) but not
    # deployed: nobody asked for its best-so-far to serve.
    deploy=DeployStep(
        state_name="Deploy the best model",
        source_field="TuningJobName",
        only_if=sfn.Condition.string_equals("$.Analysis.TuningJobStatus", "Completed"),
    ),
)


class TunePipeline(WaitingPipeline):
    """validate (parents, Auto, copy settings) -> launch and wait (task token) -> analyse -> deploy
    the best if asked -> output; failures notify and end in Fail. ``dashboard`` plots the team's
    tuning progress."""

    def __init__(
        self, scope: Construct, construct_id: str, *, runtime: PipelineRuntime, deploy: sfn.IStateMachine
    ) -> None:
        super().__init__(scope, construct_id, runtime=runtime, props=PROPS, deploy_machine=deploy)
        self.analyse_fn = self.steps["Analyse"]
        self.register_fn = self.steps["RegistryRegister"]
        grant_register(self, self.register_fn, runtime)
        self._grant(runtime, runtime.guardrails)
        self.dashboard = self._dashboard(runtime)

    def _grant(self, runtime: PipelineRuntime, guardrails: statements.Guardrails) -> None:
        bucket = runtime.bucket
        key = runtime.resources.key
        tuning_jobs = statements.sagemaker_arn(self, TUNING_JOB.arn_resource_type)

        grant_reads(self.validate_fn, runtime, team_data=True, why_jumpstart=WHY_JUMPSTART_SPECS)
        self.validate_fn.add_to_role_policy(
            statements.manage_team_jobs(self, guardrails, TUNING_JOB.describe_actions, [TUNING_JOB.arn_resource_type])
        )
        # "Auto" warm start finds the team's recent tuning jobs with Search, filtered on the team tag
        # by SageMaker itself, then describes each (allowed only for the team's). sagemaker:Search
        # has no resource-level permissions; its condition key sagemaker:SearchVisibilityCondition/
        # ${FilterKey} (Service Authorization Reference, Amazon SageMaker) requires every Search to
        # carry the visibility condition Tags.<team tag> = <team>, so SageMaker leaves out what
        # another team tagged. The account-wide ListHyperParameterTuningJobs is not granted.
        self.validate_fn.add_to_role_policy(
            iam.PolicyStatement(
                sid="SearchOnlyTheTeamsTuningJobs",
                actions=["sagemaker:Search"],
                resources=["*"],
                conditions={
                    "StringEquals": {f"sagemaker:SearchVisibilityCondition/Tags.{TEAM_TAG_KEY}": guardrails.team_name}
                },
            )
        )
        acknowledge_wildcards(
            self.validate_fn,
            {
                tuning_jobs: WHY_TUNING_JOBS,
                "*": "sagemaker:Search has no resource-level permissions; the query filters on the team tag and "
                "only the team's tuning jobs can then be described.",
            },
        )

        self.analyse_fn.add_to_role_policy(
            statements.manage_team_jobs(
                self,
                guardrails,
                [
                    f"sagemaker:{TUNING_JOB.describe_operation}",
                    "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
                ],
                [TUNING_JOB.arn_resource_type],
            )
        )
        acknowledge_wildcards(self.analyse_fn, {tuning_jobs: WHY_TUNING_JOBS})
        reports = bucket.arn_for_objects("tuning/*")
        self.analyse_fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[reports]))
        grant_key_use(self.analyse_fn, key, ["kms:GenerateDataKey"])
        # PutMetricData has no resource-level permissions; the namespace condition holds it to the
        # team's own namespace (cloudwatch:namespace, "Actions, resources, and condition keys for
        # Amazon CloudWatch", Service Authorization Reference).
        self.analyse_fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": metric_namespace(guardrails.team_name)}},
            )
        )
        acknowledge_wildcards(
            self.analyse_fn,
            {
                reports: "Writes each tuning job's leaderboard and chart under the team bucket's tuning/ prefix.",
                "*": "PutMetricData has no resource-level permissions; limited to the team's tunestack/<team>/Tuning "
                "namespace.",
            },
        )

    def _dashboard(self, runtime: PipelineRuntime) -> cloudwatch.Dashboard:
        team = runtime.resources.team.name
        best = cloudwatch.MathExpression(
            expression=(
                f"SEARCH('{{{metric_namespace(team)},Team,TuningJobName,ObjectiveMetric}} "
                f'MetricName="BestObjective" Team="{team}"\', \'Maximum\', 300)'
            ),
            label="",
            period=cdk.Duration.minutes(5),
        )
        executions = [
            self.state_machine.metric_succeeded(label="succeeded", period=cdk.Duration.hours(1)),
            self.state_machine.metric_failed(label="failed", period=cdk.Duration.hours(1)),
            self.state_machine.metric_aborted(label="aborted", period=cdk.Duration.hours(1)),
        ]
        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=cdk.Duration.days(14))
        dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# tunestack {team}: tuning\nBest objective of each tuning job, as the analysis step "
                "publishes it; leaderboards and charts are in the team bucket under `tuning/`.",
                width=24,
                height=2,
            ),
            cloudwatch.GraphWidget(title="Best objective per tuning job", left=[best], width=16, height=8),
            cloudwatch.GraphWidget(title="Tune executions", left=executions, width=8, height=8),
        )
        return dashboard
