"""The real synthesized deploy state machine, offline: create, update in place, rollback, the wait's
faults, and deploys nested in fine-tune and tune executions."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.simulator.conftest import EXAMPLES, example
from tests.simulator.test_tune_scenarios import CHURN, XGBOOST
from tunestack.constructs.waiting_pipeline import SUCCESS_NOTICE
from tunestack.simulator.harness import SimulationResult, Simulator
from tunestack.simulator.scenarios import FAULT_MATRIX, LIFECYCLE, REGISTRY, SCENARIOS, scenarios_for

DEPLOY, _ = example("deploy")
HAPPY_STATES = [
    "Validate input and model",
    "Create model and endpoint config",
    "Deploy (waits for SageMaker)",
    "Report the endpoint",
    SUCCESS_NOTICE,  # vision is told of successes
]
OUTPUT_FIELDS = {"EndpointName", "EndpointArn", "EndpointConfigName", "ModelName", "ModelDataUrl", "Action"}
DEPLOY_SCENARIOS = [
    s for s in scenarios_for("deploy") if s not in {"abort", "slow-job", *FAULT_MATRIX, *LIFECYCLE, *REGISTRY}
]


@pytest.fixture(scope="module")
def results(vision: Simulator) -> dict[str, SimulationResult]:
    return {
        name: vision.run("deploy", DEPLOY, name, before=[("tune", XGBOOST)], uploads=CHURN) for name in DEPLOY_SCENARIOS
    }


def test_no_scenario_leaves_a_job_running_that_no_execution_owns(results: dict[str, SimulationResult]) -> None:
    assert {name: r.jobs_left_running for name, r in results.items() if r.jobs_left_running} == {}


def test_a_new_endpoint_is_created_from_the_tuning_jobs_best(results: dict[str, SimulationResult]) -> None:
    result = results["success"]
    assert result.status == "SUCCEEDED" and result.states == HAPPY_STATES
    assert set(result.output) >= OUTPUT_FIELDS
    assert result.output["Action"] == "Created" and result.output["EndpointName"] == "churn-predictor"
    assert result.output["ModelDataUrl"].endswith(f"/{result.output['TrainingJobName']}/output/model.tar.gz")
    assert result.output["TrainingJobName"].startswith("xgb-churn-tune-1-")
    # The links of this run: its execution, the endpoint, the artifact it serves and its job.
    # The tune run before it told of its own success; this run's notice is the deploy's.
    (notice,) = [n for n in result.notifications if n["subject"] == "tunestack vision deploy succeeded"]
    execution, output = notice["message"]["Execution"], result.output
    assert execution.startswith("arn:aws:states:") and execution.endswith(f":{result.execution_name}")
    region = execution.split(":")[3]
    sagemaker = f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
    key = output["ModelDataUrl"].removeprefix("s3://tunestack-vision-data-simulated/")
    assert output["Links"] == {
        "Execution": f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{execution.replace(':', '%3A')}",
        "Endpoint": f"{sagemaker}#/endpoints/churn-predictor",
        "ModelArtifacts": f"https://{region}.console.aws.amazon.com/s3/object/tunestack-vision-data-simulated"
        f"?region={region}&prefix={key}",
        "TrainingJob": f"{sagemaker}#/jobs/{output['TrainingJobName']}",
        "TuningJob": f"{sagemaker}#/hyper-tuning-jobs/xgb-churn-tune-1",
    }
    assert notice["subject"] == "tunestack vision deploy succeeded"
    assert {k: notice["message"][k] for k in ("EndpointName", "EndpointArn", "Action", "Links")} == {
        k: output[k] for k in ("EndpointName", "EndpointArn", "Action", "Links")
    }
    assert {k: result.sagemaker_calls.get(k) for k in ("CreateModel", "CreateEndpointConfig", "CreateEndpoint")} == {
        "CreateModel": 1,
        "CreateEndpointConfig": 1,
        "CreateEndpoint": 1,
    }


def test_an_existing_endpoint_is_updated_in_place(results: dict[str, SimulationResult]) -> None:
    result = results["endpoint-exists"]
    assert result.status == "SUCCEEDED" and result.output["Action"] == "Updated"
    assert result.output["PreviousEndpointConfigName"] != result.output["EndpointConfigName"]
    assert result.sagemaker_calls.get("UpdateEndpoint") == 1 and "CreateEndpoint" not in result.sagemaker_calls


def test_a_failed_update_rolls_back_and_fails_with_the_reason(results: dict[str, SimulationResult]) -> None:
    result = results["update-rollback"]
    assert result.status == "FAILED" and result.error == "EndpointUpdateRolledBack"
    assert "still serves" in result.cause and SCENARIOS["update-rollback"].endpoint_failure_reason in result.cause
    failures = [n for n in result.notifications if n["subject"].endswith(" failed")]
    assert result.states[-2:] == ["Notify the team", "Deploy failed"] and len(failures) == 1


def test_an_endpoint_that_cannot_start_fails_with_sagemakers_reason(results: dict[str, SimulationResult]) -> None:
    result = results["job-failure"]
    assert result.error == "EndpointFailed" and result.cause == SCENARIOS["job-failure"].endpoint_failure_reason


def test_a_lost_event_is_reconciled(results: dict[str, SimulationResult]) -> None:
    result = results["lost-event"]
    assert result.status == "SUCCEEDED"
    assert result.states == [*HAPPY_STATES[:3], "Reconcile after timeout", *HAPPY_STATES[3:]]


@pytest.mark.parametrize("scenario", ["duplicate-event", "throttling", "retried-launch"])
def test_retries_and_duplicates_deploy_once(results: dict[str, SimulationResult], scenario: str) -> None:
    result = results[scenario]
    assert result.status == "SUCCEEDED" and result.states == HAPPY_STATES
    assert result.sagemaker_calls.get("CreateEndpoint") == 1 and result.sagemaker_calls.get("CreateModel") == 1


def test_a_fine_tune_deploys_its_model_nested(vision: Simulator) -> None:
    payload, data = example("fine-tune-text")
    payload = {**payload, "Deploy": {"EndpointName": "news-sentiment", "InstanceType": "ml.m5.xlarge"}}
    result = vision.run("fine-tune", payload, data_dir=data)
    assert result.status == "SUCCEEDED"
    assert result.states == [
        "Validate input and dataset",
        "Train (waits for SageMaker)",
        "Register the model?",
        "Deploy requested?",
        "Deploy the model",
        "Report the model",
        SUCCESS_NOTICE,
    ]
    deployment = result.output["Deployment"]["Endpoint"]
    assert deployment["TrainingJobName"] == "news-sentiment-bert" and deployment["Action"] == "Created"
    (nested,) = result.nested
    assert nested["status"] == "SUCCEEDED" and nested["states"] == HAPPY_STATES
    # The nested deploy's functions made their requests within the same run.
    (create,) = [r for r in result.requests if r["operation"] == "CreateEndpoint"]
    assert create["parameters"]["EndpointName"] == "news-sentiment" and "Deploy" in create["function"]


def test_a_tune_deploys_its_best_model_nested_at_a_constant_cost(vision: Simulator) -> None:
    payload, _ = example("tune-and-deploy")
    slow = copy.deepcopy(payload)
    slow["MaxRuntimeInSeconds"] = 4 * 24 * 3600  # seven rounds of four-day trials: 28 days
    fast_result = vision.run("tune", payload, uploads=CHURN)
    slow_result = vision.run("tune", slow, "slow-job", uploads=CHURN)
    for result in (fast_result, slow_result):
        assert result.status == "SUCCEEDED"
        assert result.output["Deployment"]["Endpoint"]["TuningJobName"] == "xgb-churn-tune-deploy"
        assert (
            result.output["Deployment"]["Endpoint"]["TrainingJobName"]
            == result.output["BestTrainingJob"]["TrainingJobName"]
        )
    assert slow_result.simulated_seconds > 27 * 24 * 3600
    assert (fast_result.total_transitions, fast_result.total_history_events) == (
        slow_result.total_transitions,
        slow_result.total_history_events,
    )
    assert fast_result.total_transitions <= 30


def test_the_deploy_example_runs_after_the_tuning_it_names(vision: Simulator) -> None:
    from tunestack.simulator.lineage import earlier_runs, kind_of

    before = earlier_runs(EXAMPLES / "deploy.json", DEPLOY)
    assert [(path.name, kind_of(p)) for path, p in before] == [("tune-xgboost.json", "tune")]


def test_invalid_deploy_inputs_stop_in_the_first_state(vision: Simulator) -> None:
    bad: list[dict[str, Any]] = [
        {**DEPLOY, "TuningJobName": "never-tuned"},
        {**DEPLOY, "InstanceType": "ml.p4d.24xlarge"},
        {"EndpointName": "e"},
    ]
    results = vision.run_many("deploy", bad)
    for result in results:
        assert result.status == "FAILED" and result.states == [
            "Validate input and model",
            "Notify the team",
            "Deploy failed",
        ]
        assert not [k for k in result.sagemaker_calls if k.startswith(("Create", "Update"))]
