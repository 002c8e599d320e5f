"""Tuning analysis: lineage across warm-start parents, leaderboard files in S3, the metric."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.runtime.test_leaderboard import CURRENT, PARENT
from tunestack_runtime import tuning_analysis


class TuningSageMaker:
    """Stands in for SageMaker's tuning APIs (moto has no ListTrainingJobsForHyperParameterTuningJob)."""

    def __init__(self) -> None:
        self.JOBS = {
            "tune-2": ({"ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "tune-1"}]}, CURRENT),
            "tune-1": (None, PARENT),
        }

    def describe_hyper_parameter_tuning_job(self, HyperParameterTuningJobName: str) -> dict[str, Any]:
        warm, _ = self.JOBS[HyperParameterTuningJobName]
        description: dict[str, Any] = {
            "HyperParameterTuningJobName": HyperParameterTuningJobName,
            "HyperParameterTuningJobConfig": {
                "HyperParameterTuningJobObjective": {"MetricName": "validation:auc", "Type": "Maximize"}
            },
        }
        if warm:
            description["WarmStartConfig"] = {**warm, "WarmStartType": "IdenticalDataAndAlgorithm"}
        return description

    def list_training_jobs_for_hyper_parameter_tuning_job(self, **kwargs: Any) -> dict[str, Any]:
        return {"TrainingJobSummaries": self.JOBS[kwargs["HyperParameterTuningJobName"]][1]}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="team-bucket")
        yield {"s3": s3, "cloudwatch": boto3.client("cloudwatch"), "sagemaker": TuningSageMaker()}


def test_lineage_follows_warm_start_parents() -> None:
    assert tuning_analysis.lineage(TuningSageMaker(), "tune-2") == [(0, "tune-2"), (1, "tune-1")]


def test_analysis_writes_the_leaderboard_and_publishes_the_best(aws: dict[str, Any]) -> None:
    analysis = tuning_analysis.analyse(
        sagemaker=aws["sagemaker"],
        s3=aws["s3"],
        cloudwatch=aws["cloudwatch"],
        tuning_job_name="tune-2",
        bucket="team-bucket",
        team="nlp",
    )
    output = analysis.output()
    assert output["BestTrainingJob"]["TrainingJobName"] == "tune-2-003"
    assert output["BestTrainingJob"]["HyperParameters"] == {"eta": "0.1", "max_depth": "5"}
    assert output["TrainingJobs"] == 7 and output["StatusCounts"]["FailedNonRetryable"] == 1
    stored = json.loads(aws["s3"].get_object(Bucket="team-bucket", Key="tuning/tune-2/leaderboard.json")["Body"].read())
    assert {row["generation"] for row in stored["Rows"]} == {0, 1}
    csv_text = aws["s3"].get_object(Bucket="team-bucket", Key="tuning/tune-2/leaderboard.csv")["Body"].read().decode()
    assert csv_text.splitlines()[1].split(",")[1] == "tune-2-003"
    (metric,) = aws["cloudwatch"].list_metrics(Namespace=tuning_analysis.metric_namespace("nlp"))["Metrics"]
    assert aws["cloudwatch"].list_metrics(Namespace="tunestack/Tuning")["Metrics"] == []  # never the shared one
    assert metric["MetricName"] == "BestObjective"
    assert {"Name": "Team", "Value": "nlp"} in metric["Dimensions"]
