"""A failure's cause, in the console and in the notice, is one line per problem: no Lambda
envelope, no stack trace, whatever shape Step Functions handed the failure path."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.conftest import Synthesized
from tests.runtime.test_fine_tune_input import POLICY
from tests.simulator.conftest import example
from tunestack.constructs.waiting_pipeline import SUCCESS_NOTICE
from tunestack.simulator.harness import Simulator
from tunestack.simulator.scenarios import SCENARIOS
from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.failure_causes import MAX_CAUSE, cause_lines, describe, notice
from tunestack_runtime.fine_tune_input import validate_fine_tune_input

PROBLEMS = "$.ModelName: required\n$.Epochs: unknown field"
#: What the Python runtime returns for an unhandled exception ("AWS Lambda function errors in
#: Python", Lambda Developer Guide): errorMessage, errorType, requestId, stackTrace.
ENVELOPE = {
    "errorMessage": PROBLEMS,
    "errorType": "InvalidInput",
    "requestId": "3f6f1b2e-8a8c-4f7e-9b1a-0f5d2c1e4a77",
    "stackTrace": [
        '  File "/var/task/tunestack_runtime/handlers/fine_tune.py", line 34, in validate\n'
        "    request = validate_fine_tune_input(event['Input'], policy)\n"
    ],
}


def test_a_lambda_envelope_becomes_its_message_lines() -> None:
    described = describe({"Error": "InvalidInput", "Cause": json.dumps(ENVELOPE)})
    assert described == {"Error": "InvalidInput", "Cause": PROBLEMS}


def test_a_send_task_failure_cause_is_kept_as_its_lines() -> None:
    reason = "AlgorithmError: CUDA out of memory. Tried to allocate 2.00 GiB"
    assert describe({"Error": "TrainingJobFailed", "Cause": reason}) == {"Error": "TrainingJobFailed", "Cause": reason}
    assert describe({"Error": "X", "Cause": "first\n\n  second  \n"})["Cause"] == "first\nsecond"


def test_a_states_error_without_a_cause_says_so() -> None:
    assert describe({"Error": "States.Timeout"}) == {
        "Error": "States.Timeout",
        "Cause": "States.Timeout (Step Functions gave no cause)",
    }
    assert describe({"Error": "States.Timeout", "Cause": None})["Cause"].startswith("States.Timeout")


def test_a_nested_executions_failure_names_it_and_its_described_cause() -> None:
    arn = "arn:aws:states:us-east-1:123456789012:execution:tunestack-nlp-deploy:fine-tune-x-1a2b3c4d5e6f"
    nested = {"ExecutionArn": arn, "Status": "FAILED", "Error": "EndpointFailed", "Cause": "line one\nline two"}
    assert describe({"Error": "DeployFailed", "Cause": json.dumps(nested)})["Cause"].split("\n") == [
        f"{arn} failed with EndpointFailed",
        "line one",
        "line two",
    ]
    # The same description as an older ``.sync`` integration spells it.
    camel = {"executionArn": arn, "status": "FAILED", "error": "EndpointFailed", "cause": json.dumps(ENVELOPE)}
    assert cause_lines("DeployFailed", json.dumps(camel)) == [
        f"{arn} failed with EndpointFailed",
        *PROBLEMS.split("\n"),
    ]


def test_json_that_is_no_known_shape_is_kept_and_a_long_cause_is_cut() -> None:
    assert describe({"Error": "E", "Cause": '{"unexpected": 1}'})["Cause"] == '{"unexpected": 1}'
    long = describe({"Error": "E", "Cause": "x" * (MAX_CAUSE + 10)})["Cause"]
    assert len(long) == MAX_CAUSE and long.endswith("cause may hold)")


def test_the_notice_carries_the_described_cause() -> None:
    message = json.loads(
        notice("arn:aws:states:...:execution:m:e", describe({"Error": "InvalidInput", "Cause": json.dumps(ENVELOPE)}))
    )
    assert message == {"Execution": "arn:aws:states:...:execution:m:e", "Error": "InvalidInput", "Cause": PROBLEMS}


# Through the simulator: the real synthesized machine, its functions in-process, moto's interpreter.
@pytest.fixture(scope="module")
def nlp(synthesized: Synthesized) -> Simulator:
    return Simulator(synthesized.outdir, synthesized.teams["nlp"].team)


@pytest.fixture(scope="module")
def vision(synthesized: Synthesized) -> Simulator:
    return Simulator(synthesized.outdir, synthesized.teams["vision"].team)


def invalid_payload() -> dict[str, Any]:
    payload, _ = example("fine-tune-text")
    payload = {k: v for k, v in payload.items() if k != "ModelName"}
    return {**payload, "Epochs": 3, "InstanceType": "ml.g4dn.xlarge", "MaxRuntimeInSeconds": 3600}


def test_an_invalid_input_fails_with_exactly_its_problem_lines_and_notifies_them(nlp: Simulator) -> None:
    payload = invalid_payload()
    with pytest.raises(InvalidInput) as raised:
        validate_fine_tune_input(payload, POLICY)
    problems = str(raised.value)
    assert len(problems.split("\n")) >= 2  # several problems, one line each

    result = nlp.run("fine-tune", payload, "success")
    assert result.status == "FAILED" and result.error == "InvalidInput"
    assert result.cause == problems
    assert result.states == ["Validate input and dataset", "Notify the team", "Fine-tune failed"]
    (sent,) = result.notifications
    assert sent["subject"] == "tunestack fine-tune failed"
    assert sent["message"]["Error"] == "InvalidInput" and sent["message"]["Cause"] == problems
    assert sent["message"]["Execution"].startswith("arn:aws:states:")
    text = json.dumps(sent["message"])
    assert "stackTrace" not in text and "errorType" not in text and "errorMessage" not in text


def test_a_job_failure_keeps_sagemakers_reason_as_its_cause(vision: Simulator) -> None:
    payload, data = example("fine-tune-text")
    result = vision.run("fine-tune", payload, "job-failure", data_dir=data)
    assert result.error == "TrainingJobFailed"
    assert result.cause == SCENARIOS["job-failure"].failure_reason
    (sent,) = result.notifications
    assert sent["message"]["Cause"] == result.cause


# On the synthesized templates: every machine's Fail state reads what the function described.
def machine_definitions(template: Template) -> dict[str, dict[str, Any]]:
    found = {}
    for logical_id, machine in template.find_resources("AWS::StepFunctions::StateMachine").items():
        parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
        text = "".join(p if isinstance(p, str) else json.dumps(p).replace('"', "'") for p in parts)
        found[logical_id] = json.loads(text)
    return found


@pytest.mark.parametrize("team", ["vision", "nlp"])
def test_every_machine_fails_with_the_described_cause(pipelines_templates: dict[str, Template], team: str) -> None:
    template = pipelines_templates[team]
    (describer,) = [
        k
        for k, f in template.find_resources("AWS::Lambda::Function").items()
        if f["Properties"]["Handler"] == "tunestack_runtime.handlers.failure.describe"
    ]
    definitions = machine_definitions(template)
    assert len(definitions) == 3
    for machine, definition in definitions.items():
        states = definition["States"]
        notify = states["Notify the team"]
        assert describer in notify["Resource"], machine  # the describing function, invoked directly
        assert notify["Parameters"] == {
            "Error.$": "$.Error",
            "Execution.$": "$$.Execution.Id",
            "Subject": notify["Parameters"]["Subject"],
        }
        assert notify["ResultPath"] == "$.Failure"
        fail = states[notify["Next"]]
        assert fail == {"Type": "Fail", "ErrorPath": "$.Failure.Error", "CausePath": "$.Failure.Cause"}, machine
        (catch,) = notify["Catch"]
        fallback = states[catch["Next"]]
        assert catch["ErrorEquals"] == ["States.ALL"] and fallback["CausePath"] == "$.Error.Cause"
        # No raw cause reaches the end of a run any other way.
        raw = [n for n, s in states.items() if s["Type"] == "Fail" and s.get("CausePath") == "$.Error.Cause"]
        assert raw == [catch["Next"]], machine
        # The machine publishes nothing itself but a success notice (a team with notifyOnSuccess),
        # which carries no cause: a failure is only ever told through the describing function.
        published = [n for n, s in states.items() if s.get("Resource", "").endswith(":states:::sns:publish")]
        assert published == ([SUCCESS_NOTICE] if team == "vision" else []), machine
        assert all("Cause" not in str(states[n]["Parameters"]) for n in published)
    (function,) = [f for k, f in template.find_resources("AWS::Lambda::Function").items() if k == describer]
    assert "FAILURE_TOPIC_ARN" in function["Properties"]["Environment"]["Variables"]
