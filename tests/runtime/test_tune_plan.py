"""The tune execution's first state against moto: copied settings, warm-start parents, Auto, data."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.runtime.test_jumpstart_and_request import FIXTURES, REGION, TEAM
from tests.runtime.test_tune_input import POLICY as TUNE_POLICY
from tests.runtime.test_tune_input import SEED_INPUT
from tunestack.simulator.clock import SimClock
from tunestack.simulator.sagemaker import SageMakerFaults, SimulatedSageMaker, simulated_sagemaker
from tunestack_runtime import jumpstart
from tunestack_runtime.errors import InvalidDataset, InvalidInput, PolicyViolation
from tunestack_runtime.executions import Execution
from tunestack_runtime.tune_plan import plan_tuning, tuning_job_name

POLICY = dataclasses.replace(
    TUNE_POLICY,
    region=REGION,
    role_arn=TEAM.role_arn,
    key_arn=TEAM.key_arn,
    subnet_ids=TEAM.subnet_ids,
    security_group_ids=TEAM.security_group_ids,
)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    sim = SimulatedSageMaker(SimClock(), SageMakerFaults())
    with mock_aws(), simulated_sagemaker(sim):
        s3 = boto3.client("s3")
        location = {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
        s3.create_bucket(Bucket=POLICY.bucket, **location)
        for channel in ("train", "validation"):
            s3.put_object(Bucket=POLICY.bucket, Key=f"datasets/churn/{channel}/part-0.csv", Body=b"1,0.5,3\n")
        s3.create_bucket(Bucket=jumpstart.cache_bucket(REGION), **location)
        for path in FIXTURES.rglob("*.json"):
            s3.upload_file(str(path), jumpstart.cache_bucket(REGION), path.relative_to(FIXTURES).as_posix())
        yield {"s3": s3, "sagemaker": boto3.client("sagemaker"), "sim": sim}


START = "2026-01-05T09:00:00.000Z"


def plan(
    aws: dict[str, Any], payload: dict[str, Any], policy: Any = POLICY, execution: str = "run-1"
) -> dict[str, Any]:
    return plan_tuning(
        payload,
        policy=policy,
        sagemaker=aws["sagemaker"],
        s3=aws["s3"],
        execution=Execution(f"arn:aws:states:{REGION}:111122223333:execution:tune:{execution}", START),
    ).to_dict()


def tuned(aws: dict[str, Any], payload: dict[str, Any], status: str = "Completed", policy: Any = POLICY) -> str:
    """Run a tuning job to ``status`` in the simulated SageMaker, as an earlier execution would."""
    params = plan(aws, payload, policy, execution=payload.get("TuningJobName", "earlier"))[
        "CreateHyperParameterTuningJob"
    ]
    aws["sagemaker"].create_hyper_parameter_tuning_job(**params)
    name = params["HyperParameterTuningJobName"]
    if status != "InProgress":
        aws["sim"].clock.advance(aws["sim"].tuning_jobs[name].planned_end)
        aws["sim"].finish_tuning(name, status)
    return str(name)


def child(**fields: Any) -> dict[str, Any]:
    payload = copy.deepcopy(SEED_INPUT)
    payload.update({"TuningJobName": "xgb-churn-tune-2", **fields})
    return payload


def warm(kind: str, *parents: str) -> dict[str, Any]:
    return {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": p} for p in parents],
        "WarmStartType": kind,
    }


def test_the_seed_example_plans_unchanged_with_the_team_settings(aws: dict[str, Any]) -> None:
    result = plan(aws, SEED_INPUT)
    params = result["CreateHyperParameterTuningJob"]
    assert params["HyperParameterTuningJobConfig"] == SEED_INPUT["HyperParameterTuningJobConfig"]
    definition = params["TrainingJobDefinition"]
    assert definition["StaticHyperParameters"] == SEED_INPUT["StaticHyperParameters"]
    assert {c["ChannelName"]: c["ContentType"] for c in definition["InputDataConfig"]} == {
        "train": "text/csv",
        "validation": "text/csv",
    }
    assert definition["RoleArn"] == TEAM.role_arn and definition["OutputDataConfig"]["KmsKeyId"] == TEAM.key_arn
    # 20 jobs, 3 at a time: 7 rounds of at most an hour each, and a margin for the reconcile.
    assert result["TaskTimeoutSeconds"] == 7 * 3600 + 1800
    assert result["OutputExtras"]["WarmStart"] is None
    assert set(result["Dataset"]) == {"train", "validation"}
    assert aws["sim"].calls == {}  # nothing created, nothing described


def test_a_derived_name_fits_sagemakers_limit_and_is_stable_per_execution() -> None:
    execution = Execution("arn:aws:states:eu-west-1:1:execution:tune:My_execution(churn)model!second-attempt", START)
    name = tuning_job_name(execution)
    assert len(name) <= 32 and name == tuning_job_name(Execution(execution.arn, execution.start_time))
    assert name.startswith("My-execution-churn-mode")
    # The same name used again (Step Functions allows it after 90 days) is another run: another job.
    assert tuning_job_name(Execution(execution.arn, "2026-04-06T09:00:00.000Z")) != name


def test_an_empty_channel_fails_naming_it(aws: dict[str, Any]) -> None:
    payload = child(TrainingData={"train": "datasets/churn/train/", "validation": "datasets/none/"})
    with pytest.raises(InvalidDataset, match=r"s3://nlp-data-bucket/datasets/none/: no objects"):
        plan(aws, payload)


def test_identical_data_warm_start_from_a_finished_parent(aws: dict[str, Any]) -> None:
    parent = tuned(aws, SEED_INPUT)
    result = plan(aws, child(WarmStartConfig=warm("IDENTICAL_DATA_AND_ALGORITHM", parent)))
    assert result["CreateHyperParameterTuningJob"]["WarmStartConfig"] == warm("IdenticalDataAndAlgorithm", parent)
    assert result["OutputExtras"]["WarmStart"]["Parents"] == [parent]


@pytest.mark.parametrize(
    ("setup", "payload_change", "error", "message"),
    [
        (None, {}, InvalidInput, r"\[0\] \(xgb-missing\): no tuning job of that name"),
        ("InProgress", {}, InvalidInput, r"\(xgb-churn-tune-1\): it is InProgress; a parent must have ended"),
        (
            "Completed",
            {"StaticHyperParameters": {**SEED_INPUT["StaticHyperParameters"], "num_round": "200"}},
            InvalidInput,
            r"the static hyperparameters changed, so only TransferLearning applies",
        ),
        (
            "Completed",
            {"TrainingData": {"train": "datasets/churn/validation/", "validation": "datasets/churn/train/"}},
            InvalidInput,
            r"the training data changed",
        ),
    ],
)
def test_unfit_parents_are_named_with_the_reason(
    aws: dict[str, Any], setup: str | None, payload_change: dict[str, Any], error: type[Exception], message: str
) -> None:
    parent = tuned(aws, SEED_INPUT, status=setup) if setup else "xgb-missing"
    with pytest.raises(error, match=message):
        plan(aws, child(WarmStartConfig=warm("IdenticalDataAndAlgorithm", parent), **payload_change))


def test_transfer_learning_accepts_changed_static_hyperparameters(aws: dict[str, Any]) -> None:
    parent = tuned(aws, SEED_INPUT)
    static = {**SEED_INPUT["StaticHyperParameters"], "num_round": "200"}
    result = plan(aws, child(WarmStartConfig=warm("TRANSFER_LEARNING", parent), StaticHyperParameters=static))
    assert result["CreateHyperParameterTuningJob"]["WarmStartConfig"]["WarmStartType"] == "TransferLearning"


def test_another_teams_parent_is_a_policy_violation(aws: dict[str, Any]) -> None:
    other = tuned(aws, SEED_INPUT, policy=dataclasses.replace(POLICY, team="vision"))
    with pytest.raises(PolicyViolation, match=r"\(xgb-churn-tune-1\): belongs to vision, not to nlp"):
        plan(aws, child(WarmStartConfig=warm("TransferLearning", other)))


def test_auto_chooses_recent_fitting_parents_and_says_why(aws: dict[str, Any]) -> None:
    first = tuned(aws, SEED_INPUT)
    second = tuned(aws, child(TuningJobName="xgb-churn-tune-b"))
    running = tuned(aws, child(TuningJobName="xgb-churn-tune-c"), status="InProgress")
    result = plan(aws, child(TuningJobName="xgb-churn-tune-d", WarmStartConfig={"WarmStartType": "Auto"}))
    report = result["OutputExtras"]["WarmStart"]
    assert report["Type"] == "IdenticalDataAndAlgorithm" and report["Chosen"] == "Auto"
    assert report["Parents"] == [second, first]  # most recent first
    assert "same image, data and static hyperparameters" in report["Reason"]
    assert "it is InProgress" in report["Skipped"][running]

    static = {**SEED_INPUT["StaticHyperParameters"], "num_round": "200"}
    changed = plan(
        aws,
        child(
            TuningJobName="xgb-churn-tune-e", WarmStartConfig={"WarmStartType": "Auto"}, StaticHyperParameters=static
        ),
    )
    assert changed["OutputExtras"]["WarmStart"]["Type"] == "TransferLearning"
    assert "the static hyperparameters differ" in changed["OutputExtras"]["WarmStart"]["Reason"]


def test_auto_reads_the_teams_jobs_however_many_other_teams_ran_since(aws: dict[str, Any]) -> None:
    """Issue 14, hole 5: 50 newer tuning jobs of another team (as many as Auto considers) used to
    crowd the team's own parent out of an account-wide list; Search on the team tag does not."""
    ours = tuned(aws, SEED_INPUT)
    vision = dataclasses.replace(POLICY, team="vision")
    for index in range(50):
        tuned(aws, child(TuningJobName=f"vision-churn-{index:02d}"), status="InProgress", policy=vision)
    calls: list[dict[str, Any]] = []
    aws["sagemaker"].meta.events.register(
        "provide-client-params.sagemaker.Search", lambda params, **_: calls.append(params)
    )
    result = plan(aws, child(TuningJobName="xgb-churn-tune-d", WarmStartConfig={"WarmStartType": "Auto"}))
    assert result["OutputExtras"]["WarmStart"]["Parents"] == [ours]
    assert [c["VisibilityConditions"] for c in calls] == [[{"Key": "Tags.tunestack:team", "Value": "nlp"}]]


def test_auto_without_a_fitting_parent_starts_cold(aws: dict[str, Any]) -> None:
    result = plan(aws, child(WarmStartConfig={"WarmStartType": "Auto"}))
    assert "WarmStartConfig" not in result["CreateHyperParameterTuningJob"]
    assert result["OutputExtras"]["WarmStart"]["Type"] is None


def test_copy_settings_fills_what_the_input_leaves_out(aws: dict[str, Any]) -> None:
    parent = tuned(aws, SEED_INPUT)
    result = plan(aws, {"TuningJobName": "xgb-churn-copy", "CopySettingsFrom": parent, "MaxRuntimeInSeconds": 1800})
    params = result["CreateHyperParameterTuningJob"]
    assert params["HyperParameterTuningJobConfig"] == SEED_INPUT["HyperParameterTuningJobConfig"]
    assert params["TrainingJobDefinition"]["StaticHyperParameters"] == SEED_INPUT["StaticHyperParameters"]
    assert params["TrainingJobDefinition"]["StoppingCondition"]["MaxRuntimeInSeconds"] == 1800  # given, kept
    assert params["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"].endswith(
        "sagemaker-xgboost:1.7-1"
    )
    copied = result["OutputExtras"]["CopiedSettings"]
    assert copied["From"] == parent
    assert set(copied["Fields"]) == {
        "HyperParameterTuningJobConfig",
        "StaticHyperParameters",
        "Algorithm",
        "TrainingData",
        "InstanceType",
        "InstanceCount",
        "UseSpotInstances",
    }


def test_copy_settings_from_a_missing_parent_fails_naming_it(aws: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match=r"\$\.CopySettingsFrom \(nope\): no tuning job of that name"):
        plan(aws, {"CopySettingsFrom": "nope"})


def test_a_jumpstart_objective_must_be_a_metric_the_model_emits(aws: dict[str, Any]) -> None:
    aws["s3"].put_object(Bucket=POLICY.bucket, Key="datasets/news/data.csv", Body=b"0,good\n1,bad\n")
    payload = child(
        Algorithm={"JumpStartModelId": "huggingface-tc-bert-base-cased"},
        TrainingData="datasets/news/",
        StaticHyperParameters={"epochs": "2"},
        InstanceType="ml.p3.2xlarge",
        HyperParameterTuningJobConfig={
            **SEED_INPUT["HyperParameterTuningJobConfig"],
            "ParameterRanges": {
                "ContinuousParameterRanges": [
                    {"Name": "adam-learning-rate", "MinValue": "0.00001", "MaxValue": "0.001"}
                ]
            },
        },
    )
    policy = dataclasses.replace(POLICY, training_instance_types=("ml.p3.2xlarge",))
    with pytest.raises(InvalidInput, match=r"MetricName: 'validation:auc' is not a metric huggingface-tc-bert"):
        plan(aws, payload, policy)


def limits(**resource_limits: Any) -> dict[str, Any]:
    config = copy.deepcopy(SEED_INPUT["HyperParameterTuningJobConfig"])
    config["ResourceLimits"] = resource_limits
    return child(HyperParameterTuningJobConfig=config)


def test_the_wait_follows_the_tuning_jobs_own_limit_when_it_has_one(aws: dict[str, Any]) -> None:
    planned = plan(aws, limits(MaxNumberOfTrainingJobs=20, MaxParallelTrainingJobs=1, MaxRuntimeInSeconds=7200))
    assert planned["TaskTimeoutSeconds"] == 7200 + 1800


@pytest.mark.parametrize("runtime", [119, 15_768_001, "3600", True])
def test_the_tuning_jobs_own_limit_is_within_sagemakers_range(aws: dict[str, Any], runtime: Any) -> None:
    with pytest.raises(InvalidInput, match=r"ResourceLimits\.MaxRuntimeInSeconds: an integer from 120 to 15768000"):
        plan(aws, limits(MaxNumberOfTrainingJobs=2, MaxParallelTrainingJobs=1, MaxRuntimeInSeconds=runtime))


def test_a_tuning_job_that_could_outlast_an_execution_is_refused(aws: dict[str, Any]) -> None:
    # 20 trials one at a time, each allowed 28 days: 560 days, past a Standard execution's year.
    policy = dataclasses.replace(POLICY, max_runtime_in_seconds=28 * 86400)
    payload = {**limits(MaxNumberOfTrainingJobs=20, MaxParallelTrainingJobs=1), "MaxRuntimeInSeconds": 28 * 86400}
    with pytest.raises(InvalidInput, match=r"may run 560 days \(20 training jobs, 1 at a time, each up to 2419200 s\)"):
        plan(aws, payload, policy)
    # Its own limit within the year makes it acceptable.
    config = payload["HyperParameterTuningJobConfig"]
    config["ResourceLimits"]["MaxRuntimeInSeconds"] = 180 * 86400
    assert plan(aws, payload, policy)["TaskTimeoutSeconds"] == 180 * 86400 + 1800


def test_a_tuning_job_stopped_by_a_person_hands_its_finished_trials_on() -> None:
    from tunestack_runtime.job_kinds import tuning_outcome

    description = {
        "HyperParameterTuningJobName": "t",
        "HyperParameterTuningJobArn": "arn",
        "HyperParameterTuningJobStatus": "Stopped",
        "TrainingJobStatusCounters": {"Completed": 4, "Stopped": 2},
    }
    result, output = tuning_outcome(description, {"ParentModel": "xgboost:1.7-1"})
    assert result == "success" and output["TuningJobStatus"] == "Stopped" and output["ParentModel"] == "xgboost:1.7-1"
    failed = {**description, "HyperParameterTuningJobStatus": "Failed", "FailureReason": "No training job succeeded"}
    assert tuning_outcome(failed, {}) == ("TuningJobFailed", "No training job succeeded")


def test_spot_trials_of_a_tuning_job_share_no_checkpoint_location(aws: dict[str, Any]) -> None:
    """Every trial runs the one TrainingJobDefinition: a checkpoint location there would be every
    trial's, and one could resume from another's checkpoints with other hyperparameters."""
    definition = plan(aws, child(UseSpotInstances=True))["CreateHyperParameterTuningJob"]["TrainingJobDefinition"]
    assert definition["EnableManagedSpotTraining"] is True
    assert (
        definition["StoppingCondition"]["MaxWaitTimeInSeconds"]
        == 2 * definition["StoppingCondition"]["MaxRuntimeInSeconds"]
    )
    assert "CheckpointConfig" not in definition
