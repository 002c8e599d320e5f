"""The tune state machine of one team, the handlers it runs and the team's tuning dashboard."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from tunestack.constructs import pipeline_parts as parts
from tunestack.constructs import sagemaker_statements as statements
from tunestack.constructs.deploy_pipeline import acknowledge_nested, nested_deploy
from tunestack.constructs.pipeline_runtime import (
    WHY_JUMPSTART_SPECS,
    PipelineRuntime,
    acknowledge_wildcards,
    grant_key_use,
    grant_reads,
)
from tunestack.constructs.team_tags import TEAM_TAG_KEY
from tunestack_runtime.tuning_analysis import metric_namespace

TUNING_JOB = "hyper-parameter-tuning-job"


class TunePipeline(Construct):
    """validate (parents, Auto, copy settings) -> launch and wait (task token) -> analyse -> output;
    failures notify and end in Fail. ``dashboard`` plots the team's tuning progress."""

    def __init__(
        self, scope: Construct, construct_id: str, *, runtime: PipelineRuntime, deploy: sfn.IStateMachine
    ) -> None:
        super().__init__(scope, construct_id)
        guardrails = runtime.guardrails
        handler = "tunestack_runtime.handlers.tune"
        self.validate_fn = runtime.function(
            self,
            "Validate",
            handler=f"{handler}.validate",
            timeout=cdk.Duration.minutes(5),
            memory_size=512,
            description="Validates a tune input, its warm-start parents and data; creates nothing",
        )
        waiting = parts.WaitingFunctions(
            self,
            runtime,
            module="tune",
            noun="tuning job",
            on_end="Stops the tuning jobs of executions that failed, were aborted or timed out",
        )
        self.launch_fn, self.state_change_fn = waiting.launch, waiting.state_change
        self.reconcile_fn, self.execution_end_fn = waiting.reconcile, waiting.execution_end
        self.waiting = waiting
        self.analyse_fn = runtime.function(
            self,
            "Analyse",
            handler=f"{handler}.analyse",
            timeout=cdk.Duration.minutes(5),
            memory_size=512,
            description="Leaderboard, chart and best objective of a finished tuning job",
        )
        self._grant(runtime, guardrails)
        self.state_machine = self._state_machine(runtime, deploy)
        parts.rule(
            self,
            runtime,
            "TuningJobStateChange",
            description="Completes executions waiting on a tuning job",
            pattern=parts.team_job_pattern(
                runtime,
                "SageMaker HyperParameter Tuning Job State Change",
                {"HyperParameterTuningJobStatus": ["Completed", "Failed", "Stopped"]},
                pipeline="tune",
            ),
            function=self.state_change_fn,
        )
        parts.stop_on_execution_end(self, runtime, self.state_machine, self.execution_end_fn, "tuning jobs")
        self.dashboard = self._dashboard(runtime)

    def _grant(self, runtime: PipelineRuntime, guardrails: statements.Guardrails) -> None:
        bucket = runtime.bucket
        key = runtime.resources.key
        tuning_jobs = statements.sagemaker_arn(self, TUNING_JOB)
        why_jobs = (
            "Tuning job names come from inputs and executions; creation is held to the team's guardrails by "
            "conditions, and other calls to tuning jobs need the team tag."
        )

        grant_reads(self.validate_fn, runtime, team_data=True, why_jumpstart=WHY_JUMPSTART_SPECS)
        self.validate_fn.add_to_role_policy(
            statements.manage_team_jobs(
                self, guardrails, ["sagemaker:DescribeHyperParameterTuningJob", "sagemaker:ListTags"], [TUNING_JOB]
            )
        )
        # "Auto" warm start finds the team's recent tuning jobs with Search, filtered on the team tag
        # by SageMaker itself, then describes each (allowed only for the team's). sagemaker:Search
        # has no resource-level permissions; its condition key sagemaker:SearchVisibilityCondition/
        # ${FilterKey} (Service Authorization Reference, Amazon SageMaker) requires every Search to
        # carry the visibility condition Tags.tunestack:team = <team>, so SageMaker leaves out what
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
                tuning_jobs: why_jobs,
                "*": "sagemaker:Search has no resource-level permissions; the query filters on the team tag and "
                "only the team's tuning jobs can then be described.",
            },
        )

        for statement in statements.create_tuning_job(self, guardrails):
            self.launch_fn.add_to_role_policy(statement)
        for statement in statements.tag_on_create(self, guardrails, [TUNING_JOB]):
            self.launch_fn.add_to_role_policy(statement)
        self.launch_fn.add_to_role_policy(statements.pass_team_role(guardrails))
        describe = ["sagemaker:DescribeHyperParameterTuningJob", "sagemaker:ListTags"]
        for function, actions in (
            (self.launch_fn, describe),
            (self.state_change_fn, describe),
            (self.reconcile_fn, [*describe, "sagemaker:StopHyperParameterTuningJob"]),
            (self.execution_end_fn, ["sagemaker:StopHyperParameterTuningJob"]),
            (
                self.analyse_fn,
                ["sagemaker:DescribeHyperParameterTuningJob", "sagemaker:ListTrainingJobsForHyperParameterTuningJob"],
            ),
        ):
            function.add_to_role_policy(statements.manage_team_jobs(self, guardrails, actions, [TUNING_JOB]))
            acknowledge_wildcards(function, {tuning_jobs: why_jobs})

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

    def _state_machine(self, runtime: PipelineRuntime, deploy: sfn.IStateMachine) -> sfn.StateMachine:
        failed = parts.failure_path(self, runtime, subject="tunestack tune failed", fail_state="Tune failed")
        validate = parts.validate_task(self, "Validate input and warm start", self.validate_fn)
        launch, reconcile = parts.wait_states(
            self,
            self.waiting,
            state_name="Tune (waits for SageMaker)",
            request_field="CreateHyperParameterTuningJob",
            name_path="CreateHyperParameterTuningJob.HyperParameterTuningJobName",
            name_field="TuningJobName",
        )
        analyse = parts.invoke(
            self,
            "Analyse the training jobs",
            self.analyse_fn,
            {"Launched": sfn.JsonPath.object_at("$.Result")},
            result_path="$.Analysis",
        )
        done = sfn.Pass(self, "Report the best model", output_path="$.Analysis")
        deploy_best = nested_deploy(
            self,
            deploy,
            state_name="Deploy the best model",
            source={"TuningJobName": "$.Analysis.TuningJobName"},
            target_path="$.Launch.DeployBest",
            result_path="$.Analysis.Deployment",
            failed=failed,
        )
        requested = sfn.Choice(self, "Deploy requested?")
        # A tuning job a person stopped is reported (its finished trials, the best so far) but not
        # deployed: nobody asked for its best-so-far to serve.
        requested.when(
            sfn.Condition.and_(
                sfn.Condition.is_present("$.Launch.DeployBest"),
                sfn.Condition.string_equals("$.Analysis.TuningJobStatus", "Completed"),
            ),
            deploy_best.next(done),
        ).otherwise(done)
        for task in (validate, launch, reconcile, analyse):
            task.add_catch(failed, errors=["States.ALL"], result_path="$.Error")
        reconcile.next(analyse)
        machine = parts.state_machine(
            self,
            runtime,
            definition=validate.next(launch.next(analyse.next(requested))),
            name="tune",
            comment="tune hyperparameters",
            invoked=[self.validate_fn, self.launch_fn, self.reconcile_fn, self.analyse_fn],
            responders=[self.launch_fn, self.state_change_fn],
        )
        acknowledge_nested(machine, deploy)
        return machine

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
