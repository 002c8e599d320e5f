"""The faults every pipeline must survive, played on fine-tune, tune and deploy through their real
synthesized state machines: each retried or failed as it should be, each failure notified, and no
SageMaker resource left running that no execution owns."""

from __future__ import annotations

from typing import Any

import pytest

from tests.simulator.conftest import example
from tests.simulator.test_tune_scenarios import CHURN, XGBOOST
from tunestack.simulator.harness import SimulationResult, Simulator
from tunestack.simulator.scenarios import FAULT_MATRIX, SCENARIOS

KINDS = ("fine-tune", "tune", "deploy")
#: The first state of each kind, whose invocation the Lambda service throttles.
FIRST_STATE = {
    "fine-tune": "Validate input and dataset",
    "tune": "Validate input and warm start",
    "deploy": "Validate input and model",
}
CREATE = {"fine-tune": "CreateTrainingJob", "tune": "CreateHyperParameterTuningJob", "deploy": "CreateEndpoint"}
STOP = {"fine-tune": "StopTrainingJob", "tune": "StopHyperParameterTuningJob"}
TIMED_OUT = {"fine-tune": "TrainingJobTimedOut", "tune": "TuningJobTimedOut", "deploy": "EndpointTimedOut"}
FAILED = {"fine-tune": "TrainingJobFailed", "tune": "TuningJobFailed", "deploy": "EndpointFailed"}


def play(simulator: Simulator, kind: str, scenario: str) -> SimulationResult:
    if kind == "fine-tune":
        payload, data = example("fine-tune-text")
        return simulator.run(kind, payload, scenario, data_dir=data)
    if kind == "tune":
        return simulator.run(kind, XGBOOST, scenario, uploads=CHURN)
    deploy, _ = example("deploy")
    return simulator.run(kind, deploy, scenario, before=[("tune", XGBOOST)], uploads=CHURN)


@pytest.fixture(scope="module")
def matrix(vision: Simulator) -> dict[tuple[str, str], SimulationResult]:
    return {(kind, scenario): play(vision, kind, scenario) for kind in KINDS for scenario in FAULT_MATRIX}


@pytest.mark.parametrize("kind", KINDS)
def test_lambda_throttling_is_retried_with_backoff_and_jitter(matrix: dict[tuple[str, str], Any], kind: str) -> None:
    result = matrix[(kind, "lambda-throttled")]
    assert result.status == "SUCCEEDED"
    # Two throttled attempts, then the one that passed, inside one state (retried by Step
    # Functions with 2 s, x2, full jitter, as the definition says): no second create.
    assert result.task_failures == ["Lambda.TooManyRequestsException"] * 2
    assert result.states.count(FIRST_STATE[kind]) == 1
    assert result.sagemaker_calls.get(CREATE[kind]) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_full_quota_is_retried_slowly(matrix: dict[tuple[str, str], Any], kind: str) -> None:
    result = matrix[(kind, "resource-limit")]
    assert result.status == "SUCCEEDED" and result.sagemaker_calls.get(CREATE[kind]) == 1
    # The launch failed once with the quota in use and was retried (5 min, x1.5, full jitter, by
    # the definition) into one accepted create; nobody was told of a failure (vision is told of
    # its successes).
    assert result.task_failures == ["SageMakerQuotaInUse"]
    assert not [n for n in result.notifications if "Error" in n["message"]]


@pytest.mark.parametrize("kind", KINDS)
def test_a_retryable_job_failure_ends_failed_with_its_reason_and_notifies(
    matrix: dict[tuple[str, str], Any], kind: str
) -> None:
    result = matrix[(kind, "job-failure-retryable")]
    scenario = SCENARIOS["job-failure-retryable"]
    reason = {
        "fine-tune": scenario.failure_reason,
        "tune": scenario.tuning_failure_reason,
        "deploy": scenario.endpoint_failure_reason,
    }[kind]
    assert (result.status, result.error, result.cause) == ("FAILED", FAILED[kind], reason)
    (notification,) = [n for n in result.notifications if "Error" in n["message"]]
    assert notification["message"]["Error"] == FAILED[kind]


@pytest.mark.parametrize("kind", KINDS)
def test_a_stuck_job_times_out_is_stopped_and_fails_clearly(matrix: dict[tuple[str, str], Any], kind: str) -> None:
    result = matrix[(kind, "stuck-job")]
    assert result.status == "FAILED" and result.error == TIMED_OUT[kind]
    assert "Reconcile after timeout" in result.states
    assert [n for n in result.notifications if n["message"].get("Error") == TIMED_OUT[kind]]
    if kind in STOP:
        # Nothing keeps running unowned: the job the execution launched is stopped.
        assert result.sagemaker_calls.get(STOP[kind]) == 1
        assert "has been stopped" in result.cause
    else:
        # A deployment cannot be stopped half-way; the endpoint carries the execution's tag.
        assert "has been stopped" not in result.cause


def test_no_fault_leaves_a_job_running_that_no_execution_owns(matrix: dict[tuple[str, str], Any]) -> None:
    assert {key: r.jobs_left_running for key, r in matrix.items() if r.jobs_left_running} == {}
