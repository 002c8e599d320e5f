"""The job lifecycle's promises, each a scenario played through the real synthesized state machines
for every kind of execution it applies to: no job left running that no execution owns, no
duplicate create, every failure named and notified, races and reused names never adopting
another run's job, waits as long as the job needs, and a state that stays within 256 KiB."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.simulator.conftest import example
from tests.simulator.test_fault_matrix import CREATE, FIRST_STATE, STOP, TIMED_OUT
from tests.simulator.test_tune_scenarios import CHURN, HAPPY_STATES, XGBOOST
from tunestack.simulator.harness import SimulationResult, Simulator, prefix_of
from tunestack.simulator.scenarios import DAY, KINDS, LIFECYCLE, SCENARIOS

FINE_TUNE, FINE_TUNE_DATA = example("fine-tune-text")
TUNE_AND_DEPLOY, _ = example("tune-and-deploy")
DEPLOY, _ = example("deploy")
UPLOADS = {**CHURN, prefix_of(FINE_TUNE): FINE_TUNE_DATA}
PLAYED = [(kind, name) for name in LIFECYCLE for kind in KINDS if SCENARIOS[name].applies_to(kind)]


def runs_for(kind: str, scenario: str) -> tuple[list[tuple[str, Any]], int]:
    """(the runs, how many come before the one under test) for a kind and scenario."""
    inputs = {"fine-tune": FINE_TUNE, "tune": XGBOOST, "deploy": DEPLOY}
    if scenario == "tuning-stopped-by-person":
        return [("tune", TUNE_AND_DEPLOY)], 0  # it asks for a deployment, which must not happen
    if scenario == "nested-name-clash":
        other = "tune" if kind == "fine-tune" else "fine-tune"
        return [(other, inputs[other]), (kind, inputs[kind])], 1
    if kind == "deploy":
        return [("tune", XGBOOST), ("deploy", DEPLOY)], 1
    return [(kind, inputs[kind])], 0


@pytest.fixture(scope="module")
def played(vision: Simulator) -> dict[tuple[str, str], list[SimulationResult]]:
    """(kind, scenario) -> every run's result, the one under test last (a reused name's first run
    before it)."""
    results = {}
    for kind, scenario in PLAYED:
        runs, warm_up = runs_for(kind, scenario)
        results[(kind, scenario)] = vision.run_sequence(runs, scenario, uploads=UPLOADS, warm_up=warm_up)
    return results


def under_test(played: dict[tuple[str, str], list[SimulationResult]], kind: str, scenario: str) -> SimulationResult:
    return played[(kind, scenario)][-1]


def creates(result: SimulationResult) -> dict[str, int]:
    return {api: n for api, n in result.sagemaker_calls.items() if api.startswith("Create")}


def test_every_scenario_is_played_for_every_kind_it_applies_to() -> None:
    assert len(PLAYED) == 22
    assert {name for _, name in PLAYED} == set(LIFECYCLE)


def test_no_run_leaves_a_job_running_that_no_execution_owns(
    played: dict[tuple[str, str], list[SimulationResult]],
) -> None:
    left = {key: r.jobs_left_running for key, runs in played.items() for r in runs if r.jobs_left_running}
    assert left == {}


def test_no_run_creates_anything_twice(played: dict[tuple[str, str], list[SimulationResult]]) -> None:
    twice = {key: creates(r) for key, runs in played.items() for r in runs if max(creates(r).values(), default=0) > 1}
    assert twice == {}


def test_every_failure_is_named_and_notified(played: dict[tuple[str, str], list[SimulationResult]]) -> None:
    for key, runs in played.items():
        for result in runs:
            outcomes = [(result.status, result.error)] + [(r["status"], r["error"]) for r in result.rivals]
            for status, error in outcomes:
                if status != "FAILED":
                    continue
                assert error and not error.startswith("States."), (key, error)
                assert error in {n["message"].get("Error") for n in result.notifications}, (key, error)


@pytest.mark.parametrize("kind", KINDS)
def test_a_launch_that_dies_after_its_create_fails_and_its_job_is_stopped(
    played: dict[tuple[str, str], list[SimulationResult]], kind: str
) -> None:
    result = under_test(played, kind, "launch-dies-after-create")
    assert (result.status, result.error) == ("FAILED", "Lambda.Unknown")
    assert result.sagemaker_calls.get(CREATE[kind]) == 1
    if kind in STOP:
        # The end of the failed execution stops what it launched, through the rule on FAILED.
        (stop,) = [r for r in result.requests if r["operation"] == STOP[kind]]
        assert "OnExecutionEnd" in stop["function"] and "error" not in stop
    else:
        # A deployment cannot be stopped half-way; the endpoint is released for the next one.
        assert not [r for r in result.requests if r["operation"].startswith("Stop")]


@pytest.mark.parametrize("kind", KINDS)
def test_a_throttled_reconcile_is_retried_and_stops_the_stuck_job(
    played: dict[tuple[str, str], list[SimulationResult]], kind: str
) -> None:
    result = under_test(played, kind, "reconcile-throttled")
    assert (result.status, result.error) == ("FAILED", TIMED_OUT[kind])
    assert result.task_failures == ["SageMakerThrottled", "SageMakerThrottled", TIMED_OUT[kind]]
    assert result.states.count("Reconcile after timeout") == 1
    if kind in STOP:
        assert result.sagemaker_calls.get(STOP[kind]) == 1 and "has been stopped" in (result.cause or "")


@pytest.mark.parametrize("kind", ["tune", "deploy"])
def test_throttled_calls_of_the_first_state_are_retried(
    played: dict[tuple[str, str], list[SimulationResult]], kind: str
) -> None:
    result = under_test(played, kind, "validate-throttled")
    assert result.status == "SUCCEEDED" and result.sagemaker_calls.get(CREATE[kind]) == 1
    assert result.task_failures == ["SageMakerThrottled", "SageMakerThrottled"]
    assert result.states.count(FIRST_STATE[kind]) == 1
    throttled = [r for r in result.requests if r.get("error") == "ThrottlingException"]
    assert len(throttled) == 2 and all("Validate" in r["function"] for r in throttled)


@pytest.mark.parametrize("kind", ["fine-tune", "tune"])
def test_of_two_executions_racing_for_a_name_the_first_keeps_its_wait(
    played: dict[tuple[str, str], list[SimulationResult]], kind: str
) -> None:
    result = under_test(played, kind, "same-name-race")
    assert result.status == "SUCCEEDED" and "Reconcile after timeout" not in result.states
    assert result.output["ParentModel"]  # the output the launch stored with its token
    assert result.sagemaker_calls.get(CREATE[kind]) == 1
    (rival,) = result.rivals
    assert (rival["status"], rival["error"]) == ("FAILED", "JobConflict")
    assert "another execution is running" in rival["cause"]
    assert rival["states"][-2:] == ["Notify the team", {"fine-tune": "Fine-tune failed", "tune": "Tune failed"}[kind]]


def test_a_tune_waiting_fifty_days_completes_with_its_output(
    played: dict[tuple[str, str], list[SimulationResult]],
) -> None:
    result = under_test(played, "tune", "long-tune")
    assert result.status == "SUCCEEDED" and result.states == HAPPY_STATES  # completed by its event
    assert 49.9 * DAY < result.simulated_seconds < 50.2 * DAY
    assert result.output["TrainingJobs"] == 50 and result.output["BestTrainingJob"]["ObjectiveValue"] > 0.5
    assert result.output["ParentModel"] == "xgboost:1.7-1"


@pytest.mark.parametrize("kind", KINDS)
def test_an_execution_name_used_again_creates_anew(
    played: dict[tuple[str, str], list[SimulationResult]], kind: str
) -> None:
    first, again = played[(kind, "execution-name-reused")][-2:]
    assert first.execution_name == again.execution_name
    assert first.status == again.status == "SUCCEEDED"
    if kind == "deploy":
        assert again.sagemaker_calls.get("CreateModel") == again.sagemaker_calls.get("UpdateEndpoint") == 1
        assert again.output["Action"] == "Updated"
        assert again.output["EndpointConfigName"] != first.output["EndpointConfigName"]
        assert again.output["PreviousEndpointConfigName"] == first.output["EndpointConfigName"]
    else:
        assert again.sagemaker_calls.get(CREATE[kind]) == 1
        name = {"fine-tune": "TrainingJobName", "tune": "TuningJobName"}[kind]
        assert again.output[name] != first.output[name]
    if kind == "tune":
        # The new static hyperparameters: a new tuning job, not the old one's leaderboard.
        assert again.output["BestTrainingJob"] != first.output["BestTrainingJob"]


@pytest.mark.parametrize("kind", ["fine-tune", "tune"])
def test_a_fine_tune_and_a_tune_of_one_name_both_deploy(
    played: dict[tuple[str, str], list[SimulationResult]], kind: str
) -> None:
    other, result = played[(kind, "nested-name-clash")]
    assert other.execution_name == result.execution_name
    assert other.status == result.status == "SUCCEEDED"
    assert [n["status"] for n in (*other.nested, *result.nested)] == ["SUCCEEDED", "SUCCEEDED"]
    deployments = [r.output["Deployment"]["ExecutionArn"] for r in (other, result)]
    assert len(set(deployments)) == 2


@pytest.mark.parametrize("kind", ["fine-tune", "tune"])
def test_an_input_over_the_documented_size_fails_in_the_first_state(
    played: dict[tuple[str, str], list[SimulationResult]], kind: str
) -> None:
    result = under_test(played, kind, "input-too-large")
    assert (result.status, result.error) == ("FAILED", "InvalidInput")
    assert "bytes of JSON, over the 65,536 bytes (64 KiB)" in (result.cause or "")
    assert result.states == [
        FIRST_STATE[kind],
        "Notify the team",
        {"fine-tune": "Fine-tune failed"}.get(kind, "Tune failed"),
    ]
    assert result.sagemaker_calls == {}


def test_a_tuning_job_a_person_stopped_reports_its_trials_and_deploys_nothing(
    played: dict[tuple[str, str], list[SimulationResult]],
) -> None:
    result = under_test(played, "tune", "tuning-stopped-by-person")
    assert result.status == "SUCCEEDED" and result.output["TuningJobStatus"] == "Stopped"
    counts = result.output["StatusCounts"]
    assert counts["Completed"] > 0 and counts["Stopped"] > 0 and counts["InProgress"] == 0
    assert result.output["BestTrainingJob"] is not None
    assert result.output["Leaderboard"]["Csv"].endswith("/leaderboard.csv")
    assert "Deploy the best model" not in result.states and result.nested == []
    assert "Deployment" not in result.output
    assert not [n for n in result.notifications if "Error" in n["message"]]


@pytest.mark.parametrize("kind", KINDS)
def test_a_quota_of_zero_fails_within_minutes_naming_it(
    played: dict[tuple[str, str], list[SimulationResult]], kind: str
) -> None:
    result = under_test(played, kind, "quota-zero")
    assert (result.status, result.error) == ("FAILED", "ResourceLimitExceeded")
    assert result.task_failures == ["ResourceLimitExceeded"]  # not retried
    assert result.simulated_seconds < 600
    assert "is 0 Instances and this request needs 1" in (result.cause or "")
    assert CREATE[kind] not in result.sagemaker_calls


def test_the_largest_input_accepted_keeps_every_state_within_256_kib(vision: Simulator) -> None:
    """Just under the 64 KiB limit, with a deployment: the state carries the request once."""
    payload = copy.deepcopy(TUNE_AND_DEPLOY)
    payload["StaticHyperParameters"].update({f"notes-{n:02d}": "x" * 2000 for n in range(31)})
    result = vision.run("tune", payload, uploads=CHURN)
    assert result.status == "SUCCEEDED" and result.nested[0]["status"] == "SUCCEEDED"
    assert 62 * 1024 < result.largest_state_bytes < 128 * 1024 < 256 * 1024


def test_an_execution_name_sagemaker_tags_cannot_hold_still_launches(vision: Simulator) -> None:
    result = vision.run("fine-tune", FINE_TUNE, data_dir=FINE_TUNE_DATA, execution_name="retrain(v2)!")
    assert result.status == "SUCCEEDED" and result.sagemaker_calls.get("CreateTrainingJob") == 1
    (create,) = [r for r in result.requests if r["operation"] == "CreateTrainingJob"]
    tags = {t["Key"]: t["Value"] for t in create["parameters"]["Tags"]}
    assert tags["tunestack:execution"].endswith(":retrain_v2__")
