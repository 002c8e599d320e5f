"""JumpStart resolution from the cache bucket (fixture specs in moto S3) and the job request."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.runtime.test_fine_tune_input import POLICY, VALID
from tests.runtime.test_tune_input import POLICY as TUNE_POLICY
from tests.runtime.test_tune_input import SEED_INPUT
from tunestack_runtime import jumpstart
from tunestack_runtime.builtin_algorithms import image_uri
from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.executions import Execution
from tunestack_runtime.fine_tune_input import validate_fine_tune_input
from tunestack_runtime.training_job import (
    TrainingRecipe,
    create_request,
    create_tuning_request,
    fine_tune_recipe,
    output_artifact_uri,
)
from tunestack_runtime.tune_input import validate_tune_input

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


def test_star_and_wildcard_versions_resolve_the_newest(s3: Any) -> None:
    assert jumpstart.load_model(s3, REGION, "pytorch-ic-mobilenet-v2", "*").version == "3.0.25"
    assert jumpstart.load_model(s3, REGION, "pytorch-ic-mobilenet-v2", "3.0.*").version == "3.0.25"
    assert jumpstart.load_model(s3, REGION, "pytorch-ic-mobilenet-v2", "3.0.6").version == "3.0.6"


def test_image_comes_from_the_family_variant_and_regional_alias(s3: Any) -> None:
    model = jumpstart.load_model(s3, REGION, "tensorflow-ic-bit-m-r101x1-ilsvrc2012-classification-1", "*")
    assert model.training_image("ml.p3.2xlarge") == (
        "763104351884.dkr.ecr.eu-west-1.amazonaws.com/tensorflow-training:2.9-gpu-py39"
    )
    assert model.training_image("ml.m5.xlarge").endswith("tensorflow-training:2.9-cpu-py39")
    with pytest.raises(
        InvalidInput, match=r"\$\.InstanceType: .* has no training image for ml\.r5\.large in eu-west-1"
    ):
        model.training_image("ml.r5.large")


@pytest.mark.parametrize(
    ("model_id", "version", "message"),
    [
        ("no-such-model", "*", r"\$\.Algorithm\.JumpStartModelId: no JumpStart model 'no-such-model'"),
        (
            "pytorch-ic-mobilenet-v2",
            "9.9.9",
            r"\$\.Algorithm\.JumpStartModelVersion: .* no version '9\.9\.9' \(known: 3\.0\.6, 3\.0\.25\)",
        ),
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
        ({"adam-learning-rate": "2"}, r"\$\.HyperParameters\.adam-learning-rate: must be at most 1"),
        (
            {"learning_rate": "0.1"},
            r"learning_rate: not a hyperparameter of huggingface-tc-bert-base-cased \(known: .*adam-learning-rate",
        ),
    ],
)
def test_hyperparameters_are_checked_against_the_spec(s3: Any, hyperparameters: dict[str, str], message: str) -> None:
    model = jumpstart.load_model(s3, REGION, "huggingface-tc-bert-base-cased", "*")
    with pytest.raises(InvalidInput, match=message):
        jumpstart.check_hyperparameters(model, hyperparameters, "ml.p3.2xlarge")


def request_for(s3: Any, payload: dict[str, Any], policy: Any = None) -> dict[str, Any]:
    policy = policy or dataclasses.replace(TEAM, region=REGION)
    request = validate_fine_tune_input(payload, policy)
    recipe = fine_tune_recipe(request, policy, s3)
    return create_request(
        job_name=request.model_name, recipe=recipe, request=request, policy=policy, execution=Execution("arn:exec", "t")
    )


def test_jumpstart_request_carries_the_spec_and_the_team_settings(s3: Any) -> None:
    params = request_for(s3, VALID)
    spec_bucket = "s3://jumpstart-cache-prod-eu-west-1"
    assert params["HyperParameters"]["batch-size"] == "64"  # the model's own name: 16 per GPU x 4 GPUs of ml.p3.8xlarge
    assert params["HyperParameters"]["epochs"] == "3"
    # Network isolation: the script travels as the "code" channel, the prepacked one where the spec has it.
    assert params["EnableNetworkIsolation"] is True
    assert params["HyperParameters"]["sagemaker_submit_directory"] == "/opt/ml/input/data/code/sourcedir.tar.gz"
    assert params["HyperParameters"]["sagemaker_program"] == "transfer_learning.py"
    assert params["HyperParameters"]["sagemaker_job_name"] == "news-classifier-v1"
    channels = {c["ChannelName"]: c for c in params["InputDataConfig"]}
    assert channels["training"]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://nlp-data-bucket/datasets/news/"
    assert channels["code"]["DataSource"]["S3DataSource"]["S3Uri"].startswith(
        f"{spec_bucket}/source-directory-tarballs/huggingface/transfer_learning/tc/prepack/"
    )
    assert channels["model"]["ContentType"] == "application/x-sagemaker-model"
    assert channels["model"]["DataSource"]["S3DataSource"]["S3Uri"].startswith(f"{spec_bucket}/huggingface-training/")
    assert params["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "hugginface-tc:eval-accuracy", "Regex": "'eval_accuracy': ([0-9\\.]+)"}
    ]
    assert params["RoleArn"] == TEAM.role_arn
    assert params["VpcConfig"] == {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1", "subnet-2"]}
    assert params["OutputDataConfig"] == {"S3OutputPath": "s3://nlp-data-bucket/", "KmsKeyId": TEAM.key_arn}
    assert params["ResourceConfig"] == {
        "InstanceType": "ml.p3.8xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
        "VolumeKmsKeyId": TEAM.key_arn,
    }
    assert params["EnableInterContainerTrafficEncryption"] is True
    assert params["EnableManagedSpotTraining"] is True
    assert params["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 14400}
    assert params["CheckpointConfig"] == {"S3Uri": "s3://nlp-data-bucket/news-classifier-v1/checkpoints/"}
    assert {"Key": "tunestack:team", "Value": "nlp"} in params["Tags"]
    assert {"Key": "tunestack:execution", "Value": "arn:exec"} in params["Tags"]
    assert {"Key": "tunestack:model", "Value": "huggingface-tc-bert-base-cased@3.0.6"} in params["Tags"]


def test_local_storage_instance_gets_no_volume_key(s3: Any) -> None:
    params = request_for(s3, {**VALID, "InstanceType": "ml.g4dn.xlarge"})
    assert "VolumeKmsKeyId" not in params["ResourceConfig"]
    assert params["OutputDataConfig"]["KmsKeyId"] == TEAM.key_arn  # the output is still the team key's


LLAMA = {
    "ModelName": "support-llama",
    "Algorithm": {"JumpStartModelId": "meta-textgeneration-llama-3-1-70b"},
    "TrainingData": "datasets/support/",
    "InstanceType": "ml.g5.48xlarge",
}
LLM_TEAM = dataclasses.replace(TEAM, region=REGION, training_instance_types=("ml.g5.48xlarge", "ml.p4d.24xlarge"))


def test_a_gated_model_needs_its_eula_accepted_naming_the_field_and_the_eula(s3: Any) -> None:
    with pytest.raises(
        InvalidInput,
        match=r"\$\.AcceptEula: meta-textgeneration-llama-3-1-70b@2\.16\.2 is gated behind a EULA "
        r"\(read it at s3://jumpstart-cache-prod-eu-west-1/fmhMetadata/eula/llama3_1Eula\.txt\)",
    ):
        request_for(s3, LLAMA, LLM_TEAM)


def test_an_accepted_eula_reaches_the_job_as_the_spec_needs_and_is_recorded(s3: Any) -> None:
    params = request_for(s3, {**LLAMA, "AcceptEula": True, "BatchSizePerGpu": 2}, LLM_TEAM)
    # This spec passes the gated weights by environment variable (no model channel), per instance family.
    assert params["Environment"] == {
        "accept_eula": "true",
        "SageMakerGatedModelS3Uri": "s3://jumpstart-private-cache-prod-eu-west-1/meta-training/g5/v1.0.0/"
        "train-meta-textgeneration-llama-3-1-70b.tar.gz",
    }
    assert {c["ChannelName"] for c in params["InputDataConfig"]} == {"training", "code"}
    assert {"Key": "tunestack:eula-accepted", "Value": "true"} in params["Tags"]
    # The spec's estimator_kwargs ask for uncompressed output (disable_output_compression).
    assert params["OutputDataConfig"]["CompressionType"] == "NONE"
    assert output_artifact_uri("b", "support-llama", compressed=False) == "s3://b/support-llama/output/model/"
    assert params["HyperParameters"]["per_device_train_batch_size"] == "2"  # per device: not multiplied by 8 GPUs
    # ml.g5.48xlarge has local storage: no volume key, and the spec's 256 GB applies only to EBS volumes.
    assert params["ResourceConfig"]["VolumeSizeInGB"] == 30 and "VolumeKmsKeyId" not in params["ResourceConfig"]
    weights = request_for(s3, {**LLAMA, "AcceptEula": True, "InstanceType": "ml.p4d.24xlarge"}, LLM_TEAM)
    assert "/meta-training/p4d/" in weights["Environment"]["SageMakerGatedModelS3Uri"]


def test_accepting_a_eula_a_model_does_not_have_is_refused(s3: Any) -> None:
    with pytest.raises(InvalidInput, match=r"\$\.AcceptEula: huggingface-tc-bert-base-cased@3\.0\.6 has no EULA"):
        request_for(s3, {**VALID, "AcceptEula": True})


def test_a_model_that_trains_but_is_not_fine_tuned_still_trains(s3: Any) -> None:
    """catboost: training_supported true, fine_tuning_supported false (as the SDK trains it)."""
    payload = {
        "ModelName": "churn-catboost",
        "Algorithm": {"JumpStartModelId": "catboost-classification-model"},
        "TrainingData": "datasets/churn/",
        "InstanceType": "ml.m5.xlarge",
    }
    params = request_for(s3, payload)
    assert params["AlgorithmSpecification"]["MetricDefinitions"][0]["Name"] == "catboost-classification:multi-logloss"
    with pytest.raises(
        InvalidInput, match=r"\$\.BatchSizePerGpu: catboost-classification-model@2\.1\.6 has no batch-size"
    ):
        request_for(s3, {**payload, "BatchSizePerGpu": 8})


def with_spec(s3: Any, model_id: str, changes: dict[str, Any]) -> str:
    """A copy of a catalog spec under a new id with ``changes``, added to the manifest; returns the id."""
    bucket = jumpstart.cache_bucket(REGION)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=jumpstart.MANIFEST_KEY)["Body"].read())
    entry = max((e for e in manifest if e["model_id"] == model_id), key=lambda e: jumpstart._version_key(e["version"]))
    spec = json.loads(s3.get_object(Bucket=bucket, Key=entry["spec_key"])["Body"].read())
    new_id = f"{model_id}-changed"
    key = f"community_models/{new_id}/specs_v{entry['version']}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps({**spec, "model_id": new_id, **changes}).encode())
    manifest.append({**entry, "model_id": new_id, "spec_key": key})
    s3.put_object(Bucket=bucket, Key=jumpstart.MANIFEST_KEY, Body=json.dumps(manifest).encode())
    return new_id


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"training_supported": False}, r"cannot be trained \(its spec has training_supported false\)"),
        ({"deprecated": True, "deprecated_message": "use v3"}, r"is deprecated: use v3"),
        (
            {"training_vulnerable": True, "training_vulnerabilities": ["x==1.0"]},
            r"trains with a vulnerable script \(x==1\.0\)",
        ),
    ],
)
def test_what_the_sdk_refuses_to_train_is_refused_with_the_specs_reason(
    s3: Any, changes: dict[str, Any], message: str
) -> None:
    model_id = with_spec(s3, "tensorflow-ic-bit-m-r101x1-ilsvrc2012-classification-1", changes)
    with pytest.raises(InvalidInput, match=rf"\$\.Algorithm\.JumpStartModelId: {model_id}@4\.0\.6 .*{message}"):
        request_for(s3, {**VALID, "Algorithm": {"JumpStartModelId": model_id}, "InstanceType": "ml.m5.xlarge"})


def test_the_specs_volume_size_applies_to_ebs_volumes_only(s3: Any) -> None:
    model_id = with_spec(s3, "tensorflow-ic-bit-m-r101x1-ilsvrc2012-classification-1", {"training_volume_size": 512})
    policy = dataclasses.replace(TEAM, region=REGION, training_instance_types=("ml.m5.xlarge", "ml.g5.xlarge"))
    payload = {**VALID, "Algorithm": {"JumpStartModelId": model_id}, "HyperParameters": {}, "BatchSizePerGpu": 4}
    ebs = request_for(s3, {**payload, "InstanceType": "ml.m5.xlarge"}, policy)
    local = request_for(s3, {**payload, "InstanceType": "ml.g5.xlarge"}, policy)
    assert (ebs["ResourceConfig"]["VolumeSizeInGB"], local["ResourceConfig"]["VolumeSizeInGB"]) == (512, 30)


def test_without_isolation_the_script_is_read_from_s3(s3: Any) -> None:
    model_id = with_spec(s3, "pytorch-ic-mobilenet-v2", {"training_enable_network_isolation": False})
    params = request_for(
        s3,
        {**VALID, "Algorithm": {"JumpStartModelId": model_id}, "HyperParameters": {}, "InstanceType": "ml.m5.xlarge"},
    )
    assert params["EnableNetworkIsolation"] is False
    assert "code" not in {c["ChannelName"] for c in params["InputDataConfig"]}
    assert params["HyperParameters"]["sagemaker_submit_directory"].startswith(
        "s3://jumpstart-cache-prod-eu-west-1/source-directory-tarballs/pytorch/transfer_learning/ic/prepack/"
    )


def test_instance_specific_metrics_and_defaults_override_the_specs(s3: Any) -> None:
    variants = {
        "regional_aliases": {REGION: {"cpu": "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:1-cpu"}},
        "variants": {
            "m5": {
                "regional_properties": {"image_uri": "$cpu"},
                "properties": {
                    "metrics": [{"Name": "pytorch-ic:val-accuracy", "Regex": "acc=([0-9.]+)"}],
                    "hyperparameters": [
                        {"name": "epochs", "type": "int", "default": 9, "min": 1, "max": 100, "scope": "algorithm"}
                    ],
                },
            }
        },
    }
    model_id = with_spec(s3, "pytorch-ic-mobilenet-v2", {"training_instance_type_variants": variants})
    params = request_for(
        s3,
        {**VALID, "Algorithm": {"JumpStartModelId": model_id}, "HyperParameters": {}, "InstanceType": "ml.m5.xlarge"},
    )
    assert params["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "pytorch-ic:val-accuracy", "Regex": "acc=([0-9.]+)"}
    ]
    assert params["HyperParameters"]["epochs"] == "9"
    assert params["AlgorithmSpecification"]["TrainingImage"].endswith("pytorch-training:1-cpu")


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
    with pytest.raises(InvalidInput, match=r"\$\.BatchSizePerGpu: the built-in xgboost has no batch-size"):
        fine_tune_recipe(validate_fine_tune_input(payload, policy), policy, s3)
    without_batch = {k: v for k, v in payload.items() if k != "BatchSizePerGpu"}
    recipe = fine_tune_recipe(validate_fine_tune_input(without_batch, policy), policy, s3)
    assert recipe.image == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    assert recipe.channels == {"train": "s3://nlp-data-bucket/datasets/news/"}
    classifier = {**payload, "Algorithm": {"BuiltInAlgorithm": "image-classification"}}
    assert (
        fine_tune_recipe(validate_fine_tune_input(classifier, policy), policy, s3).hyperparameters["mini_batch_size"]
        == "64"
    )


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
        execution=Execution("arn:exec", "t"),
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


def test_a_manifest_entry_without_its_spec_names_the_model_and_the_key(s3: Any) -> None:
    bucket = jumpstart.cache_bucket(REGION)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=jumpstart.MANIFEST_KEY)["Body"].read())
    manifest.append(
        {"model_id": "ghost-tc-model", "version": "1.0.0", "min_version": "2.0.0", "spec_key": "x/ghost.json"}
    )
    s3.put_object(Bucket=bucket, Key=jumpstart.MANIFEST_KEY, Body=json.dumps(manifest).encode())
    with pytest.raises(
        InvalidInput, match=r"ghost-tc-model@1\.0\.0 is in the manifest of eu-west-1, but its spec s3://"
    ):
        jumpstart.load_model(s3, REGION, "ghost-tc-model", "*")
