"""The deploy state machine, its guardrails in IAM and its events in the synthesized templates."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from tests.test_pipelines_stack import TEAMS, definition, statements_with

HOSTING = {"vision": ["ml.g5.xlarge", "ml.m5.xlarge", "ml.c5.xlarge"], "nlp": ["ml.m5.large", "ml.m5.xlarge"]}


@pytest.mark.parametrize("team", TEAMS)
def test_deploy_creates_then_waits_once(pipelines_templates: dict[str, Template], team: str) -> None:
    states = definition(pipelines_templates[team], "Deploy")["States"]
    assert states["Validate input and model"]["Next"] == "Create model and endpoint config"
    assert states["Create model and endpoint config"]["Next"] == "Deploy (waits for SageMaker)"
    launch = states["Deploy (waits for SageMaker)"]
    assert launch["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
    assert launch["TimeoutSecondsPath"] == "$.Launch.TaskTimeoutSeconds"
    assert {tuple(c["ErrorEquals"]): c["Next"] for c in launch["Catch"]} == {
        ("States.Timeout",): "Reconcile after timeout",
        ("States.ALL",): "Notify the team",
    }
    assert not [s for s in states.values() if s["Type"] in {"Wait", "Choice"}]


@pytest.mark.parametrize(
    ("team", "pipeline", "field"),
    [(t, p, f) for t in TEAMS for p, f in (("FineTune", "Deploy"), ("Tune", "DeployBest"))],
)
def test_fine_tune_and_tune_nest_the_deploy_state_machine(
    pipelines_templates: dict[str, Template], team: str, pipeline: str, field: str
) -> None:
    states = definition(pipelines_templates[team], pipeline)["States"]
    (rule,) = states["Deploy requested?"]["Choices"]
    present = {"Variable": f"$.Launch.{field}", "IsPresent": True}
    assert present in rule.get("And", [{k: v for k, v in rule.items() if k != "Next"}])
    nested = states[rule["Next"]]
    assert nested["Resource"].endswith(":states:::states:startExecution.sync:2")
    # Named by the first state after the pipeline, the parent's name and its run: a retried start
    # finds its deployment, and a fine-tune and a tune of one name never collide.
    assert nested["Parameters"]["Name.$"] == f"$.Launch.{field}.ExecutionName"
    assert nested["Parameters"]["Input"]["EndpointName.$"] == f"$.Launch.{field}.EndpointName"
    # A failed deployment is reported by a name of its own: Step Functions says States.TaskFailed,
    # which no Fail state may raise.
    catches = {tuple(c["ErrorEquals"]): c["Next"] for c in nested["Catch"]}
    assert catches == {("States.TaskFailed",): "Deployment failed", ("States.ALL",): "Notify the team"}
    assert states["Deployment failed"]["Parameters"] == {"Error": "DeployFailed", "Cause.$": "$.Error.Cause"}
    assert states["Deployment failed"]["Next"] == "Notify the team"


@pytest.mark.parametrize("team", TEAMS)
def test_models_and_endpoint_configs_stay_within_the_team_guardrails(
    pipelines_templates: dict[str, Template], team: str
) -> None:
    template = pipelines_templates[team]
    (model,) = statements_with(template, "sagemaker:CreateModel")
    assert set(model["Condition"]["ForAllValues:StringEquals"]) == {
        "sagemaker:VpcSubnets",
        "sagemaker:VpcSecurityGroupIds",
    }
    assert model["Condition"]["StringEquals"] == {"aws:RequestTag/tunestack:team": team}
    assert f":model/{team}-*" in json.dumps(model["Resource"])
    configs = {s["Sid"]: s for s in statements_with(template, "sagemaker:CreateEndpointConfig")}
    config = configs["CreateEndpointConfigWithinGuardrails"]
    assert config["Condition"]["ForAllValues:StringEquals"] == {"sagemaker:InstanceTypes": HOSTING[team]}
    assert config["Condition"]["Null"] == {"sagemaker:InstanceTypes": "false", "sagemaker:ModelArn": "false"}
    assert f":model/{team}-*" in json.dumps(config["Condition"]["ForAllValues:ArnLike"]["sagemaker:ModelArn"])
    assert "sagemaker:VolumeKmsKey" in config["Condition"]["ArnEquals"]
    local = configs.get("CreateEndpointConfigOnLocalStorageWithinGuardrails")
    assert (local is not None) == (team == "vision")  # vision hosts on g5, which has local storage
    creates = {s["Sid"]: s for s in statements_with(template, "sagemaker:CreateEndpoint")}
    assert creates["CreateEndpointForTheTeam"]["Condition"] == {"StringEquals": {"aws:RequestTag/tunestack:team": team}}
    assert creates["CreateEndpointFromTheTeamsConfig"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/tunestack:team": team}
    }
    (update,) = statements_with(template, "sagemaker:UpdateEndpoint")
    assert update["Condition"] == {"StringEquals": {"aws:ResourceTag/tunestack:team": team}}
    (alarms,) = statements_with(template, "cloudwatch:PutMetricAlarm")
    assert f":alarm:tunestack-{team}-*" in json.dumps(alarms["Resource"])


@pytest.mark.parametrize("team", TEAMS)
def test_endpoint_state_changes_complete_the_wait(pipelines_templates: dict[str, Template], team: str) -> None:
    rules = pipelines_templates[team].find_resources("AWS::Events::Rule")
    (rule,) = [
        r
        for r in rules.values()
        if r["Properties"]["EventPattern"]["detail-type"] == ["SageMaker Endpoint State Change"]
    ]
    assert set(rule["Properties"]["EventPattern"]["detail"]["EndpointStatus"]) == {
        "IN_SERVICE",
        "FAILED",
        "InService",
        "Failed",
    }
