"""Deploy: the input, the model and its serving container, the endpoint plan and lifecycle, against
moto with the simulator's SageMaker."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.runtime.test_job_lifecycle import RecordingStepFunctions
from tests.runtime.test_tune_input import SEED_INPUT
from tests.runtime.test_tune_plan import POLICY as TUNE_POLICY
from tests.runtime.test_tune_plan import aws as tune_aws  # noqa: F401  (fixture)
from tests.runtime.test_tune_plan import tuned
from tunestack_runtime import endpoint_lifecycle, jumpstart, token_store
from tunestack_runtime.deploy_input import validate_deploy_input
from tunestack_runtime.endpoint_plan import plan_deploy
from tunestack_runtime.errors import EndpointBusy, InvalidInput, PolicyViolation
from tunestack_runtime.executions import Execution
from tunestack_runtime.tags import EXECUTION_TAG, INFERENCE_IMAGE_TAG, LAUNCH_TAG, MODEL_TAG, PIPELINE_TAG, TEAM_TAG

POLICY = dataclasses.replace(
    TUNE_POLICY,
    hosting_instance_types=("ml.m5.xlarge", "ml.g5.xlarge", "ml.g4dn.xlarge"),
    default_hosting_instance_type="ml.m5.xlarge",
)
EXECUTION = Execution("arn:aws:states:eu-west-1:111122223333:execution:deploy:run-1", "2026-01-05T09:00:00.000Z")
SECOND = Execution(EXECUTION.arn + "-2", EXECUTION.start_time)


@pytest.fixture
def aws(tune_aws: dict[str, Any]) -> Iterator[dict[str, Any]]:  # noqa: F811
    dynamodb = boto3.resource("dynamodb")
    tune_aws["table"] = dynamodb.create_table(
        TableName="tokens",
        KeySchema=[{"AttributeName": "JobName", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "JobName", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    tune_aws["sfn"] = RecordingStepFunctions()
    yield tune_aws


def training_job(
    aws: dict[str, Any], name: str, tags: dict[str, str], image: str = "1.dkr.ecr.eu-west-1.amazonaws.com/t:1"
) -> str:
    """A completed training job with these tags, as a fine-tune would leave it."""
    aws["sagemaker"].create_training_job(
        TrainingJobName=name,
        RoleArn=POLICY.role_arn,
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": f"s3://{POLICY.bucket}/"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )
    aws["sim"].clock.advance(60)
    aws["sim"].finish(name, "Completed")
    return name


def plan(aws: dict[str, Any], payload: dict[str, Any], policy: Any = POLICY) -> dict[str, Any]:
    request = validate_deploy_input(payload, policy)
    return plan_deploy(request, policy=policy, sagemaker=aws["sagemaker"], s3=aws["s3"], execution=EXECUTION).to_dict()


INVALID = [
    ({"EndpointName": "e"}, InvalidInput, r"\$: give exactly one of TrainingJobName or TuningJobName"),
    ({"TrainingJobName": "a", "TuningJobName": "b", "EndpointName": "e"}, InvalidInput, r"exactly one of"),
    ({"TrainingJobName": "a_b", "EndpointName": "e"}, InvalidInput, r"\$\.TrainingJobName: 1-63 letters"),
    ({"TuningJobName": "t" * 33, "EndpointName": "e"}, InvalidInput, r"\$\.TuningJobName: 1-32 letters"),
    ({"TrainingJobName": "a"}, InvalidInput, r"\$\.EndpointName: required"),
    ({"TrainingJobName": "a", "EndpointName": "e", "Colour": 1}, InvalidInput, r"\$\.Colour: unknown field"),
    (
        {"TrainingJobName": "a", "EndpointName": "e", "InitialInstanceCount": 0},
        InvalidInput,
        r"InitialInstanceCount: must be",
    ),
    (
        {"TrainingJobName": "a", "EndpointName": "e", "InstanceType": "ml.p4d.24xlarge"},
        PolicyViolation,
        r"\$\.InstanceType: 'ml\.p4d",
    ),
    (
        {"TrainingJobName": "a", "EndpointName": "e", "InitialInstanceCount": 99},
        PolicyViolation,
        r"exceeds the team's limit",
    ),
]


@pytest.mark.parametrize(("payload", "error", "message"), INVALID)
def test_invalid_deploy_inputs_name_their_field(payload: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        validate_deploy_input(payload, POLICY)


def test_the_best_training_job_of_a_tuning_job_is_served_by_its_builtin_image(aws: dict[str, Any]) -> None:
    tuning = tuned(aws, SEED_INPUT)
    result = plan(aws, {"TuningJobName": tuning, "EndpointName": "churn", "InstanceType": "ml.m5.xlarge"})
    best = aws["sagemaker"].describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning)["BestTrainingJob"]
    model = result["CreateModel"]
    assert model["PrimaryContainer"]["Image"].endswith("sagemaker-xgboost:1.7-1")
    assert (
        result["OutputExtras"]["ModelDataUrl"] == f"s3://{POLICY.bucket}/{best['TrainingJobName']}/output/model.tar.gz"
    )
    assert result["PinArtifact"]["Key"] == f"{best['TrainingJobName']}/output/model.tar.gz"
    assert (
        model["PrimaryContainer"]["ModelDataUrl"] == f"s3://{POLICY.bucket}/deployed/{model['ModelName']}/model.tar.gz"
    )
    assert model["EnableNetworkIsolation"] is True and model["ExecutionRoleArn"] == POLICY.role_arn
    assert model["VpcConfig"] == {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1", "subnet-2"]}
    assert result["CreateEndpointConfig"]["KmsKeyId"] == POLICY.key_arn
    assert result["Endpoint"]["Action"] == "Create" and result["OutputExtras"]["Action"] == "Created"
    assert len(model["ModelName"]) <= 63 and model["ModelName"].startswith("nlp-churn-")


def test_a_jumpstart_model_gets_its_hosting_image_script_and_environment(aws: dict[str, Any]) -> None:
    training_job(aws, "news-bert", {TEAM_TAG: "nlp", MODEL_TAG: "huggingface-tc-bert-base-cased@3.0.6"})
    target = {"TrainingJobName": "news-bert", "EndpointName": "news", "InstanceType": "ml.g4dn.xlarge"}
    result = plan(aws, target)
    assert result["CreateModel"]["EnableNetworkIsolation"] is True  # as its spec says
    container = result["CreateModel"]["PrimaryContainer"]
    assert container["Image"] == (
        "763104351884.dkr.ecr.eu-west-1.amazonaws.com/"
        "huggingface-pytorch-inference:1.7.1-transformers4.6.1-gpu-py36-cu110-ubuntu18.04"
    )
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    assert container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"].endswith("sourcedir.tar.gz")
    # g4dn volumes are instance storage, which SageMaker encrypts itself and refuses a key for.
    assert "KmsKeyId" not in result["CreateEndpointConfig"]


def test_a_spec_without_inference_isolation_is_refused_where_the_team_requires_it(aws: dict[str, Any]) -> None:
    """Issue 14, hole 3: a JumpStart spec that leaves the isolation key out would turn isolation off."""
    bucket = jumpstart.cache_bucket(POLICY.region)
    key = "community_models/huggingface-tc-bert-base-cased/specs_v3.0.6.json"
    spec = json.loads(aws["s3"].get_object(Bucket=bucket, Key=key)["Body"].read())
    del spec["inference_enable_network_isolation"]
    aws["s3"].put_object(Bucket=bucket, Key=key, Body=json.dumps(spec).encode())
    training_job(aws, "news-bert", {TEAM_TAG: "nlp", MODEL_TAG: "huggingface-tc-bert-base-cased@3.0.6"})
    target = {"TrainingJobName": "news-bert", "EndpointName": "news", "InstanceType": "ml.g4dn.xlarge"}
    with pytest.raises(PolicyViolation, match=r"runs without network isolation, which team nlp requires"):
        plan(aws, target)
    result = plan(aws, target, dataclasses.replace(POLICY, network_isolation="algorithm"))
    assert result["CreateModel"]["EnableNetworkIsolation"] is False


def test_the_model_serves_the_artifact_its_job_wrote_even_after_an_overwrite(aws: dict[str, Any]) -> None:
    """Issue 14, hole 8: the artifact is overwritten after training; the deployment serves a copy
    of the job's own version, not whatever version is latest."""
    aws["s3"].put_bucket_versioning(Bucket=POLICY.bucket, VersioningConfiguration={"Status": "Enabled"})
    training_job(aws, "xgb-1", {TEAM_TAG: "nlp", MODEL_TAG: "xgboost:1.7-1"})
    artifact = aws["sagemaker"].describe_training_job(TrainingJobName="xgb-1")["ModelArtifacts"]["S3ModelArtifacts"]
    key = artifact.removeprefix(f"s3://{POLICY.bucket}/")
    original = aws["s3"].get_object(Bucket=POLICY.bucket, Key=key)["Body"].read()
    aws["s3"].put_object(Bucket=POLICY.bucket, Key=key, Body=b"overwritten by someone")
    planned = plan(aws, {"TrainingJobName": "xgb-1", "EndpointName": "churn"})
    served = planned["CreateModel"]["PrimaryContainer"]["ModelDataUrl"]
    assert served == f"s3://{POLICY.bucket}/deployed/{planned['CreateModel']['ModelName']}/model.tar.gz"
    endpoint_lifecycle.prepare(
        sagemaker=aws["sagemaker"],
        cloudwatch=boto3.client("cloudwatch"),
        s3=aws["s3"],
        plan=planned,
        execution=EXECUTION,
    )
    copy_key = served.removeprefix(f"s3://{POLICY.bucket}/")
    assert aws["s3"].get_object(Bucket=POLICY.bucket, Key=copy_key)["Body"].read() == original
    assert planned["OutputExtras"]["ModelDataUrl"] == artifact and planned["OutputExtras"]["ModelDataVersionId"]


def test_a_custom_image_needs_the_inference_image_it_was_trained_with(aws: dict[str, Any]) -> None:
    training_job(aws, "custom-a", {TEAM_TAG: "nlp", MODEL_TAG: "1.dkr.ecr.eu-west-1.amazonaws.com/t:1"})
    with pytest.raises(InvalidInput, match=r"custom training image names no InferenceImage"):
        plan(aws, {"TrainingJobName": "custom-a", "EndpointName": "c"})
    serving = "1.dkr.ecr.eu-west-1.amazonaws.com/serve:1"
    training_job(aws, "custom-b", {TEAM_TAG: "nlp", MODEL_TAG: "x", INFERENCE_IMAGE_TAG: serving})
    assert (
        plan(aws, {"TrainingJobName": "custom-b", "EndpointName": "c"})["CreateModel"]["PrimaryContainer"]["Image"]
        == serving
    )


def test_another_teams_training_job_is_refused(aws: dict[str, Any]) -> None:
    training_job(aws, "theirs", {TEAM_TAG: "vision", MODEL_TAG: "xgboost:1.7-1"})
    with pytest.raises(PolicyViolation, match=r"\(theirs\): belongs to vision, not to nlp"):
        plan(aws, {"TrainingJobName": "theirs", "EndpointName": "e"})


def test_a_missing_job_is_named(aws: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match=r"\$\.TrainingJobName \(nope\): no training job of that name"):
        plan(aws, {"TrainingJobName": "nope", "EndpointName": "e"})


def deploy_once(aws: dict[str, Any], endpoint: str = "churn", execution: Execution = EXECUTION) -> dict[str, Any]:
    """Plan, prepare and launch a deployment, as the state machine's first three states do."""
    if "xgb-1" not in aws["sim"].jobs:
        training_job(aws, "xgb-1", {TEAM_TAG: "nlp", MODEL_TAG: "xgboost:1.7-1"})
    request = validate_deploy_input({"TrainingJobName": "xgb-1", "EndpointName": endpoint}, POLICY)
    planned = plan_deploy(
        request, policy=POLICY, sagemaker=aws["sagemaker"], s3=aws["s3"], execution=execution
    ).to_dict()
    endpoint_lifecycle.prepare(
        sagemaker=aws["sagemaker"],
        cloudwatch=boto3.client("cloudwatch"),
        s3=aws["s3"],
        plan=planned,
        execution=execution,
    )
    endpoint_lifecycle.launch(
        sagemaker=aws["sagemaker"],
        sfn=aws["sfn"],
        table=aws["table"],
        endpoint=planned["Endpoint"],
        task_token=f"token-{execution.launch_key}",
        execution=execution,
        wait_seconds=3600,
        output_extras=planned["OutputExtras"],
    )
    return planned


def test_an_existing_endpoint_is_updated_in_place_with_blue_green_and_alarms(aws: dict[str, Any]) -> None:
    from tunestack.simulator.endpoints import finish_endpoint

    first = deploy_once(aws)
    finish_endpoint(aws["sim"], "churn", "InService")
    token_store.take(aws["table"], "Endpoint", "churn")
    second = deploy_once(aws, execution=SECOND)
    assert second["Endpoint"]["Action"] == "Update"
    policy = second["Endpoint"]["DeploymentConfig"]
    assert policy["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "ALL_AT_ONCE"
    assert [a["AlarmName"] for a in policy["AutoRollbackConfiguration"]["Alarms"]] == [
        "tunestack-nlp-churn-invocation-5xx",
        "tunestack-nlp-churn-model-latency",
    ]
    alarms = boto3.client("cloudwatch").describe_alarms(AlarmNamePrefix="tunestack-nlp-churn")["MetricAlarms"]
    assert {a["MetricName"] for a in alarms} == {"Invocation5XXErrors", "ModelLatency"}
    assert second["OutputExtras"]["PreviousEndpointConfigName"] == first["Endpoint"]["EndpointConfigName"]
    assert aws["sim"].calls["CreateEndpoint"] == 1 and aws["sim"].calls["UpdateEndpoint"] == 1


def test_a_second_deployment_waits_its_turn(aws: dict[str, Any]) -> None:
    deploy_once(aws)
    with pytest.raises(EndpointBusy, match=r"\(churn\): it is Creating; deploy again once it is InService"):
        deploy_once(aws, execution=SECOND)


def test_a_retried_launch_adopts_its_own_deployment(aws: dict[str, Any]) -> None:
    planned = deploy_once(aws)
    again = endpoint_lifecycle.launch(
        sagemaker=aws["sagemaker"],
        sfn=aws["sfn"],
        table=aws["table"],
        endpoint=planned["Endpoint"],
        task_token="token-retry",
        execution=EXECUTION,
        wait_seconds=3600,
        output_extras=planned["OutputExtras"],
    )
    assert again["Adopted"] is True and aws["sim"].calls["CreateEndpoint"] == 1


def test_another_teams_endpoint_is_refused(aws: dict[str, Any]) -> None:
    from tunestack.simulator.endpoints import finish_endpoint

    deploy_once(aws)
    finish_endpoint(aws["sim"], "churn", "InService")
    token_store.take(aws["table"], "Endpoint", "churn")
    training_job(aws, "xgb-v", {TEAM_TAG: "vision", MODEL_TAG: "xgboost:1.7-1"})
    with pytest.raises(PolicyViolation, match=r"\$\.EndpointName \(churn\): belongs to nlp, not to vision"):
        plan(aws, {"TrainingJobName": "xgb-v", "EndpointName": "churn"}, dataclasses.replace(POLICY, team="vision"))


@pytest.mark.parametrize(
    ("status", "serving", "expected"),
    [
        ("InService", "cfg-new", "success"),
        ("InService", "cfg-old", "EndpointUpdateRolledBack"),
        ("Failed", "cfg-new", "EndpointFailed"),
    ],
)
def test_the_outcome_compares_the_config_in_service(status: str, serving: str, expected: str) -> None:
    description = {"EndpointStatus": status, "EndpointConfigName": serving, "EndpointArn": "arn", "FailureReason": "r"}
    result, payload = endpoint_lifecycle.endpoint_outcome(description, {"EndpointConfigName": "cfg-new"})
    assert result == expected
    if expected == "EndpointUpdateRolledBack":
        assert "cfg-old still serves" in payload


def test_the_execution_tag_marks_what_a_deployment_created(aws: dict[str, Any]) -> None:
    planned = deploy_once(aws)
    arn = aws["sagemaker"].describe_model(ModelName=planned["CreateModel"]["ModelName"])["ModelArn"]
    tags = {t["Key"]: t["Value"] for t in aws["sagemaker"].list_tags(ResourceArn=arn)["Tags"]}
    assert tags == {
        TEAM_TAG: "nlp",
        EXECUTION_TAG: EXECUTION.arn,
        LAUNCH_TAG: EXECUTION.launch_key,
        PIPELINE_TAG: "deploy",
    }
