"""Launch, completion, reconcile and stop against moto with the simulator's SageMaker lifecycle."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from tunestack_runtime import job_lifecycle, token_store
from tunestack_runtime.errors import JobConflict, TrainingJobFailed, TrainingJobTimedOut
from tunestack_runtime.job_kinds import KINDS, TRAINING

from tunestack.simulator.clock import SimClock
from tunestack.simulator.sagemaker import SageMakerFaults, SimulatedSageMaker, simulated_sagemaker

REGION = "us-east-1"


class RecordingStepFunctions:
    """Stands in for the Step Functions API (not under test): records what the code sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send_task_success(self, **kwargs: Any) -> None:
        self.sent.append(("success", kwargs))

    def send_task_failure(self, **kwargs: Any) -> None:
        self.sent.append(("failure", kwargs))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    sim = SimulatedSageMaker(SimClock(), SageMakerFaults())
    with mock_aws(), simulated_sagemaker(sim):
        dynamodb = boto3.resource("dynamodb")
        table = dynamodb.create_table(
            TableName="tokens",
            KeySchema=[{"AttributeName": "JobName", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "JobName", "AttributeType": "S"},
                {"AttributeName": "ExecutionArn", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "ByExecution",
                    "KeySchema": [{"AttributeName": "ExecutionArn", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["JobType"]},
                }
            ],
        )
        yield {"sagemaker": boto3.client("sagemaker"), "table": table, "sim": sim, "sfn": RecordingStepFunctions()}


def params(name: str = "job-1", execution: str = "arn:exec:1") -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "RoleArn": "arn:aws:iam::123456789012:role/jobs",
        "AlgorithmSpecification": {
            "TrainingImage": "1.dkr.ecr.us-east-1.amazonaws.com/t:1",
            "TrainingInputMode": "File",
        },
        "InputDataConfig": [
            {
                "ChannelName": "training",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/d/"}},
            }
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "Tags": [{"Key": "tunestack:execution", "Value": execution}],
    }


def launch(
    aws: dict[str, Any], name: str = "job-1", execution: str = "arn:exec:1", token: str = "t1"
) -> dict[str, Any]:
    return job_lifecycle.launch(
        TRAINING,
        sagemaker=aws["sagemaker"],
        sfn=aws["sfn"],
        table=aws["table"],
        params=params(name, execution),
        task_token=token,
        execution_arn=execution,
        output_extras={"ParentModel": "m@1"},
    )


def test_a_retried_launch_adopts_its_own_job(aws: dict[str, Any]) -> None:
    assert launch(aws)["Adopted"] is False
    again = launch(aws, token="t2")
    assert again["Adopted"] is True
    assert aws["sim"].calls["CreateTrainingJob"] == 1
    waiting = token_store.take(aws["table"], "job-1")
    assert waiting is not None and waiting.task_token == "t2"  # the retry's token is the live one


def test_a_name_taken_by_another_execution_is_a_conflict(aws: dict[str, Any]) -> None:
    launch(aws)
    with pytest.raises(JobConflict, match=r"\$\.ModelName: a training job named 'job-1' already exists"):
        launch(aws, execution="arn:exec:2", token="t9")
    assert token_store.take(aws["table"], "job-1") is None  # the loser's token is not left behind


def test_completion_sends_success_once_even_for_duplicate_events(aws: dict[str, Any]) -> None:
    launch(aws)
    aws["sim"].clock.advance(120)
    aws["sim"].finish("job-1", "Completed")
    kwargs = {"sagemaker": aws["sagemaker"], "sfn": aws["sfn"], "table": aws["table"], "job_name": "job-1"}
    assert job_lifecycle.complete(TRAINING, **kwargs) is True
    assert job_lifecycle.complete(TRAINING, **kwargs) is False
    ((kind, sent),) = aws["sfn"].sent
    output = json.loads(sent["output"])
    assert kind == "success" and output["ParentModel"] == "m@1" and output["TrainingTimeSeconds"] == 120
    assert output["ModelArtifacts"] == "s3://bucket/job-1/output/model.tar.gz"


def test_completion_of_a_failed_job_sends_its_failure_reason(aws: dict[str, Any]) -> None:
    launch(aws)
    aws["sim"].finish("job-1", "Failed", "ClientError: data.csv is empty")
    job_lifecycle.complete(TRAINING, sagemaker=aws["sagemaker"], sfn=aws["sfn"], table=aws["table"], job_name="job-1")
    ((kind, sent),) = aws["sfn"].sent
    assert kind == "failure" and sent["error"] == "TrainingJobFailed" and "data.csv is empty" in sent["cause"]


def test_events_for_running_jobs_complete_nothing(aws: dict[str, Any]) -> None:
    launch(aws)
    assert not job_lifecycle.complete(
        TRAINING, sagemaker=aws["sagemaker"], sfn=aws["sfn"], table=aws["table"], job_name="job-1"
    )
    assert aws["sfn"].sent == []


def test_reconcile_stops_a_job_still_running_after_the_timeout(aws: dict[str, Any]) -> None:
    launch(aws)
    with pytest.raises(TrainingJobTimedOut, match="has been stopped"):
        job_lifecycle.reconcile(TRAINING, sagemaker=aws["sagemaker"], table=aws["table"], job_name="job-1")
    assert aws["sim"].jobs["job-1"].status == "Stopped"


def test_reconcile_reports_a_failed_job(aws: dict[str, Any]) -> None:
    launch(aws)
    aws["sim"].finish("job-1", "Failed", "AlgorithmError: boom")
    with pytest.raises(TrainingJobFailed, match="AlgorithmError: boom"):
        job_lifecycle.reconcile(TRAINING, sagemaker=aws["sagemaker"], table=aws["table"], job_name="job-1")


def test_aborted_execution_stops_its_jobs(aws: dict[str, Any]) -> None:
    launch(aws)
    stopped = job_lifecycle.stop_jobs_of_execution(
        KINDS, sagemaker=aws["sagemaker"], table=aws["table"], execution_arn="arn:exec:1"
    )
    assert stopped == ["job-1"]
    assert aws["sim"].calls["StopTrainingJob"] == 1
    assert (
        job_lifecycle.stop_jobs_of_execution(
            KINDS, sagemaker=aws["sagemaker"], table=aws["table"], execution_arn="arn:exec:1"
        )
        == []
    )


def test_throttling_becomes_a_retryable_error(aws: dict[str, Any]) -> None:
    aws["sim"].faults.reject["CreateTrainingJob"] = ["ThrottlingException"]
    from botocore.config import Config

    client = boto3.client("sagemaker", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    with pytest.raises(job_lifecycle.SageMakerThrottled):
        job_lifecycle.launch(
            TRAINING,
            sagemaker=client,
            sfn=aws["sfn"],
            table=aws["table"],
            params=params(),
            task_token="t",
            execution_arn="arn:exec:1",
            output_extras={},
        )
    assert aws["sim"].calls["CreateTrainingJob"] == 0
