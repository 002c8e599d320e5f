"""Every scenario through the real synthesized fine-tune state machine, offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock
from urllib.parse import unquote_plus

import pytest

from tests.simulator.conftest import example
from tunestack.constructs.waiting_pipeline import SUCCESS_NOTICE
from tunestack.simulator.harness import SimulationResult, Simulator
from tunestack.simulator.scenarios import FAULT_MATRIX, LIFECYCLE, REGISTRY, SCENARIOS, scenarios_for
from tunestack_runtime import console_links

#: This kind's own scenarios; the shared faults are played in test_fault_matrix.py, the job
#: lifecycle's in test_lifecycle_scenarios.py, the registry's in test_registry_scenarios.py.
PLAYED = [s for s in scenarios_for("fine-tune") if s not in {*FAULT_MATRIX, *LIFECYCLE, *REGISTRY}]
#: vision, the team these scenarios run as, is told of successes (cdk.json ``notifyOnSuccess``).
HAPPY_STATES = [
    "Validate input and dataset",
    "Train (waits for SageMaker)",
    "Register the model?",
    "Deploy requested?",
    "Report the model",
    SUCCESS_NOTICE,
]
OUTPUT_FIELDS = {
    "ParentModel",
    "TrainingJobName",
    "TrainingJobArn",
    "TrainingTimeSeconds",
    "BillableTimeSeconds",
    "ModelArtifacts",
    "Dataset",
    "Links",
}


def run(simulator: Simulator, scenario: str, name: str = "fine-tune-text") -> SimulationResult:
    payload, data = example(name)
    return simulator.run("fine-tune", payload, scenario, data_dir=data)


@contextmanager
def accepted_creates() -> Iterator[list[dict[str, Any]]]:
    """The CreateTrainingJob requests the simulated SageMaker accepted, as they reached it."""
    from moto.sagemaker.responses import SageMakerResponse

    original = SageMakerResponse.create_training_job
    accepted: list[dict[str, Any]] = []

    def create(self: Any) -> Any:
        response = original(self)  # raises what SageMaker rejects
        accepted.append(json.loads(self.body))
        return response

    with mock.patch.object(SageMakerResponse, "create_training_job", create):
        yield accepted


@pytest.fixture(scope="module")
def accepted() -> dict[str, list[dict[str, Any]]]:
    """Scenario -> the CreateTrainingJob requests SageMaker accepted while ``results`` ran it."""
    return {}


@pytest.fixture(scope="module")
def results(vision: Simulator, accepted: dict[str, list[dict[str, Any]]]) -> dict[str, SimulationResult]:
    played = {}
    for name in PLAYED:
        with accepted_creates() as creates:
            played[name] = run(vision, name)
        accepted[name] = creates
    return played


def test_every_scenario_creates_the_training_job_exactly_once(results: dict[str, SimulationResult]) -> None:
    assert {name: r.sagemaker_calls.get("CreateTrainingJob") for name, r in results.items()} == {
        name: 1 for name in PLAYED
    }
    assert all(r.simulated for r in results.values())


def test_no_scenario_leaves_a_job_running_that_no_execution_owns(results: dict[str, SimulationResult]) -> None:
    assert {name: r.jobs_left_running for name, r in results.items() if r.jobs_left_running} == {}


def test_success_reports_the_model(results: dict[str, SimulationResult]) -> None:
    result = results["success"]
    assert result.status == "SUCCEEDED"
    assert result.states == HAPPY_STATES
    assert set(result.output) == OUTPUT_FIELDS
    assert result.output["ParentModel"] == "huggingface-tc-bert-base-cased@3.0.6"
    assert result.output["TrainingJobName"] == "news-sentiment-bert"
    assert result.output["ModelArtifacts"] == (
        "s3://tunestack-vision-data-simulated/news-sentiment-bert/output/model.tar.gz"
    )
    assert result.output["TrainingTimeSeconds"] == 3600
    assert result.output["Dataset"] == {
        "Source": "s3://tunestack-vision-data-simulated/datasets/news-sentiment/",
        "Checked": True,
        "Layout": "text classification",
        "Format": "https://docs.aws.amazon.com/sagemaker/latest/dg/text-classification-tensorflow-inputoutput.html",
        "Rows": 120,
        "Labels": 2,
        "Sampled": False,
    }
    # One notice, the success's: the execution, the report's key fields and the links of this run.
    (notice,) = result.notifications
    message = notice["message"]
    assert notice["subject"] == "tunestack vision fine-tune succeeded"
    execution = message["Execution"]
    assert execution.startswith("arn:aws:states:") and execution.endswith(f":{result.execution_name}")
    assert {k: message[k] for k in ("TrainingJobName", "ModelArtifacts", "TrainingTimeSeconds")} == {
        k: result.output[k] for k in ("TrainingJobName", "ModelArtifacts", "TrainingTimeSeconds")
    }
    assert message["TrainingJobArn"] == result.output["TrainingJobArn"]
    assert message["Links"] == result.output["Links"]
    # The links of this run: its execution, its training job and its model artifact, in its region.
    region = message["Execution"].split(":")[3]
    sagemaker = f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
    assert result.output["Links"] == {
        "Execution": f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{message['Execution'].replace(':', '%3A')}",
        "TrainingJob": f"{sagemaker}#/jobs/news-sentiment-bert",
        "ModelArtifacts": f"https://{region}.console.aws.amazon.com/s3/object/tunestack-vision-data-simulated"
        f"?region={region}&prefix=news-sentiment-bert/output/model.tar.gz",
    }


def test_job_failure_fails_with_sagemakers_reason_and_notifies(results: dict[str, SimulationResult]) -> None:
    result = results["job-failure"]
    assert result.status == "FAILED"
    assert result.error == "TrainingJobFailed"
    assert result.cause == SCENARIOS["job-failure"].failure_reason
    assert result.states[-2:] == ["Notify the team", "Fine-tune failed"]
    (notification,) = result.notifications
    assert notification["message"]["Error"] == "TrainingJobFailed"
    assert "CUDA out of memory" in notification["message"]["Cause"]


def test_throttled_create_is_retried_until_accepted(results: dict[str, SimulationResult]) -> None:
    result = results["throttling"]
    assert result.status == "SUCCEEDED"
    # Two rejections were not counted; back-off slept in simulated time.
    assert result.sagemaker_calls["CreateTrainingJob"] == 1
    assert result.simulated_seconds > 3600


def test_success_lists_every_request_the_functions_made_in_order(
    results: dict[str, SimulationResult], accepted: dict[str, list[dict[str, Any]]]
) -> None:
    result = results["success"]
    requests = result.requests
    assert requests and all(set(r) == {"function", "service", "operation", "parameters"} for r in requests)
    (create,) = [r for r in requests if r["operation"] == "CreateTrainingJob"]
    assert create["service"] == "sagemaker" and "Launch" in create["function"]
    # Exactly what SageMaker accepted, as the function passed it to the SDK.
    assert [create["parameters"]] == accepted["success"]
    assert create["parameters"]["TrainingJobName"] == result.output["TrainingJobName"]
    # The model's spec is read from the JumpStart bucket (manifest first) before the job is created.
    reads = [
        (n, r["parameters"]["Key"])
        for n, r in enumerate(requests)
        if r["operation"] == "GetObject" and r["parameters"]["Bucket"].startswith("jumpstart-cache-prod-")
    ]
    assert len(reads) >= 2 and reads[0][1] == "models_manifest.json"
    assert all("Validate" in requests[n]["function"] for n, _ in reads)
    assert reads[-1][0] < requests.index(create)
    # The completion event's function reports to the execution last.
    assert (requests[-1]["service"], requests[-1]["operation"]) == ("stepfunctions", "SendTaskSuccess")
    assert json.loads(json.dumps(result.as_json()))["requests"] == requests


def test_the_simulators_own_requests_are_not_listed(results: dict[str, SimulationResult]) -> None:
    own = {
        "StartExecution",
        "DescribeExecution",
        "GetExecutionHistory",
        "ListExecutions",
        "StopExecution",
        "Invoke",
        "CreateBucket",
        "CreateFunction",
        "CreateStateMachine",
        "PutParameter",
        "PutObject",
    }
    for name, result in results.items():
        assert not own & {r["operation"] for r in result.requests}, name
        assert "Validate" in result.requests[0]["function"], name


def test_throttled_creates_are_listed_with_their_error_then_the_accepted_one(
    results: dict[str, SimulationResult], accepted: dict[str, list[dict[str, Any]]]
) -> None:
    creates = [r for r in results["throttling"].requests if r["operation"] == "CreateTrainingJob"]
    assert [r.get("error") for r in creates] == ["ThrottlingException", "ThrottlingException", None]
    assert [creates[-1]["parameters"]] == accepted["throttling"]
    assert all(r["parameters"] == creates[-1]["parameters"] for r in creates)


def test_lost_event_is_reconciled_by_one_describe(results: dict[str, SimulationResult]) -> None:
    result = results["lost-event"]
    assert result.status == "SUCCEEDED"
    assert result.states == [*HAPPY_STATES[:2], "Reconcile after timeout", *HAPPY_STATES[2:]]
    assert result.sagemaker_calls["DescribeTrainingJob"] == 1
    assert set(result.output) == OUTPUT_FIELDS


def test_duplicate_events_complete_the_execution_once(results: dict[str, SimulationResult]) -> None:
    result = results["duplicate-event"]
    assert result.status == "SUCCEEDED"
    assert result.states == HAPPY_STATES
    assert result.output["TrainingJobName"] == "news-sentiment-bert"


def test_abort_stops_the_job(results: dict[str, SimulationResult]) -> None:
    result = results["abort"]
    assert result.status == "ABORTED"
    assert result.sagemaker_calls.get("StopTrainingJob") == 1
    (stop,) = [r for r in result.requests if r["operation"] == "StopTrainingJob"]
    assert stop["parameters"] == {"TrainingJobName": "news-sentiment-bert"} and "error" not in stop


def test_retried_launch_adopts_the_job_it_created(results: dict[str, SimulationResult]) -> None:
    result = results["retried-launch"]
    assert result.status == "SUCCEEDED"
    assert result.sagemaker_calls["CreateTrainingJob"] == 1
    assert result.sagemaker_calls["ListTags"] == 1  # the adoption checked the job is this execution's


def test_a_28_day_job_costs_the_same_transitions_as_a_fast_one(results: dict[str, SimulationResult]) -> None:
    fast, slow = results["success"], results["slow-job"]
    assert slow.status == fast.status == "SUCCEEDED"
    assert slow.output["TrainingTimeSeconds"] == 28 * 24 * 3600 - 60
    assert (slow.state_transitions, slow.history_events) == (fast.state_transitions, fast.history_events)


def test_vision_example_checks_class_folders(vision: Simulator) -> None:
    result = run(vision, "success", "fine-tune-vision")
    assert result.status == "SUCCEEDED"
    assert result.output["ParentModel"] == "pytorch-ic-mobilenet-v2@3.0.25"


def test_bad_dataset_fails_in_the_first_state_creating_nothing(vision: Simulator, tmp_path) -> None:
    (tmp_path / "data.csv").write_text("label,text\n0,fine\n1,bad\n")
    payload, _ = example("fine-tune-text")
    result = vision.run("fine-tune", payload, "success", data_dir=tmp_path)
    assert result.status == "FAILED" and result.error == "InvalidDataset"
    assert "line 1: column 1 must be an integer class label" in result.cause
    assert result.states == ["Validate input and dataset", "Notify the team", "Fine-tune failed"]
    assert result.sagemaker_calls == {}


def test_policy_violation_names_the_field_and_creates_nothing(nlp: Simulator) -> None:
    payload, data = example("fine-tune-text")
    result = nlp.run("fine-tune", payload, "success", data_dir=data)
    assert result.error == "PolicyViolation"
    assert "$.InstanceType: 'ml.p3.8xlarge' is not allowed" in result.cause
    assert result.sagemaker_calls == {}


def test_invalid_inputs_fail_in_the_first_state_and_reach_no_sagemaker_call(nlp: Simulator) -> None:
    from tests.runtime.test_fine_tune_input import INVALID, POLICY_VIOLATIONS, mutate

    cases = [c for c in INVALID + POLICY_VIOLATIONS if c[1] is not None]
    payloads = [mutate(path, value) for _, path, value, _ in cases]
    payloads = [{**p, "InstanceType": p.get("InstanceType", "ml.g4dn.xlarge")} for p in payloads]
    results = nlp.run_many("fine-tune", payloads)
    assert len(results) >= 25
    for (case, *_), result in zip(cases, results, strict=True):
        assert result.status == "FAILED", case
        assert result.error in {"InvalidInput", "PolicyViolation"}, (case, result.error)
        assert result.states == ["Validate input and dataset", "Notify the team", "Fine-tune failed"], case
        assert result.sagemaker_calls == {}, case


def test_a_team_not_told_of_successes_gets_the_links_and_no_notice(nlp: Simulator) -> None:
    """nlp (no notifyOnSuccess) in eu-west-1: the graph ends at the report, nothing is published,
    and the links point into the run's own region."""
    payload, data = example("fine-tune-text")
    payload = {**payload, "InstanceType": "ml.g4dn.xlarge", "MaxRuntimeInSeconds": 3600}
    result = nlp.run("fine-tune", payload, "success", data_dir=data)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.states == HAPPY_STATES[:-1] and result.notifications == []
    links = result.output["Links"]
    assert links["TrainingJob"] == (
        "https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/jobs/news-sentiment-bert"
    )
    execution = unquote_plus(links["Execution"].split("#/v2/executions/details/", 1)[1])
    assert execution.startswith("arn:aws:states:eu-west-1:") and execution.endswith(f":{result.execution_name}")
    assert links["Execution"] == console_links.execution(execution)
    assert links["ModelArtifacts"].startswith("https://eu-west-1.console.aws.amazon.com/s3/object/")
    assert links["ModelArtifacts"].endswith("?region=eu-west-1&prefix=news-sentiment-bert/output/model.tar.gz")
