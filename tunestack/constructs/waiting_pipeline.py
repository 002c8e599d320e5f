"""One waiting pipeline: validate -> [steps before the wait] -> launch a SageMaker resource and wait
on its task token (reconcile after a timeout) -> [steps after the wait] -> [deploy if asked] ->
report [-> tell the team of the success, if it asked]; every error notifies the team and ends in a
Fail state.

Fine-tune, tune and deploy are this construct with a job kind of the contract
(``tunestack_runtime.contract``) and their own steps and grants (``FineTunePipeline``,
``TunePipeline``, ``DeployPipeline``). The kind decides the handler module, the plan's fields, the
state-change rule, the IAM actions on the resource and what the end of a failed execution stops.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from tunestack.constructs import pipeline_parts as parts
from tunestack.constructs import sagemaker_statements as statements
from tunestack.constructs.compliance import acknowledge, nag_resource
from tunestack.constructs.pipeline_runtime import PipelineRuntime, acknowledge_wildcards
from tunestack_runtime.console_links import LINKS_FIELD
from tunestack_runtime.contract import JobKindSpec, plan_path

#: The state that tells a team of a success (``TeamSettings.notify_on_success``).
SUCCESS_NOTICE = "Notify the team of success"
#: Construct ids the waiting pipeline takes for itself.
_OWN_IDS = frozenset({"Validate", "Launch", "OnStateChange", "Reconcile", "OnExecutionEnd", SUCCESS_NOTICE})


@dataclass(frozen=True, kw_only=True)
class FunctionStep:
    """A function of the kind's handler module (``handler`` names the function in it) and the
    state that runs it. ``payload`` and ``result_path`` are those of its task; the validate step
    ignores them (its result becomes the plan)."""

    construct_id: str
    handler: str
    state_name: str
    description: str
    payload: Mapping[str, object] = field(default_factory=dict)
    result_path: str = sfn.JsonPath.DISCARD
    #: Left out: one minute.
    timeout: cdk.Duration | None = None
    memory_size: int = 256
    #: The module of ``handler``. Left out: the kind's handler module.
    module: str | None = None
    #: Left out: the step always runs. Given: a Choice named ``choice_state`` runs it only when
    #: the condition holds, and goes on to the next state otherwise.
    only_if: sfn.Condition | None = None
    choice_state: str | None = None


def validate_step(
    state_name: str, description: str, *, timeout: cdk.Duration | None = None, memory_size: int = 256
) -> FunctionStep:
    """The first state: the ``validate`` function of the kind's handler module."""
    return FunctionStep(
        construct_id="Validate",
        handler="validate",
        state_name=state_name,
        description=description,
        timeout=timeout,
        memory_size=memory_size,
    )


@dataclass(frozen=True, kw_only=True)
class DeployStep:
    """Deploy what the pipeline made, in a nested execution of the deploy state machine, when the
    plan holds a deploy target (under the kind's ``deploy_field``) and ``only_if`` holds."""

    state_name: str
    #: The deploy input's field naming the source ("TrainingJobName"), read from the report.
    source_field: str
    #: Left out: the target alone decides.
    only_if: sfn.Condition | None = None


@dataclass(frozen=True, kw_only=True)
class WaitingPipelineProps:
    kind: JobKindSpec
    #: The state machine's comment, after "tunestack <team>: ".
    comment: str
    validate: FunctionStep
    wait_state: str
    report_state: str
    #: What the report state outputs ("$.Result": the wait's result); a nested deploy's result is
    #: added under it as ``Deployment``.
    report_path: str = "$.Result"
    #: Construct id of the state-change rule.
    rule_id: str
    #: What the end of a failed execution stops, for people ("training jobs").
    ended: str
    #: Description of the function the end of a failed execution runs. Left out: "Stops the
    #: <ended> of executions that failed, were aborted or timed out".
    on_end: str | None = None
    #: True: the state-change rule takes only the resources of this kind's pipeline (its tag);
    #: False: any of the team's.
    by_pipeline: bool = True
    #: Why the functions may name any resource of the kind (the cdk-nag acknowledgement).
    why_names: str
    before_wait: Sequence[FunctionStep] = ()
    after_wait: Sequence[FunctionStep] = ()
    #: Left out: the pipeline never deploys.
    deploy: DeployStep | None = None
    #: The report's fields a success notice carries beside the execution and its links (teams
    #: with ``notify_on_success``); each must be in every successful report.
    notice_fields: Sequence[str] = ()

    def problems(self, deploy_machine: sfn.IStateMachine | None) -> list[str]:
        found = []
        if self.deploy is not None and self.kind.deploy_field is None:
            found.append(f"deploy: the {self.kind.pipeline} plan holds no deploy target")
        if self.deploy is not None and deploy_machine is None:
            found.append("deploy: a deploy step needs the deploy state machine")
        ids = [step.construct_id for step in (*self.before_wait, *self.after_wait)]
        taken = sorted((set(ids) & _OWN_IDS) | {i for i in ids if ids.count(i) > 1})
        if taken:
            found.append(f"before_wait/after_wait: construct ids {taken} are taken")
        for step in (*self.before_wait, *self.after_wait):
            if (step.only_if is None) != (step.choice_state is None):
                found.append(f"{step.construct_id}: only_if and choice_state go together")
        return found


class WaitingPipeline(Construct):
    """A state machine that launches one SageMaker resource of ``props.kind`` and waits on it, its
    functions, their permissions on the resource, the rule that completes the wait and the rule that
    stops what a failed execution launched. Every created resource is an attribute."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: PipelineRuntime,
        props: WaitingPipelineProps,
        deploy_machine: sfn.IStateMachine | None = None,
    ) -> None:
        problems = props.problems(deploy_machine)
        if problems:
            raise ValueError(f"{construct_id}: " + "; ".join(problems))
        super().__init__(scope, construct_id)
        self.props = props
        kind = props.kind
        self.validate_fn = self._function(runtime, props.validate)
        self.steps: dict[str, lambda_.Function] = {
            step.construct_id: self._function(runtime, step) for step in (*props.before_wait, *props.after_wait)
        }
        ended = f"Stops the {props.ended} of executions that failed, were aborted or timed out"
        self.waiting = parts.WaitingFunctions(self, runtime, kind=kind, on_end=props.on_end or ended)
        self.launch_fn, self.state_change_fn = self.waiting.launch, self.waiting.state_change
        self.reconcile_fn, self.execution_end_fn = self.waiting.reconcile, self.waiting.execution_end
        self._grant_waiting(runtime)
        self.state_machine = self._state_machine(runtime, deploy_machine)
        article = "an" if kind.noun[0] in "aeiou" else "a"
        self.state_change_rule: events.Rule = parts.rule(
            self,
            runtime,
            props.rule_id,
            description=f"Completes executions waiting on {article} {kind.noun}",
            pattern=parts.team_job_pattern(runtime, kind, by_pipeline=props.by_pipeline),
            function=self.state_change_fn,
        )
        self.execution_end_rule = parts.stop_on_execution_end(
            self, runtime, self.state_machine, self.execution_end_fn, props.ended
        )

    def _function(self, runtime: PipelineRuntime, step: FunctionStep) -> lambda_.Function:
        return runtime.function(
            self,
            step.construct_id,
            handler=f"{step.module}.{step.handler}" if step.module else self.props.kind.handler(step.handler),
            description=step.description,
            timeout=step.timeout,
            memory_size=step.memory_size,
        )

    def _grant_waiting(self, runtime: PipelineRuntime) -> None:
        """The launch creates the resource within the team's guardrails; launch, completion and
        reconcile describe it; reconcile and the end of a failed execution stop it (if it stops)."""
        kind, guardrails = self.props.kind, runtime.guardrails
        for statement in statements.launch_statements(self, guardrails, kind):
            self.launch_fn.add_to_role_policy(statement)
        describe = list(kind.describe_actions)
        stop = list(kind.stop_actions)
        resources = statements.sagemaker_arn(self, kind.arn_resource_type)
        for function, actions in (
            (self.launch_fn, describe),
            (self.state_change_fn, describe),
            (self.reconcile_fn, [*describe, *stop]),
            (self.execution_end_fn, stop),
        ):
            if actions:
                function.add_to_role_policy(
                    statements.manage_team_jobs(self, guardrails, actions, [kind.arn_resource_type])
                )
                acknowledge_wildcards(function, {resources: self.props.why_names})

    def _state_machine(self, runtime: PipelineRuntime, deploy_machine: sfn.IStateMachine | None) -> sfn.StateMachine:
        props, kind = self.props, self.props.kind
        failed = parts.failure_path(
            self,
            runtime,
            subject=f"tunestack {kind.pipeline} failed",
            fail_state=f"{kind.pipeline.capitalize()} failed",
        )
        validate = parts.validate_task(self, props.validate.state_name, self.validate_fn)
        before = {step.construct_id: self._task(step) for step in props.before_wait}
        launch, reconcile = parts.wait_states(self, self.waiting, kind=kind, state_name=props.wait_state)
        after = {step.construct_id: self._task(step) for step in props.after_wait}
        done = sfn.Pass(self, props.report_state, output_path=props.report_path)
        finish: sfn.IChainable = done
        if props.deploy is not None and deploy_machine is not None and kind.deploy_field is not None:
            target = plan_path(kind.deploy_field)
            deploy = nested_deploy(
                self,
                deploy_machine,
                state_name=props.deploy.state_name,
                source={props.deploy.source_field: f"{props.report_path}.{props.deploy.source_field}"},
                target_path=target,
                result_path=f"{props.report_path}.Deployment",
                failed=failed,
            )
            present = sfn.Condition.is_present(target)
            condition = present if props.deploy.only_if is None else sfn.Condition.and_(present, props.deploy.only_if)
            finish = sfn.Choice(self, "Deploy requested?").when(condition, deploy.next(done)).otherwise(done)
        for task in (validate, *before.values(), launch, reconcile, *after.values()):
            task.add_catch(failed, errors=["States.ALL"], result_path="$.Error")
        if runtime.resources.team.notify_on_success:
            done.next(self._success_notice(runtime, failed))
        after_wait = self._steps(props.after_wait, after, finish)
        launch.next(after_wait)
        reconcile.next(after_wait)
        machine = parts.state_machine(
            self,
            runtime,
            definition=_chain([validate, self._steps(props.before_wait, before, launch)]),
            name=kind.pipeline,
            comment=props.comment,
            invoked=[
                self.validate_fn,
                *(self.steps[s.construct_id] for s in props.before_wait),
                self.launch_fn,
                self.reconcile_fn,
                *(self.steps[s.construct_id] for s in props.after_wait),
            ],
            responders=[self.launch_fn, self.state_change_fn],
        )
        if deploy_machine is not None and props.deploy is not None:
            acknowledge_nested(machine, deploy_machine)
        return machine

    def _steps(
        self, steps: Sequence[FunctionStep], built: Mapping[str, tasks.LambdaInvoke], following: sfn.IChainable
    ) -> sfn.IChainable:
        """The steps in order, then ``following``; a step with ``only_if`` behind its Choice.
        Returns the first state."""
        for step in reversed(steps):
            task = built[step.construct_id]
            task.next(following)
            if step.only_if is not None and step.choice_state is not None:
                following = sfn.Choice(self, step.choice_state).when(step.only_if, task).otherwise(following)
            else:
                following = task
        return following

    def _success_notice(self, runtime: PipelineRuntime, failed: sfn.IChainable) -> tasks.SnsPublish:
        """The team's topic hears of the success: the execution, the report's key fields and its
        console links, as JSON; the output stays the report's. Published by the state machine
        itself (no function): the task grants sns:Publish on the topic, and every machine's role
        already holds the team key's GenerateDataKey and Decrypt (``pipeline_parts.state_machine``)
        that publishing to a topic encrypted with it needs. A notice that cannot be sent goes the
        failure path's way."""
        team, pipeline = runtime.resources.team.name, self.props.kind.pipeline
        notice = tasks.SnsPublish(
            self,
            SUCCESS_NOTICE,
            topic=runtime.failures,
            subject=f"tunestack {team} {pipeline} succeeded",
            message=sfn.TaskInput.from_object(
                {
                    "Execution": sfn.JsonPath.execution_id,
                    **{name: sfn.JsonPath.object_at(f"$.{name}") for name in self.props.notice_fields},
                    LINKS_FIELD: sfn.JsonPath.object_at(f"$.{LINKS_FIELD}"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        # Step Functions names an SNS error "SNS.<code>Exception"; Publish's transient ones are
        # InternalError and KMSThrottling (botocore's sns service model, Publish errors) and the
        # service's Throttled (HTTP 429, same model).
        notice.add_retry(
            errors=["SNS.ThrottledException", "SNS.InternalErrorException", "SNS.KMSThrottlingException"],
            interval=cdk.Duration.seconds(2),
            max_attempts=6,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        notice.add_catch(failed, errors=["States.ALL"], result_path="$.Error")
        return notice

    def _task(self, step: FunctionStep) -> tasks.LambdaInvoke:
        return parts.invoke(
            self, step.state_name, self.steps[step.construct_id], dict(step.payload), result_path=step.result_path
        )


def _chain(states: Sequence[sfn.IChainable]) -> sfn.IChainable:
    """``states`` in order; returns the first, each leading to the next."""
    for current, following in itertools.pairwise(states):
        current.next(following)  # type: ignore[attr-defined]
    return states[0]


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
