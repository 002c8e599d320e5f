"""JumpStart resolution from the cache bucket (fixture specs in moto S3) and the job request."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from tunestack_runtime import jumpstart
from tunestack_runtime.builtin_algorithms import image_uri
from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.fine_tune_input import validate_fine_tune_input
from tunestack_runtime.training_job import TrainingRecipe, create_request, create_tuning_request, fine_tune_recipe
from tunestack_runtime.tune_input import validate_tune_input

from tests.runtime.test_fine_tune_input import POLICY, VALID
from tests.runtime.test_tune_input import POLICY as TUNE_POLICY
from tests.runtime.test_tune_input import SEED_INPUT

FIXTURES = Path(__file__).resolve().parents[2] / "tunestack" / "simulator" / "fixtures" / "jumpstart"
REGION = "eu-west-1"
TEAM = dataclasses.replace(
    POLICY,
    role_arn="arn:aws:iam::111122223333:role/jobs",
    subnet_ids=("subnet-1", "subnet-2"),
    security_group_ids=("sg-1",),
    key_arn="arn:aws:kms:eu-west-1:111122223333:key/k",
)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        bucket = jumpstart.cache_bucket(REGION)
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        for path in FIXTURES.rglob("*.json"):
            client.upload_file(str(path), bucket, path.relative_to(FIXTURES).as_posix())
        yield client


def test_star_version_resolves_the_newest(s3: Any) -> None:
    model = jumpstart.load_model(s3, REGION, "pytorch-ic-mobilenet-v2", "*")
    assert model.version == "3.0.6"
    assert jumpstart.load_model(s3, REGION, "pytorch-ic-mobilenet-v2", "2.0.0").version == "2.0.0"


def test_image_comes_from_the_family_variant_and_regional_alias(s3: Any) -> None:
    model = jumpstart.load_model(s3, REGION, "huggingface-tc-bert-base-cased", "*")
    assert model.training_image("ml.p3.2xlarge").startswith("763104351884.dkr.ecr.eu-west-1.amazonaws.com/")
    assert model.training_image("ml.p3.2xlarge").endswith("-gpu-py39")
    assert model.training_image("ml.m5.xlarge").endswith("-cpu-py39")
    assert model.task == "tc" and model.network_isolation


@pytest.mark.parametrize(
    ("model_id", "version", "message"),
    [
        ("no-such-model", "*", r"\$\.Algorithm\.JumpStartModelId: no JumpStart model 'no-such-model'"),
        ("pytorch-ic-mobilenet-v2", "9.9.9", r"\$\.Algorithm\.JumpStartModelVersion: .* has no version '9\.9\.9'"),
    ],
)
def test_unknown_models_and_versions_name_the_field(s3: Any, model_id: str, version: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        jumpstart.load_model(s3, REGION, model_id, version)


@pytest.mark.parametrize(
    ("hyperparameters", "message"),
    [
        ({"epochs": "0"}, r"\$\.HyperParameters\.epochs: must be at least 1"),
        ({"epochs": "three"}, r"\$\.HyperParameters\.epochs: must be an integer"),
        ({"learning_rate": "2"}, r"\$\.HyperParameters\.learning_rate: must be at most 1"),
        ({"dropout": "0.1"}, r"\$\.HyperParameters\.dropout: not a hyperparameter of huggingface-tc-bert-base-cased"),
    ],
)
def test_hyperparameters_are_checked_against_the_spec(s3: Any, hyperparameters: dict[str, str], message: str) -> None:
    model = jumpstart.load_model(s3, REGION, "huggingface-tc-bert-base-cased", "*")
    with pytest.raises(InvalidInput, match=message):
        jumpstart.check_hyperparameters(model, hyperparameters)


def test_jumpstart_request_carries_the_team_settings_and_scaled_batch(s3: Any) -> None:
    request = validate_fine_tune_input(VALID, TEAM)
    recipe = fine_tune_recipe(request, dataclasses.replace(TEAM, region=REGION), s3)
    params = create_request(
        job_name=request.model_name, recipe=recipe, request=request, policy=TEAM, execution_arn="arn:exec"
    )
    assert params["HyperParameters"]["batch_size"] == "64"  # 16 per GPU x 4 GPUs of ml.p3.8xlarge
    assert params["HyperParameters"]["epochs"] == "3"
    assert params["HyperParameters"]["sagemaker_submit_directory"].startswith("s3://jumpstart-cache-prod-eu-west-1/")
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in params["InputDataConfig"]}
    assert channels == {
        "training": "s3://nlp-data-bucket/datasets/news/",
        "model": "s3://jumpstart-cache-prod-eu-west-1/huggingface-training/train-huggingface-tc-bert-base-cased.tar.gz",
    }
    assert params["RoleArn"] == TEAM.role_arn
    assert params["VpcConfig"] == {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1", "subnet-2"]}
    assert params["OutputDataConfig"] == {"S3OutputPath": "s3://nlp-data-bucket/", "KmsKeyId": TEAM.key_arn}
    assert params["ResourceConfig"]["VolumeKmsKeyId"] == TEAM.key_arn
    assert params["EnableNetworkIsolation"] is True and params["EnableInterContainerTrafficEncryption"] is True
    assert params["EnableManagedSpotTraining"] is True
    assert params["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 14400}
    assert params["CheckpointConfig"] == {"S3Uri": "s3://nlp-data-bucket/news-classifier-v1/checkpoints/"}
    assert {"Key": "tunestack:team", "Value": "nlp"} in params["Tags"]
    assert {"Key": "tunestack:execution", "Value": "arn:exec"} in params["Tags"]
    assert params["AlgorithmSpecification"]["MetricDefinitions"][0]["Name"].startswith("huggingface-textclassification")


def test_instance_type_the_model_cannot_train_on_is_refused(s3: Any) -> None:
    policy = dataclasses.replace(TEAM, region=REGION, training_instance_types=("ml.c5.2xlarge",))
    payload = {
        **VALID,
        "InstanceType": "ml.c5.2xlarge",
        "Algorithm": {"JumpStartModelId": "huggingface-tc-bert-base-cased"},
    }
    with pytest.raises(InvalidInput, match=r"\$\.InstanceType: huggingface-tc-bert-base-cased does not train on"):
        fine_tune_recipe(validate_fine_tune_input(payload, policy), policy, s3)


def test_builtin_algorithm_image_by_region(s3: Any) -> None:
    payload = {**VALID, "Algorithm": {"BuiltInAlgorithm": "xgboost", "Version": "1.7-1"}}
    policy = dataclasses.replace(TEAM, region=REGION)
    recipe = fine_tune_recipe(validate_fine_tune_input(payload, policy), policy, s3)
    assert recipe.image == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    assert recipe.channels == {"train": "s3://nlp-data-bucket/datasets/news/"}
    assert recipe.hyperparameters["mini_batch_size"] == "64"


def test_a_tuning_request_shares_the_fine_tune_job_definition(s3: Any) -> None:
    policy = dataclasses.replace(
        TUNE_POLICY,
        region=REGION,
        role_arn=TEAM.role_arn,
        key_arn=TEAM.key_arn,
        subnet_ids=TEAM.subnet_ids,
        security_group_ids=TEAM.security_group_ids,
    )
    tune = validate_tune_input(SEED_INPUT, policy)
    recipe = TrainingRecipe(
        parent_model="xgboost:1.7-1",
        image=image_uri("xgboost", "1.7-1", REGION),
        channels=dict(tune.training_data),
        hyperparameters=tune.static_hyperparameters,
    )
    params = create_tuning_request(
        tuning_job_name="xgb-churn-tune-1",
        recipe=recipe,
        resources=tune,
        policy=policy,
        execution_arn="arn:exec",
        config=tune.config.raw,  # type: ignore[union-attr]
    )
    definition = params["TrainingJobDefinition"]
    assert params["HyperParameterTuningJobConfig"] == SEED_INPUT["HyperParameterTuningJobConfig"]
    assert definition["StaticHyperParameters"]["tweedie_variance_power"] == "1.4"
    assert definition["VpcConfig"] == {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1", "subnet-2"]}
    assert definition["ResourceConfig"]["VolumeKmsKeyId"] == TEAM.key_arn
    assert [c["ChannelName"] for c in definition["InputDataConfig"]] == ["train", "validation"]
    assert {"Key": "tunestack:team", "Value": "nlp"} in params["Tags"]
    # Exactly the keys a CreateTrainingJob carries, less its name, hyperparameters and tags.
    fine_tune_keys = {
        "RoleArn",
        "AlgorithmSpecification",
        "InputDataConfig",
        "OutputDataConfig",
        "ResourceConfig",
        "VpcConfig",
        "StoppingCondition",
        "EnableNetworkIsolation",
        "EnableInterContainerTrafficEncryption",
        "EnableManagedSpotTraining",
    }
    assert set(definition) == fine_tune_keys | {"StaticHyperParameters"}
