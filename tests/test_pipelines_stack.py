"""The pipelines stack: state machine settings, wait mechanism, events and guardrails in IAM."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.test_foundation_stack import as_list, only, policy_statements

TEAMS = ["vision", "nlp"]


def state_machine(template: Template, pipeline: str = "FineTune") -> dict[str, Any]:
    """The state machine of one pipeline ("FineTune", "Tune")."""
    (found,) = [
        m for k, m in template.find_resources("AWS::StepFunctions::StateMachine").items() if k.startswith(pipeline)
    ]
    return found


def definition(template: Template, pipeline: str = "FineTune") -> dict[str, Any]:
    """The state machine definition with every intrinsic replaced by a placeholder string."""
    parts = state_machine(template, pipeline)["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "INTRINSIC" for p in parts))


def statements_with(template: Template, action: str) -> list[dict[str, Any]]:
    return [s for s in policy_statements(template) if action in as_list(s["Action"])]


@pytest.mark.parametrize("team", TEAMS)
@pytest.mark.parametrize("pipeline", ["FineTune", "Tune"])
def test_state_machines_are_standard_logged_and_traced(
    pipelines_templates: dict[str, Template], team: str, pipeline: str
) -> None:
    template = pipelines_templates[team]
    props = state_machine(template, pipeline)["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is True
    group_id = props["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][
        0
    ]
    assert "KmsKeyId" in template.find_resources("AWS::Logs::LogGroup")[group_id]["Properties"]


@pytest.mark.parametrize("team", TEAMS)
def test_launch_waits_on_a_task_token_with_a_timeout_from_the_job(
    pipelines_templates: dict[str, Template], team: str
) -> None:
    states = definition(pipelines_templates[team])["States"]
    launch = states["Train (waits for SageMaker)"]
    assert launch["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
    assert launch["Parameters"]["Payload"]["TaskToken.$"] == "$$.Task.Token"
    assert launch["TimeoutSecondsPath"] == "$.Launch.TaskTimeoutSeconds"
    catches = {tuple(c["ErrorEquals"]): c["Next"] for c in launch["Catch"]}
    assert catches[("States.Timeout",)] == "Reconcile after timeout"
    assert catches[("States.ALL",)] == "Notify the team"
    # No Wait state, no polling loop: the history does not grow with the job's duration.
    assert not [s for s in states.values() if s["Type"] == "Wait"]
    assert {n for n, s in states.items() if s["Type"] == "Choice"} == {"Register the model?", "Deploy requested?"}


@pytest.mark.parametrize("team", TEAMS)
def test_tasks_retry_transient_errors_with_jitter_and_never_input_errors(
    pipelines_templates: dict[str, Template], team: str
) -> None:
    states = definition(pipelines_templates[team])["States"]
    for name in ("Validate input and dataset", "Train (waits for SageMaker)", "Reconcile after timeout"):
        retries = states[name]["Retry"]
        transient = retries[0]
        assert "Lambda.ServiceException" in transient["ErrorEquals"]
        assert "SageMakerThrottled" in transient["ErrorEquals"]
        assert transient["JitterStrategy"] == "FULL" and transient["BackoffRate"] == 2
        # A quota in use is retried slowly, about an hour and a half at most; a quota that can
        # never fit the request (ResourceLimitExceeded) is not retried at all.
        assert retries[1]["ErrorEquals"] == ["SageMakerQuotaInUse"] and retries[1]["MaxAttempts"] == 6
        retried = {e for r in retries for e in r["ErrorEquals"]}
        assert not retried & {
            "InvalidInput",
            "PolicyViolation",
            "InvalidDataset",
            "States.ALL",
            "TrainingJobFailed",
            "ResourceLimitExceeded",
        }


@pytest.mark.parametrize("team", TEAMS)
def test_the_first_state_replaces_the_input_with_its_plan(pipelines_templates: dict[str, Template], team: str) -> None:
    """The state carries the request built from the input, never the input beside it."""
    for pipeline, name in (
        ("FineTune", "Validate input and dataset"),
        ("Tune", "Validate input and warm start"),
        ("Deploy", "Validate input and model"),
    ):
        validate = definition(pipelines_templates[team], pipeline)["States"][name]
        assert validate["ResultSelector"] == {"Launch.$": "$"} and validate["ResultPath"] == "$"
        assert validate["Parameters"]["ExecutionStartTime.$"] == "$$.Execution.StartTime"


@pytest.mark.parametrize("team", TEAMS)
def test_every_function_that_names_or_adopts_knows_the_run(pipelines_templates: dict[str, Template], team: str) -> None:
    states = definition(pipelines_templates[team])["States"]
    for name in ("Train (waits for SageMaker)", "Reconcile after timeout"):
        payload = states[name]["Parameters"].get("Payload", states[name]["Parameters"])
        assert payload["ExecutionArn.$"] == "$$.Execution.Id"
        assert payload["ExecutionStartTime.$"] == "$$.Execution.StartTime"
    launch = states["Train (waits for SageMaker)"]["Parameters"]["Payload"]
    assert launch["TaskTimeoutSeconds.$"] == "$.Launch.TaskTimeoutSeconds"  # the token lives as long


@pytest.mark.parametrize("team", TEAMS)
def test_failures_notify_then_fail_with_the_reason(pipelines_templates: dict[str, Template], team: str) -> None:
    states = definition(pipelines_templates[team])["States"]
    # The failure is described in readable lines and published by one function (test_failure_causes.py).
    assert states["Notify the team"]["Type"] == "Task" and states["Notify the team"]["ResultPath"] == "$.Failure"
    assert states["Notify the team"]["Next"] == "Fine-tune failed"
    assert states["Fine-tune failed"] == {
        "Type": "Fail",
        "ErrorPath": "$.Failure.Error",
        "CausePath": "$.Failure.Cause",
    }
    _, topic = only(pipelines_templates[team], "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic["Properties"]


@pytest.mark.parametrize("team", TEAMS)
def test_state_change_rules_drive_completion_and_stopping(pipelines_templates: dict[str, Template], team: str) -> None:
    template = pipelines_templates[team]
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Training Job State Change"],
                "detail": {
                    "TrainingJobStatus": ["Completed", "Failed", "Stopped"],
                    "Tags": {"tunestack:team": [team], "tunestack:pipeline": ["fine-tune"]},
                },
            },
            "Targets": [Match.object_like({"DeadLetterConfig": Match.any_value(), "RetryPolicy": Match.any_value()})],
        },
    )
    # Every end but success stops what the execution still waited on: FAILED too (a launch that
    # died after its create call, an error no Catch takes).
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {"source": ["aws.states"], "detail": Match.object_like({"status": ["FAILED", "ABORTED", "TIMED_OUT"]})}
            )
        },
    )


def sagemaker_rules(template: Template) -> dict[str, dict[str, Any]]:
    """Event pattern by detail-type, for the rules on SageMaker's state changes."""
    rules = template.find_resources("AWS::Events::Rule").values()
    patterns = [r["Properties"]["EventPattern"] for r in rules]
    return {p["detail-type"][0]: p for p in patterns if p["source"] == ["aws.sagemaker"]}


def sagemaker_event(detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {"source": "aws.sagemaker", "detail-type": detail_type, "detail": detail}


@pytest.mark.parametrize("team", TEAMS)
def test_rules_match_only_the_teams_own_jobs_that_a_pipeline_waits_on(
    pipelines_templates: dict[str, Template], team: str
) -> None:
    """Events as SageMaker documents them (``detail.Tags``, a map): other teams' jobs, untagged
    jobs and the trials of tuning jobs (which carry their tuning job's tags) invoke nothing."""
    from tunestack.simulator.deployment import matches

    rules = sagemaker_rules(pipelines_templates[team])
    training, tuning = "SageMaker Training Job State Change", "SageMaker HyperParameter Tuning Job State Change"
    endpoint = "SageMaker Endpoint State Change"

    def tags(owner: str, pipeline: str) -> dict[str, str]:
        return {"tunestack:team": owner, "tunestack:pipeline": pipeline, "tunestack:execution": "arn:x"}

    fine_tune_job = {"TrainingJobName": "m", "TrainingJobStatus": "Completed", "Tags": tags(team, "fine-tune")}
    assert matches(rules[training], sagemaker_event(training, fine_tune_job))
    for other in (
        {**fine_tune_job, "Tags": tags("someoneelse", "fine-tune")},
        {**fine_tune_job, "Tags": {}},
        {**fine_tune_job, "TrainingJobName": "t-001-ab12cd34", "Tags": tags(team, "tune")},  # a trial
        {**fine_tune_job, "TrainingJobStatus": "InProgress"},
    ):
        assert not matches(rules[training], sagemaker_event(training, other)), other
    tuning_job = {
        "HyperParameterTuningJobName": "t",
        "HyperParameterTuningJobStatus": "Stopped",
        "Tags": tags(team, "tune"),
    }
    assert matches(rules[tuning], sagemaker_event(tuning, tuning_job))
    assert not matches(rules[tuning], sagemaker_event(tuning, {**tuning_job, "Tags": tags("someoneelse", "tune")}))
    serving = {"EndpointName": "e", "EndpointStatus": "IN_SERVICE", "Tags": {"tunestack:team": team}}
    assert matches(rules[endpoint], sagemaker_event(endpoint, serving))  # also one created before the pipeline tag
    assert not matches(rules[endpoint], sagemaker_event(endpoint, {**serving, "Tags": {}}))


@pytest.mark.parametrize("team", TEAMS)
def test_token_table_is_encrypted_recoverable_and_expiring(pipelines_templates: dict[str, Template], team: str) -> None:
    _, table = only(pipelines_templates[team], "AWS::DynamoDB::Table")
    props = table["Properties"]
    assert props["SSESpecification"]["SSEEnabled"] is True and "KMSMasterKeyId" in props["SSESpecification"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ExpiresAt", "Enabled": True}


@pytest.mark.parametrize("team", TEAMS)
def test_create_training_job_is_held_to_the_team_guardrails(
    pipelines_templates: dict[str, Template], team: str
) -> None:
    statements = {s["Sid"]: s for s in statements_with(pipelines_templates[team], "sagemaker:CreateTrainingJob")}
    assert set(statements) == {"CreateTrainingJobWithinGuardrails", "CreateTrainingJobOnLocalStorageWithinGuardrails"}
    conditions = statements["CreateTrainingJobWithinGuardrails"]["Condition"]
    all_values = conditions["ForAllValues:StringEquals"]
    assert {"sagemaker:VpcSubnets", "sagemaker:VpcSecurityGroupIds", "sagemaker:InstanceTypes"} <= set(all_values)
    assert (
        all_values["sagemaker:InstanceTypes"]
        == {
            "vision": [
                "ml.p3.2xlarge",
                "ml.p3.8xlarge",
                "ml.g5.2xlarge",
                "ml.g5.12xlarge",
                "ml.g5.48xlarge",
                "ml.m5.xlarge",
            ],
            "nlp": ["ml.g4dn.xlarge", "ml.g5.xlarge", "ml.m5.xlarge", "ml.m5.2xlarge"],
        }[team]
    )
    equals = conditions["StringEquals"]
    assert equals["aws:RequestTag/tunestack:team"] == team
    keys = conditions["ArnEquals"]
    assert keys["sagemaker:VolumeKmsKey"] == keys["sagemaker:OutputKmsKey"]
    assert conditions["Null"] == {
        "sagemaker:VpcSubnets": "false",
        "sagemaker:VpcSecurityGroupIds": "false",
        "sagemaker:InstanceTypes": "false",
        "sagemaker:MaxRuntimeInSeconds": "false",
        "sagemaker:NetworkIsolation": "false",
    }
    # vision requires network isolation; nlp (networkIsolation: algorithm) lets each algorithm say.
    isolation = {"vision": {"sagemaker:NetworkIsolation": "true"}, "nlp": {}}[team]
    assert conditions["Bool"] == {"sagemaker:InterContainerTrafficEncryption": "true", **isolation}
    limit = {"vision": "2419200", "nlp": "86400"}[team]
    assert conditions["NumericLessThanEquals"] == {"sagemaker:MaxRuntimeInSeconds": limit}


@pytest.mark.parametrize("team", TEAMS)
def test_pass_role_only_the_team_role_only_to_sagemaker(pipelines_templates: dict[str, Template], team: str) -> None:
    passing = statements_with(pipelines_templates[team], "iam:PassRole")
    assert len(passing) == 3  # the fine-tune and tune launches, the deploy's model
    for statement in passing:
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
        # The team role, imported from the foundation's export: one ARN, no wildcard.
        assert statement["Resource"] == {"Fn::ImportValue": f"tunestack-{team}-platform-role-arn"}


@pytest.mark.parametrize("team", TEAMS)
def test_describe_and_stop_are_scoped_to_the_team_tag(pipelines_templates: dict[str, Template], team: str) -> None:
    for action in (
        "sagemaker:DescribeTrainingJob",
        "sagemaker:StopTrainingJob",
        "sagemaker:DescribeHyperParameterTuningJob",
        "sagemaker:StopHyperParameterTuningJob",
        "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
    ):
        assert statements_with(pipelines_templates[team], action)
        for statement in statements_with(pipelines_templates[team], action):
            assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/tunestack:team": team}}


@pytest.mark.parametrize("team", TEAMS)
def test_no_wildcard_sagemaker_actions_and_no_managed_policies(
    pipelines_templates: dict[str, Template], team: str
) -> None:
    template = pipelines_templates[team]
    actions = [a for s in policy_statements(template) for a in as_list(s["Action"])]
    assert not [a for a in actions if a.startswith("sagemaker:") and "*" in a]
    for role in template.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


@pytest.mark.parametrize("team", TEAMS)
def test_functions_share_one_asset_and_the_public_powertools_layer(
    pipelines_templates: dict[str, Template], team: str
) -> None:
    functions = pipelines_templates[team].find_resources("AWS::Lambda::Function")
    # fine-tune 6, tune 7 (each with its register step), deploy 6, the failure notices 1; and nlp's
    # approval function (cdk.json: nlp deploys approved versions of nlp-production)
    assert len(functions) == {"vision": 20, "nlp": 21}[team]
    assert len({json.dumps(f["Properties"]["Code"]) for f in functions.values()}) == 1
    for function in functions.values():
        props = function["Properties"]
        assert "017000801446:layer:AWSLambdaPowertoolsPythonV3" in json.dumps(props["Layers"])
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert "KmsKeyArn" in props
        assert props["Handler"].split(".")[:3] in (
            ["tunestack_runtime", "handlers", "fine_tune"],
            ["tunestack_runtime", "handlers", "tune"],
            ["tunestack_runtime", "handlers", "deploy"],
            ["tunestack_runtime", "handlers", "failure"],
            ["tunestack_runtime", "handlers", "shared"],
            ["tunestack_runtime", "handlers", "registry"],
        )


def test_pipelines_import_the_foundation_values_never_from_ssm(pipelines_templates: dict[str, Template]) -> None:
    """The guardrail values come from exports only the foundation stack writes, not from SSM
    parameters anyone allowed ssm:PutParameter could rewrite before the next deploy."""
    template = pipelines_templates["nlp"].to_json()
    parameters = [p for p in template.get("Parameters", {}).values() if "SSM" in p["Type"] and "/platform/" in str(p)]
    assert parameters == []
    text = json.dumps(template)
    for field in ("bucket-name", "key-arn", "role-arn", "subnet-ids", "security-group-ids"):
        assert f'{{"Fn::ImportValue": "tunestack-nlp-platform-{field}"}}' in text


@pytest.mark.parametrize("team", TEAMS)
def test_the_state_machine_can_encrypt_what_it_publishes(pipelines_templates: dict[str, Template], team: str) -> None:
    template = pipelines_templates[team]
    _, topic = only(template, "AWS::SNS::Topic")
    key = topic["Properties"]["KmsMasterKeyId"]
    statements = [
        s
        for k, p in template.find_resources("AWS::IAM::Policy").items()
        if "StateMachine" in k
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    kms = [s for s in statements if "kms:GenerateDataKey" in as_list(s["Action"])]
    assert kms and kms[0]["Resource"] == key


@pytest.mark.parametrize("team", TEAMS)
def test_dead_letter_queue_is_encrypted_so_eventbridge_can_deliver(
    pipelines_templates: dict[str, Template], team: str
) -> None:
    _, queue = only(pipelines_templates[team], "AWS::SQS::Queue")
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert "KmsMasterKeyId" not in queue["Properties"]


@pytest.mark.parametrize("team", TEAMS)
def test_state_machines_are_named_for_the_team_and_what_they_do(
    pipelines_templates: dict[str, Template], team: str
) -> None:
    machines = pipelines_templates[team].find_resources("AWS::StepFunctions::StateMachine")
    names = sorted(m["Properties"]["StateMachineName"] for m in machines.values())
    assert names == [f"tunestack-{team}-deploy", f"tunestack-{team}-fine-tune", f"tunestack-{team}-tune"]


@pytest.mark.parametrize("team", TEAMS)
@pytest.mark.parametrize("pipeline", ["FineTune", "Tune"])
def test_the_register_step_gets_the_plans_registration_and_reports_the_version(
    pipelines_templates: dict[str, Template], team: str, pipeline: str
) -> None:
    states = definition(pipelines_templates[team], pipeline)["States"]
    (rule,) = states["Register the model?"]["Choices"]
    present = {"Variable": "$.Launch.Register", "IsPresent": True}
    assert present in rule.get("And", [{k: v for k, v in rule.items() if k != "Next"}])
    register = states["Register model version"]
    assert register["Parameters"]["Register.$"] == "$.Launch.Register"
    assert register["Parameters"]["Pipeline"] == {"FineTune": "fine-tune", "Tune": "tune"}[pipeline]
    assert register["ResultPath"] == {"FineTune": "$.Result", "Tune": "$.Analysis"}[pipeline] + ".Registered"
    assert "SageMakerThrottled" in {e for r in register["Retry"] for e in r["ErrorEquals"]}
    assert [c["Next"] for c in register["Catch"]] == ["Notify the team"]


@pytest.mark.parametrize("team", TEAMS)
def test_only_a_team_that_deploys_on_approval_has_the_approval_rule(
    pipelines_templates: dict[str, Template], team: str
) -> None:
    rules = [
        r["Properties"]["EventPattern"]
        for r in pipelines_templates[team].find_resources("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("detail-type") == ["SageMaker Model Package State Change"]
    ]
    if team == "vision":
        assert rules == []
        return
    (pattern,) = rules
    assert pattern["detail"] == {"ModelApprovalStatus": ["Approved"], "ModelPackageGroupName": ["nlp-production"]}
    (function,) = [
        f
        for f in pipelines_templates[team].find_resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "tunestack_runtime.handlers.registry.on_approval"
    ]
    assert "Ref" in function["Properties"]["Environment"]["Variables"]["DEPLOY_STATE_MACHINE_ARN"]
