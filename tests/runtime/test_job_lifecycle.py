"""Launch, completion, reconcile and stop against moto with the simulator's SageMaker lifecycle."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tunestack.simulator.clock import SimClock
from tunestack.simulator.sagemaker import SageMakerFaults, SimulatedSageMaker, simulated_sagemaker
from tunestack_runtime import job_lifecycle, token_store
from tunestack_runtime.errors import JobConflict, TrainingJobFailed, TrainingJobTimedOut
from tunestack_runtime.executions import Execution
from tunestack_runtime.job_kinds import KINDS, TRAINING
from tunestack_runtime.sagemaker_errors import SageMakerThrottled, retrying_client
from tunestack_runtime.tags import execution_tags

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


FIRST = Execution("arn:aws:states:us-east-1:123456789012:execution:fine-tune:run-1", "2026-01-05T09:00:00.000Z")
OTHER = Execution("arn:aws:states:us-east-1:123456789012:execution:fine-tune:run-2", "2026-01-05T09:05:00.000Z")
#: The name of FIRST used again 91 days later: the same ARN, another run.
REUSED = Execution(FIRST.arn, "2026-04-06T09:00:00.000Z")


def params(name: str = "job-1", execution: Execution = FIRST) -> dict[str, Any]:
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
        "Tags": [{"Key": "tunestack:team", "Value": "nlp"}, *execution_tags(execution, "fine-tune")],
    }


def launch(
    aws: dict[str, Any],
    name: str = "job-1",
    execution: Execution = FIRST,
    token: str = "t1",
    sagemaker: Any = None,
) -> dict[str, Any]:
    return job_lifecycle.launch(
        TRAINING,
        sagemaker=sagemaker or aws["sagemaker"],
        sfn=aws["sfn"],
        table=aws["table"],
        params=params(name, execution),
        task_token=token,
        execution=execution,
        wait_seconds=3600 + job_lifecycle.TIMEOUT_MARGIN_SECONDS,
        output_extras={"ParentModel": "m@1"},
    )


def waiting(aws: dict[str, Any], name: str = "job-1") -> token_store.WaitingExecution | None:
    return token_store.take(aws["table"], "TrainingJob", name)


def test_a_retried_launch_adopts_its_own_job(aws: dict[str, Any]) -> None:
    assert launch(aws)["Adopted"] is False
    again = launch(aws, token="t2")
    assert again["Adopted"] is True
    assert aws["sim"].calls["CreateTrainingJob"] == 1
    found = waiting(aws)
    assert found is not None and found.task_token == "t2"  # the retry's token is the live one


def test_a_second_execution_racing_for_the_name_leaves_the_first_ones_token_alone(aws: dict[str, Any]) -> None:
    launch(aws)
    with pytest.raises(JobConflict, match=r"\$\.ModelName: another execution is running a training job named 'job-1'"):
        launch(aws, execution=OTHER, token="t9")
    assert aws["sim"].calls["CreateTrainingJob"] == 1  # the second never reached SageMaker
    found = waiting(aws)
    assert found is not None and (found.task_token, found.execution_arn) == ("t1", FIRST.arn)


def test_a_name_another_execution_used_earlier_is_a_conflict(aws: dict[str, Any]) -> None:
    launch(aws)
    aws["sim"].finish("job-1", "Completed")
    waiting(aws)  # its completion took the token
    with pytest.raises(JobConflict, match=r"'job-1' already exists and belongs to arn:aws:states:.*:run-1"):
        launch(aws, execution=OTHER, token="t9")
    assert waiting(aws) is None  # the loser's token is not left behind


def test_an_execution_name_used_again_never_adopts_the_earlier_job(aws: dict[str, Any]) -> None:
    launch(aws)
    aws["sim"].finish("job-1", "Completed")
    waiting(aws)
    with pytest.raises(JobConflict, match=r"belongs to an earlier execution of the same name"):
        launch(aws, execution=REUSED, token="t-91-days-later")
    assert aws["sfn"].sent == []  # the old job's outcome went nowhere
    assert waiting(aws) is None


def test_another_teams_job_of_that_name_is_a_conflict(aws: dict[str, Any]) -> None:
    from botocore.exceptions import ClientError

    aws["sagemaker"].create_training_job(**{**params("theirs"), "Tags": [{"Key": "tunestack:team", "Value": "x"}]})

    class HiddenByIam:
        """IAM hides another team's job from Describe (its tag does not match)."""

        def __getattr__(self, name: str) -> Any:
            if name == "describe_training_job":

                def denied(**_: Any) -> None:
                    raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "Describe")

                return denied
            return getattr(aws["sagemaker"], name)

    with pytest.raises(JobConflict, match=r"'theirs' already exists and belongs to another team"):
        launch(aws, name="theirs", sagemaker=HiddenByIam())
    assert waiting(aws, "theirs") is None


def test_the_token_lives_as_long_as_the_wait(aws: dict[str, Any]) -> None:
    import time

    launch(aws)
    (item,) = aws["table"].scan()["Items"]
    wait = 3600 + job_lifecycle.TIMEOUT_MARGIN_SECONDS
    assert abs(int(item["ExpiresAt"]) - (time.time() + wait + token_store.TOKEN_MARGIN_SECONDS)) < 60
    assert item["JobName"] == "TrainingJob/job-1" and item["LaunchKey"] == FIRST.launch_key


def test_a_training_job_and_a_tuning_job_of_one_name_wait_apart(aws: dict[str, Any]) -> None:
    launch(aws)
    assert token_store.put(
        aws["table"],
        job_type="HyperParameterTuningJob",
        job_name="job-1",
        task_token="tt",
        execution=OTHER,
        wait_seconds=60,
    )
    assert waiting(aws).task_token == "t1"  # type: ignore[union-attr]


def test_a_token_stored_before_tokens_were_keyed_by_kind_still_completes_its_execution(aws: dict[str, Any]) -> None:
    aws["sagemaker"].create_training_job(**params())
    aws["table"].put_item(  # as the earlier version stored it: by name, no launch key
        Item={"JobName": "job-1", "JobType": "TrainingJob", "TaskToken": "old", "ExecutionArn": FIRST.arn}
    )
    assert token_store.take(aws["table"], "HyperParameterTuningJob", "job-1") is None  # another kind's name
    aws["sim"].finish("job-1", "Completed")
    kwargs = {"sagemaker": aws["sagemaker"], "sfn": aws["sfn"], "table": aws["table"], "job_name": "job-1"}
    assert job_lifecycle.complete(TRAINING, **kwargs) is True
    ((kind, sent),) = aws["sfn"].sent
    assert kind == "success" and sent["taskToken"] == "old"
    assert token_store.jobs_of_execution(aws["table"], FIRST.arn) == []


def test_an_execution_started_before_the_start_time_was_passed_reconciles_with_its_token(
    aws: dict[str, Any],
) -> None:
    aws["sagemaker"].create_training_job(**params())
    aws["table"].put_item(
        Item={
            "JobName": "job-1",
            "JobType": "TrainingJob",
            "TaskToken": "old",
            "ExecutionArn": FIRST.arn,
            "Extras": '{"ParentModel": "m@1"}',
        }
    )
    aws["sim"].finish("job-1", "Completed")
    earlier = Execution.of({"ExecutionArn": FIRST.arn})  # its payload has no ExecutionStartTime
    assert reconcile(aws, execution=earlier)["ParentModel"] == "m@1"


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


def reconcile(aws: dict[str, Any], execution: Execution = FIRST) -> dict[str, Any]:
    return job_lifecycle.reconcile(
        TRAINING, sagemaker=aws["sagemaker"], table=aws["table"], job_name="job-1", execution=execution
    )


def test_reconcile_stops_a_job_still_running_after_the_timeout(aws: dict[str, Any]) -> None:
    launch(aws)
    with pytest.raises(TrainingJobTimedOut, match="has been stopped"):
        reconcile(aws)
    assert aws["sim"].jobs["job-1"].status == "Stopped"
    assert waiting(aws) is None


def test_reconcile_reports_a_failed_job(aws: dict[str, Any]) -> None:
    launch(aws)
    aws["sim"].finish("job-1", "Failed", "AlgorithmError: boom")
    with pytest.raises(TrainingJobFailed, match="AlgorithmError: boom"):
        reconcile(aws)


def test_reconcile_takes_only_its_own_runs_token(aws: dict[str, Any]) -> None:
    launch(aws)
    aws["sim"].finish("job-1", "Completed")
    assert reconcile(aws, execution=OTHER)["TrainingJobName"] == "job-1"
    assert waiting(aws) is not None


def test_an_ended_execution_stops_its_jobs(aws: dict[str, Any]) -> None:
    launch(aws)
    stopped = job_lifecycle.stop_jobs_of_execution(
        KINDS, sagemaker=aws["sagemaker"], table=aws["table"], execution_arn=FIRST.arn
    )
    assert stopped == ["job-1"]
    assert aws["sim"].calls["StopTrainingJob"] == 1
    assert (
        job_lifecycle.stop_jobs_of_execution(
            KINDS, sagemaker=aws["sagemaker"], table=aws["table"], execution_arn=FIRST.arn
        )
        == []
    )


def test_a_launch_that_failed_before_its_create_leaves_nothing_to_stop(aws: dict[str, Any]) -> None:
    aws["sim"].faults.reject["CreateTrainingJob"] = ["ValidationException"]
    with pytest.raises(Exception, match="ValidationException"):
        launch(aws)
    assert (
        job_lifecycle.stop_jobs_of_execution(
            KINDS, sagemaker=aws["sagemaker"], table=aws["table"], execution_arn=FIRST.arn
        )
        == []
    )
    assert waiting(aws) is None


def test_throttling_becomes_a_retryable_error(aws: dict[str, Any]) -> None:
    aws["sim"].faults.reject["CreateTrainingJob"] = ["ThrottlingException"]
    from botocore.config import Config

    client = boto3.client("sagemaker", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    with pytest.raises(SageMakerThrottled):
        launch(aws, sagemaker=client)
    assert aws["sim"].calls["CreateTrainingJob"] == 0


def test_every_call_of_the_tasks_client_reports_throttling_by_one_name(aws: dict[str, Any]) -> None:
    from botocore.config import Config

    client = retrying_client(
        boto3.client("sagemaker", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    )
    aws["sim"].faults.reject["DescribeTrainingJob"] = ["ThrottlingException"]
    launch(aws)
    with pytest.raises(SageMakerThrottled, match="ThrottlingException"):
        client.describe_training_job(TrainingJobName="job-1")
    assert client.describe_training_job(TrainingJobName="job-1")["TrainingJobStatus"] == "InProgress"
