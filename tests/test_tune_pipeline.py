"""The tune state machine, its permissions, events and dashboard in the synthesized templates."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.test_foundation_stack import as_list, policy_statements
from tests.test_pipelines_stack import TEAMS, definition, statements_with


def states(template: Template) -> dict[str, Any]:
    return definition(template, "Tune")["States"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("team", TEAMS)
def test_tune_waits_once_then_analyses(pipelines_templates: dict[str, Template], team: str) -> None:
    machine = states(pipelines_templates[team])
    launch = machine["Tune (waits for SageMaker)"]
    assert launch["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
    assert launch["TimeoutSecondsPath"] == "$.Launch.TaskTimeoutSeconds"
    assert launch["Next"] == "Analyse the training jobs"
    catches = {tuple(c["ErrorEquals"]): c["Next"] for c in launch["Catch"]}
    assert catches == {("States.Timeout",): "Reconcile after timeout", ("States.ALL",): "Notify the team"}
    assert machine["Reconcile after timeout"]["Next"] == "Analyse the training jobs"
    assert machine["Analyse the training jobs"]["Next"] == "Register the model?"
    # The best model is registered (when the input asks) only from a completed tuning job.
    (register,) = machine["Register the model?"]["Choices"]
    assert register["And"] == [
        {"Variable": "$.Launch.Register", "IsPresent": True},
        {"Variable": "$.Analysis.TuningJobStatus", "StringEquals": "Completed"},
    ]
    assert (
        register["Next"] == "Register model version"
        and machine["Register the model?"]["Default"] == "Deploy requested?"
    )
    assert machine["Deploy requested?"]["Default"] == "Report the best model"
    # A tuning job a person stopped is analysed but never deployed.
    (deploy,) = machine["Deploy requested?"]["Choices"]
    assert deploy["And"] == [
        {"Variable": "$.Launch.DeployBest", "IsPresent": True},
        {"Variable": "$.Analysis.TuningJobStatus", "StringEquals": "Completed"},
    ]
    assert machine["Notify the team"]["Next"] == "Tune failed"
    # No Wait, no polling loop; the Choices only decide whether to register and to deploy.
    assert not [s for s in machine.values() if s["Type"] in {"Wait", "Map"}]
    assert {n for n, s in machine.items() if s["Type"] == "Choice"} == {"Register the model?", "Deploy requested?"}
    for name in ("Validate input and warm start", "Tune (waits for SageMaker)", "Analyse the training jobs"):
        retried = {e for r in machine[name]["Retry"] for e in r["ErrorEquals"]}
        assert "SageMakerThrottled" in retried and not retried & {"InvalidInput", "TuningJobFailed", "States.ALL"}


@pytest.mark.parametrize("team", TEAMS)
def test_create_tuning_job_is_held_to_the_team_guardrails(pipelines_templates: dict[str, Template], team: str) -> None:
    found = {s["Sid"]: s for s in statements_with(pipelines_templates[team], "sagemaker:CreateHyperParameterTuningJob")}
    local = found.pop("CreateHyperParameterTuningJobOnLocalStorageWithinGuardrails")
    assert local["Condition"]["Null"]["sagemaker:VolumeKmsKey"] == "true"  # request evaluation: test_guardrail_requests
    (statement,) = found.values()
    assert ":hyper-parameter-tuning-job/*" in json.dumps(statement["Resource"])
    conditions = statement["Condition"]
    assert set(conditions["ForAllValues:StringEquals"]) == {
        "sagemaker:VpcSubnets",
        "sagemaker:VpcSecurityGroupIds",
        "sagemaker:InstanceTypes",
    }
    assert conditions["StringEquals"]["aws:RequestTag/tunestack:team"] == team
    assert set(conditions["ArnEquals"]) == {"sagemaker:VolumeKmsKey", "sagemaker:OutputKmsKey"}
    assert set(conditions["Null"]) == {
        *conditions["ForAllValues:StringEquals"],
        "sagemaker:MaxRuntimeInSeconds",
        "sagemaker:NetworkIsolation",
    }
    isolation = {"vision": {"sagemaker:NetworkIsolation": "true"}, "nlp": {}}[team]
    assert conditions["Bool"] == {"sagemaker:InterContainerTrafficEncryption": "true", **isolation}


@pytest.mark.parametrize("team", TEAMS)
def test_tuning_state_changes_complete_the_wait(pipelines_templates: dict[str, Template], team: str) -> None:
    pipelines_templates[team].has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker HyperParameter Tuning Job State Change"],
                "detail": {
                    "HyperParameterTuningJobStatus": ["Completed", "Failed", "Stopped"],
                    "Tags": {"tunestack:team": [team], "tunestack:pipeline": ["tune"]},
                },
            }
        },
    )
    rules = pipelines_templates[team].find_resources("AWS::Events::Rule")
    stopping = [r for r in rules.values() if r["Properties"]["EventPattern"]["source"] == ["aws.states"]]
    machines = {json.dumps(r["Properties"]["EventPattern"]["detail"]["stateMachineArn"]) for r in stopping}
    assert len(stopping) == 3 and len(machines) == 3  # one per state machine


@pytest.mark.parametrize("team", TEAMS)
def test_wildcard_resources_are_only_where_aws_has_no_resource_level_permissions(
    pipelines_templates: dict[str, Template], team: str
) -> None:
    starred = {
        a for s in policy_statements(pipelines_templates[team]) if s["Resource"] == "*" for a in as_list(s["Action"])
    }
    # X-Ray and Step Functions' log delivery have no resource-level permissions either.
    assert {a for a in starred if not a.startswith(("xray:", "logs:"))} == {
        "sagemaker:Search",  # "Auto" warm start, filtered on the team tag by SageMaker
        "cloudwatch:PutMetricData",
        "sagemaker:ListModelPackages",  # the register step finds its own version (no resource types)
    }
    (metrics,) = statements_with(pipelines_templates[team], "cloudwatch:PutMetricData")
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": f"tunestack/{team}/Tuning"}}


@pytest.mark.parametrize("team", TEAMS)
def test_analysis_writes_only_under_the_tuning_prefix(pipelines_templates: dict[str, Template], team: str) -> None:
    policies = pipelines_templates[team].find_resources("AWS::IAM::Policy")
    (put,) = [
        s
        for logical_id, p in policies.items()
        if logical_id.startswith("TuneAnalyseRole")
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "s3:PutObject" in as_list(s["Action"])
    ]
    assert "/tuning/*" in json.dumps(put["Resource"])


@pytest.mark.parametrize("team", TEAMS)
def test_the_team_dashboard_plots_its_best_objectives(pipelines_templates: dict[str, Template], team: str) -> None:
    (dashboard,) = pipelines_templates[team].find_resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "BestObjective" in body and f'Team=\\\\\\"{team}\\\\\\"' in body
    assert f"tunestack/{team}/Tuning" in body
    pipelines_templates[team].has_resource_properties(
        "AWS::CloudWatch::Dashboard", {"DashboardBody": Match.any_value()}
    )
