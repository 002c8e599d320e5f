"""The three pipelines as one waiting pipeline: the console graph each shows is pinned (state names,
types and every transition), so building them from one construct changes nothing a user sees."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from tests.test_pipelines_stack import TEAMS, definition, state_machine
from tunestack.constructs import deploy_pipeline, fine_tune_pipeline, tune_pipeline
from tunestack.constructs.waiting_pipeline import SUCCESS_NOTICE, DeployStep, FunctionStep, WaitingPipelineProps
from tunestack_runtime.contract import ENDPOINT, TRAINING_JOB

ALL = ["States.ALL"]
NOTIFY = "Notify the team"
FAILS = [(ALL, NOTIFY)]
WAIT_CATCHES = [(["States.Timeout"], "Reconcile after timeout"), *FAILS]
NESTED_CATCHES = [(["States.TaskFailed"], "Deployment failed"), *FAILS]


def task(following: str, catch: list[tuple[list[str], str]] = FAILS) -> dict[str, Any]:
    return {"Type": "Task", "Next": following, "Catch": catch}


def choice(deploy: str, report: str) -> dict[str, Any]:
    return {"Type": "Choice", "Choices": [deploy], "Default": report}


def ending(fail_state: str) -> dict[str, dict[str, Any]]:
    """The failure path every pipeline shares: describe the failure and notify, then fail with the
    described cause; if the notice cannot be sent, fail with the error as it came."""
    unsent = f"{fail_state} (notice not sent)"
    return {
        NOTIFY: {"Type": "Task", "Next": fail_state, "Catch": [(ALL, unsent)]},
        fail_state: {"Type": "Fail"},
        unsent: {"Type": "Fail"},
    }


REPORT = {"Type": "Pass", "End": True}
DEPLOY_FAILED = {"Deployment failed": {"Type": "Pass", "Next": NOTIFY}}

#: As synthesized before the pipelines were one construct (with the failure path's fallback added
#: since, and the model registry's "Register the model?" choice after the job, after the analysis
#: of a tune): start state, then each state's type, Next (or Default and Choices, or End) and Catch
#: (errors -> target), in order.
GRAPHS: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    "FineTune": (
        "Validate input and dataset",
        {
            "Validate input and dataset": task("Train (waits for SageMaker)"),
            "Train (waits for SageMaker)": task("Register the model?", WAIT_CATCHES),
            "Reconcile after timeout": task("Register the model?"),
            "Register the model?": choice("Register model version", "Deploy requested?"),
            "Register model version": task("Deploy requested?"),
            "Deploy requested?": choice("Deploy the model", "Report the model"),
            "Deploy the model": task("Report the model", NESTED_CATCHES),
            **DEPLOY_FAILED,
            "Report the model": REPORT,
            **ending("Fine-tune failed"),
        },
    ),
    "Tune": (
        "Validate input and warm start",
        {
            "Validate input and warm start": task("Tune (waits for SageMaker)"),
            "Tune (waits for SageMaker)": task("Analyse the training jobs", WAIT_CATCHES),
            "Reconcile after timeout": task("Analyse the training jobs"),
            "Analyse the training jobs": task("Register the model?"),
            "Register the model?": choice("Register model version", "Deploy requested?"),
            "Register model version": task("Deploy requested?"),
            "Deploy requested?": choice("Deploy the best model", "Report the best model"),
            "Deploy the best model": task("Report the best model", NESTED_CATCHES),
            **DEPLOY_FAILED,
            "Report the best model": REPORT,
            **ending("Tune failed"),
        },
    ),
    "Deploy": (
        "Validate input and model",
        {
            "Validate input and model": task("Create model and endpoint config"),
            "Create model and endpoint config": task("Deploy (waits for SageMaker)"),
            "Deploy (waits for SageMaker)": task("Report the endpoint", WAIT_CATCHES),
            "Reconcile after timeout": task("Report the endpoint"),
            "Report the endpoint": REPORT,
            **ending("Deploy failed"),
        },
    ),
}


def graph(states: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, state in states.items():
        entry: dict[str, Any] = {"Type": state["Type"]}
        for key in ("Next", "Default", "End"):
            if key in state:
                entry[key] = state[key]
        if "Choices" in state:
            entry["Choices"] = [choice["Next"] for choice in state["Choices"]]
        if "Catch" in state:
            entry["Catch"] = [(catch["ErrorEquals"], catch["Next"]) for catch in state["Catch"]]
        found[name] = entry
    return found


#: Teams of cdk.json told of successes too (``notifyOnSuccess``).
NOTIFIED_ON_SUCCESS = {"vision"}
PIPELINES = {"FineTune": "fine-tune", "Tune": "tune", "Deploy": "deploy"}
NOTICE_FIELDS = {
    "FineTune": fine_tune_pipeline.PROPS.notice_fields,
    "Tune": tune_pipeline.PROPS.notice_fields,
    "Deploy": deploy_pipeline.PROPS.notice_fields,
}
REPORTS = {"FineTune": "Report the model", "Tune": "Report the best model", "Deploy": "Report the endpoint"}


def with_success_notice(pipeline: str, states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The one state a team with ``notifyOnSuccess`` gets: after the report, at the end."""
    return {
        **states,
        REPORTS[pipeline]: {"Type": "Pass", "Next": SUCCESS_NOTICE},
        SUCCESS_NOTICE: {"Type": "Task", "End": True, "Catch": FAILS},
    }


@pytest.mark.parametrize("team", TEAMS)
@pytest.mark.parametrize("pipeline", list(GRAPHS))
def test_the_console_graph_is_unchanged(pipelines_templates: dict[str, Template], team: str, pipeline: str) -> None:
    start, states = GRAPHS[pipeline]
    if team in NOTIFIED_ON_SUCCESS:
        states = with_success_notice(pipeline, states)
    synthesized = definition(pipelines_templates[team], pipeline)
    assert synthesized["StartAt"] == start
    assert graph(synthesized["States"]) == states


@pytest.mark.parametrize("pipeline", list(GRAPHS))
def test_the_success_notice_publishes_the_execution_key_fields_and_links(
    pipelines_templates: dict[str, Template], pipeline: str
) -> None:
    notice = definition(pipelines_templates["vision"], pipeline)["States"][SUCCESS_NOTICE]
    assert notice["Resource"].endswith(":states:::sns:publish")
    assert notice["ResultPath"] is None  # the output stays the report
    parameters = notice["Parameters"]
    assert parameters["Subject"] == f"tunestack vision {PIPELINES[pipeline]} succeeded"
    message = parameters["Message"]
    assert message["Execution.$"] == "$$.Execution.Id"
    assert message["Links.$"] == "$.Links"
    assert {k for k in message if k not in {"Execution.$", "Links.$"}} == {f"{f}.$" for f in NOTICE_FIELDS[pipeline]}


def machine_statements(template: Template, pipeline: str) -> list[dict[str, Any]]:
    """The statements of the policies attached to one state machine's role."""
    role = state_machine(template, pipeline)["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    policies = template.find_resources("AWS::IAM::Policy")
    return [
        statement
        for policy in policies.values()
        if {"Ref": role} in policy["Properties"].get("Roles", [])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


@pytest.mark.parametrize("team", TEAMS)
@pytest.mark.parametrize("pipeline", list(GRAPHS))
def test_only_a_machine_that_tells_successes_may_publish_with_the_team_key(
    pipelines_templates: dict[str, Template], team: str, pipeline: str
) -> None:
    """sns:Publish on the team's topic and the data-key and decrypt actions its key needs
    (Amazon SNS Developer Guide, "Encryption at rest"), on the state machine's own role."""
    statements = machine_statements(pipelines_templates[team], pipeline)
    publish = [s for s in statements if s["Action"] == "sns:Publish"]
    key_use = [s for s in statements if s["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]]
    assert len(key_use) == 1 and "Condition" not in key_use[0]
    if team in NOTIFIED_ON_SUCCESS:
        assert len(publish) == 1 and publish[0]["Resource"]["Ref"].startswith("RuntimeFailures")
    else:
        assert publish == []


def props(**changes: Any) -> WaitingPipelineProps:
    values: dict[str, Any] = {
        "kind": TRAINING_JOB,
        "comment": "c",
        "validate": FunctionStep(construct_id="Validate", handler="validate", state_name="V", description="d"),
        "wait_state": "W",
        "report_state": "R",
        "rule_id": "Rule",
        "ended": "jobs",
        "why_names": "why",
        **changes,
    }
    return WaitingPipelineProps(**values)


def test_props_name_every_problem_at_once() -> None:
    step = FunctionStep(construct_id="Launch", handler="x", state_name="X", description="d")
    found = props(kind=ENDPOINT, deploy=DeployStep(state_name="D", source_field="TrainingJobName"), after_wait=[step])
    assert found.problems(deploy_machine=None) == [
        "deploy: the deploy plan holds no deploy target",
        "deploy: a deploy step needs the deploy state machine",
        "before_wait/after_wait: construct ids ['Launch'] are taken",
    ]
    assert props().problems(deploy_machine=None) == []


def test_a_bad_pipeline_fails_before_creating_anything() -> None:
    import aws_cdk as cdk

    from tunestack.constructs.waiting_pipeline import WaitingPipeline

    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ValueError, match=r"^Bad: deploy: a deploy step needs the deploy state machine$"):
        WaitingPipeline(
            stack,
            "Bad",
            runtime=None,  # type: ignore[arg-type]
            props=props(deploy=DeployStep(state_name="D", source_field="TrainingJobName")),
        )
    assert stack.node.try_find_child("Bad") is None
    assert isinstance(sfn.JsonPath.DISCARD, str)
