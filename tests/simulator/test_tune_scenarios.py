"""The real synthesized tune state machine, offline: every scenario, warm start across executions,
the shipped examples, and invalid inputs stopped in the first state."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.simulator.conftest import EXAMPLES, example
from tunestack.constructs.waiting_pipeline import SUCCESS_NOTICE
from tunestack.simulator.harness import SimulationResult, Simulator
from tunestack.simulator.lineage import data_folder, earlier_runs
from tunestack.simulator.scenarios import FAULT_MATRIX, LIFECYCLE, REGISTRY, SCENARIOS, scenarios_for

#: This kind's own scenarios; the shared faults are played in test_fault_matrix.py, the job
#: lifecycle's in test_lifecycle_scenarios.py.
PLAYED = [s for s in scenarios_for("tune") if s not in {*FAULT_MATRIX, *LIFECYCLE, *REGISTRY}]
HAPPY_STATES = [
    "Validate input and warm start",
    "Tune (waits for SageMaker)",
    "Analyse the training jobs",
    "Register the model?",
    "Deploy requested?",
    "Report the best model",
    SUCCESS_NOTICE,  # vision is told of successes
]
XGBOOST, XGBOOST_DATA = example("tune-xgboost")
CHURN = {"datasets/churn/": EXAMPLES / "data" / "churn"}


def run(simulator: Simulator, scenario: str, payload: dict[str, Any] = XGBOOST) -> SimulationResult:
    return simulator.run("tune", payload, scenario, uploads=CHURN)


#: Seven rounds of trials (20 jobs, 3 at a time) of four days each: a 28-day tuning job.
SLOW = {**XGBOOST, "MaxRuntimeInSeconds": 4 * 24 * 3600}


@pytest.fixture(scope="module")
def results(vision: Simulator) -> dict[str, SimulationResult]:
    return {name: run(vision, name, SLOW if name == "slow-job" else XGBOOST) for name in PLAYED}


def test_every_scenario_creates_the_tuning_job_exactly_once(results: dict[str, SimulationResult]) -> None:
    assert {n: r.sagemaker_calls.get("CreateHyperParameterTuningJob") for n, r in results.items()} == {
        n: 1 for n in PLAYED
    }
    assert all(r.sagemaker_calls.get("CreateTrainingJob") is None for r in results.values())


def test_no_scenario_leaves_a_job_running_that_no_execution_owns(results: dict[str, SimulationResult]) -> None:
    assert {name: r.jobs_left_running for name, r in results.items() if r.jobs_left_running} == {}


def test_success_reports_the_best_job_the_counts_and_where_the_reports_are(
    results: dict[str, SimulationResult],
) -> None:
    result = results["success"]
    assert result.status == "SUCCEEDED" and result.states == HAPPY_STATES
    output = result.output
    assert output["TuningJobName"] == "xgb-churn-tune-1"
    assert output["Objective"] == {"MetricName": "validation:auc", "Type": "Maximize"}
    # 20 trials: every seventh fails (one retryable, one not); the rest complete.
    assert output["StatusCounts"] == {
        "Completed": 18,
        "InProgress": 0,
        "Stopped": 0,
        "FailedRetryable": 1,
        "FailedNonRetryable": 1,
    }
    assert output["TrainingJobs"] == 20
    best = output["BestTrainingJob"]
    assert best["TrainingJobName"].startswith("xgb-churn-tune-1-") and 0.5 < best["ObjectiveValue"] < 1.0
    assert set(best["HyperParameters"]) == {"eta", "alpha", "min_child_weight", "max_depth"}
    assert 1 <= int(best["HyperParameters"]["max_depth"]) <= 10
    prefix = "tuning/xgb-churn-tune-1/leaderboard"
    assert set(result.published["reports"]) == {f"{prefix}.csv", f"{prefix}.json", f"{prefix}.png"}
    assert output["Leaderboard"]["Chart"].endswith(f"{prefix}.png")
    assert result.published["metrics"] == [
        {
            "MetricName": "BestObjective",
            "Team": "vision",
            "TuningJobName": "xgb-churn-tune-1",
            "ObjectiveMetric": "validation:auc",
        }
    ]
    # The links of this run, in its region: execution, tuning job, best trial, leaderboard and chart.
    (notice,) = result.notifications
    execution = notice["message"]["Execution"]
    assert execution.startswith("arn:aws:states:") and execution.endswith(f":{result.execution_name}")
    region = execution.split(":")[3]
    sagemaker = f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
    objects = f"https://{region}.console.aws.amazon.com/s3/object/tunestack-vision-data-simulated?region={region}"
    assert output["Links"] == {
        "Execution": f"https://{region}.console.aws.amazon.com/states/home?region={region}"
        f"#/v2/executions/details/{execution.replace(':', '%3A')}",
        "TuningJob": f"{sagemaker}#/hyper-tuning-jobs/xgb-churn-tune-1",
        "BestTrainingJob": f"{sagemaker}#/jobs/{best['TrainingJobName']}",
        "LeaderboardCsv": f"{objects}&prefix={prefix}.csv",
        "LeaderboardJson": f"{objects}&prefix={prefix}.json",
        "LeaderboardChart": f"{objects}&prefix={prefix}.png",
    }
    assert notice["subject"] == "tunestack vision tune succeeded"
    assert {k: notice["message"][k] for k in ("TuningJobName", "TuningJobStatus", "Objective", "BestTrainingJob")} == {
        k: output[k] for k in ("TuningJobName", "TuningJobStatus", "Objective", "BestTrainingJob")
    }
    assert notice["message"]["Links"] == output["Links"]


def test_objective_values_are_deterministic_for_an_input(
    vision: Simulator, results: dict[str, SimulationResult]
) -> None:
    again = run(vision, "success")
    assert again.output["BestTrainingJob"] == results["success"].output["BestTrainingJob"]


def test_a_28_day_tuning_costs_the_same_transitions_as_a_fast_one(results: dict[str, SimulationResult]) -> None:
    fast, slow = results["success"], results["slow-job"]
    assert slow.status == fast.status == "SUCCEEDED"
    assert slow.simulated_seconds > 27 * 24 * 3600 > 20 * fast.simulated_seconds
    assert (slow.state_transitions, slow.history_events) == (fast.state_transitions, fast.history_events)


def test_a_failed_tuning_job_fails_with_sagemakers_reason_and_notifies(results: dict[str, SimulationResult]) -> None:
    result = results["job-failure"]
    assert result.status == "FAILED" and result.error == "TuningJobFailed"
    assert result.cause == SCENARIOS["job-failure"].tuning_failure_reason
    assert result.states[-2:] == ["Notify the team", "Tune failed"]
    (notification,) = result.notifications
    assert notification["message"]["Error"] == "TuningJobFailed"


def test_a_lost_event_is_reconciled_then_analysed(results: dict[str, SimulationResult]) -> None:
    result = results["lost-event"]
    assert result.status == "SUCCEEDED"
    assert result.states == [*HAPPY_STATES[:2], "Reconcile after timeout", *HAPPY_STATES[2:]]
    assert result.output["TrainingJobs"] == 20


@pytest.mark.parametrize("scenario", ["duplicate-event", "throttling", "retried-launch"])
def test_transient_trouble_still_ends_in_one_analysis(results: dict[str, SimulationResult], scenario: str) -> None:
    result = results[scenario]
    assert result.status == "SUCCEEDED" and result.states == HAPPY_STATES
    assert result.output["BestTrainingJob"] == results["success"].output["BestTrainingJob"]


def test_aborting_the_execution_stops_the_tuning_job(results: dict[str, SimulationResult]) -> None:
    result = results["abort"]
    assert result.status == "ABORTED"
    assert result.sagemaker_calls.get("StopHyperParameterTuningJob") == 1


def test_auto_warm_start_finds_the_earlier_run_and_improves_on_it(vision: Simulator) -> None:
    child = copy.deepcopy(XGBOOST)
    child.update(TuningJobName="xgb-churn-tune-auto", WarmStartConfig={"WarmStartType": "Auto"})
    parent, result = vision.run_many("tune", [XGBOOST, child], uploads=CHURN)
    assert result.status == "SUCCEEDED"
    warm = result.output["WarmStart"]
    assert warm["Type"] == "IdenticalDataAndAlgorithm" and warm["Parents"] == ["xgb-churn-tune-1"]
    assert result.output["TrainingJobs"] == 40  # its own 20 and the parent's, marked by generation
    assert result.output["BestTrainingJob"]["ObjectiveValue"] > parent.output["BestTrainingJob"]["ObjectiveValue"]


@pytest.mark.parametrize(
    ("name", "parents"),
    [
        ("tune-xgboost", []),
        ("tune-jumpstart", []),
        ("tune-image-classification", []),
        ("tune-warm-start", ["tune-image-classification"]),
        ("tune-transfer-learning", ["tune-image-classification", "tune-warm-start"]),
    ],
)
def test_examples_simulate_to_success_after_their_parents(vision: Simulator, name: str, parents: list[str]) -> None:
    payload, _ = example(name)
    file = EXAMPLES / f"{name}.json"
    before = earlier_runs(file, payload)
    assert [path.stem for path, _ in before] == parents
    runs = [*before, (file, payload)]
    uploads = dict(found for path, p in runs if (found := data_folder(path, p)))
    results = vision.run_many("tune", [p for _, p in runs], uploads=uploads, warm_up=len(before))
    assert [r.status for r in results] == ["SUCCEEDED"] * len(runs)
    bests = [r.output["BestTrainingJob"]["ObjectiveValue"] for r in results]
    assert bests == sorted(bests) and len(set(bests)) == len(bests)  # each generation improves on its parents
    if parents:
        asked = [p["HyperParameterTuningJobName"] for p in payload["WarmStartConfig"]["ParentHyperParameterTuningJobs"]]
        assert results[-1].output["WarmStart"]["Parents"] == asked


def test_transfer_learning_reads_both_parents_trials(vision: Simulator) -> None:
    payload, _ = example("tune-transfer-learning")
    file = EXAMPLES / "tune-transfer-learning.json"
    runs = [*earlier_runs(file, payload), (file, payload)]
    uploads = dict(found for path, p in runs if (found := data_folder(path, p)))
    *_, result = vision.run_many("tune", [p for _, p in runs], uploads=uploads, warm_up=len(runs) - 1)
    assert result.output["WarmStart"]["Type"] == "TransferLearning"
    assert result.output["TrainingJobs"] == 30  # 10 of its own, 10 of each parent


def test_a_jumpstart_model_is_tuned_on_its_own_metric(vision: Simulator) -> None:
    payload, _ = example("tune-jumpstart")
    file = EXAMPLES / "tune-jumpstart.json"
    found = data_folder(file, payload)
    assert found is not None
    result = vision.run("tune", payload, uploads=dict([found]))
    assert result.status == "SUCCEEDED"
    output = result.output
    assert output["ParentModel"] == "tensorflow-ic-bit-m-r101x1-ilsvrc2012-classification-1@4.0.6"
    assert output["Objective"] == {"MetricName": "tflow-ic:val-accuracy", "Type": "Maximize"}
    assert set(output["BestTrainingJob"]["HyperParameters"]) == {"learning_rate", "epochs"}
    assert output["Dataset"]["training"]["Layout"] == "image classification (TensorFlow)"
    (create,) = [r for r in result.requests if r["operation"] == "CreateHyperParameterTuningJob"]
    definition = create["parameters"]["TrainingJobDefinition"]
    metrics = definition["AlgorithmSpecification"]["MetricDefinitions"]
    assert {"Name": "tflow-ic:val-accuracy", "Regex": "val_accuracy: ([0-9\\.]+)"} in metrics
    static = definition["StaticHyperParameters"]
    assert "learning_rate" not in static and "epochs" not in static  # left to the tuning job
    assert static["batch_size"] == "32" and static["sagemaker_program"] == "transfer_learning.py"
    assert [c["ChannelName"] for c in definition["InputDataConfig"]] == ["training", "model", "code"]


INVALID_IN_THE_STATE_MACHINE = [
    {**XGBOOST, "TuningJobName": "x" * 33},
    {**XGBOOST, "WarmStartConfig": {"WarmStartType": "TransferLearning"}},
    {**XGBOOST, "WarmStartConfig": {"WarmStartType": "Identical"}},
    {**XGBOOST, "CopySettingsFrom": "never-ran"},
    {
        **XGBOOST,
        "WarmStartConfig": {
            "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "never-ran"}],
            "WarmStartType": "IDENTICAL_DATA_AND_ALGORITHM",
        },
    },
    {**XGBOOST, "TrainingData": {"train": "datasets/churn/train/", "validation": "datasets/missing/"}},
    {**XGBOOST, "InstanceType": "ml.p4d.24xlarge"},
    {**XGBOOST, "HyperParameterTuningJobConfig": {**XGBOOST["HyperParameterTuningJobConfig"], "Strategy": "Grid"}},
    {
        **XGBOOST,
        "HyperParameterTuningJobConfig": {
            **XGBOOST["HyperParameterTuningJobConfig"],
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 60, "MaxParallelTrainingJobs": 3},
        },
    },
    {**XGBOOST, "StaticHyperParameters": {**XGBOOST["StaticHyperParameters"], "eta": "0.2"}},
]


def test_invalid_inputs_fail_in_the_first_state_and_create_nothing(vision: Simulator) -> None:
    results = vision.run_many("tune", INVALID_IN_THE_STATE_MACHINE, uploads=CHURN)
    for payload, result in zip(INVALID_IN_THE_STATE_MACHINE, results, strict=True):
        assert result.status == "FAILED", payload
        assert result.states == ["Validate input and warm start", "Notify the team", "Tune failed"]
        assert result.error in {"InvalidInput", "PolicyViolation", "InvalidDataset"}
        assert not {k for k in result.sagemaker_calls if k.startswith(("Create", "Stop"))}
        assert "$." in result.cause or "s3://" in result.cause  # names the field, or the data at fault
