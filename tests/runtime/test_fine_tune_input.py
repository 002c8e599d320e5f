"""Fine-tune input validation: every rule names the JSON path of the bad field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tunestack_runtime.errors import InvalidInput, PolicyViolation
from tunestack_runtime.fine_tune_input import validate_fine_tune_input
from tunestack_runtime.policy import POLICY_ENVIRONMENT_VARIABLE, TeamPolicy

POLICY = TeamPolicy(
    team="nlp",
    bucket="nlp-data-bucket",
    region="eu-west-1",
    training_instance_types=("ml.g4dn.xlarge", "ml.p3.8xlarge", "ml.m5.xlarge"),
    hosting_instance_types=("ml.m5.large", "ml.m5.xlarge"),
    default_training_instance_type="ml.g4dn.xlarge",
    default_hosting_instance_type="ml.m5.large",
    max_instance_count=2,
    max_runtime_in_seconds=86400,
)

VALID: dict[str, Any] = {
    "ModelName": "news-classifier-v1",
    "Algorithm": {"JumpStartModelId": "huggingface-tc-bert-base-cased", "JumpStartModelVersion": "*"},
    "TrainingData": "datasets/news/",
    "HyperParameters": {"epochs": "3", "adam-learning-rate": "0.00002"},
    "BatchSizePerGpu": 16,
    "InstanceType": "ml.p3.8xlarge",
    "InstanceCount": 1,
    "MaxRuntimeInSeconds": 7200,
    "UseSpotInstances": True,
}
VALID_WITH_DEPLOY: dict[str, Any] = {
    **VALID,
    "Deploy": {"EndpointName": "news-classifier", "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 1},
}


def mutate(path: str, value: Any, base: dict[str, Any] = VALID) -> dict[str, Any]:
    """``base`` with the field at ``a.b`` set to ``value`` (or removed when value is ...)."""
    payload = copy.deepcopy(base)
    *parents, last = path.split(".")
    target = payload
    for part in parents:
        target = target[part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return payload


def test_valid_input_is_normalized() -> None:
    request = validate_fine_tune_input(VALID, POLICY)
    assert request.model_name == "news-classifier-v1"
    assert request.algorithm.kind == "jumpstart" and request.algorithm.name == "huggingface-tc-bert-base-cased"
    assert request.training_data_uri == "s3://nlp-data-bucket/datasets/news/"
    assert request.instance_type == "ml.p3.8xlarge" and request.instance_count == 1
    assert request.use_spot_instances is True and request.deploy is None


def test_minimal_input_gets_the_team_defaults() -> None:
    request = validate_fine_tune_input(
        {"ModelName": "m1", "Algorithm": {"JumpStartModelId": "pytorch-ic-mobilenet-v2"}}, POLICY
    )
    assert request.training_data_uri is None  # the model's default dataset
    assert request.instance_type == "ml.g4dn.xlarge"
    assert request.instance_count == 1 and request.max_runtime_in_seconds == 86400
    assert request.algorithm.version == "*" and request.deploy is None


def test_s3_uri_inside_the_team_bucket_is_accepted() -> None:
    request = validate_fine_tune_input(mutate("TrainingData", "s3://nlp-data-bucket/datasets/a/"), POLICY)
    assert request.training_data_uri == "s3://nlp-data-bucket/datasets/a/"


def test_builtin_and_custom_algorithms_are_accepted() -> None:
    xgb = validate_fine_tune_input(mutate("Algorithm", {"BuiltInAlgorithm": "xgboost", "Version": "1.7-1"}), POLICY)
    assert xgb.algorithm.kind == "built-in" and xgb.algorithm.version == "1.7-1"
    custom = validate_fine_tune_input(
        mutate(
            "Algorithm",
            {
                "TrainingImage": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/trainer:1.0",
                "MetricDefinitions": [{"Name": "validation:accuracy", "Regex": "val_acc=([0-9.]+)"}],
            },
        ),
        POLICY,
    )
    assert custom.algorithm.kind == "custom" and custom.algorithm.metric_definitions[0]["Name"] == "validation:accuracy"


INVALID = [
    ("not an object", None, "[1, 2]", r"\$: the input must be a JSON object"),
    ("unknown top-level key", "Epochs", 3, r"\$\.Epochs: unknown field"),
    ("missing model name", "ModelName", ..., r"\$\.ModelName: required"),
    ("model name with underscore", "ModelName", "my_model", r"\$\.ModelName: 1-63 letters"),
    ("model name too long", "ModelName", "m" * 64, r"\$\.ModelName: 1-63"),
    ("model name ends with hyphen", "ModelName", "model-", r"\$\.ModelName"),
    ("model name not a string", "ModelName", 12, r"\$\.ModelName"),
    ("missing algorithm", "Algorithm", ..., r"\$\.Algorithm: required"),
    ("algorithm not an object", "Algorithm", "bert", r"\$\.Algorithm: must be an object"),
    ("two algorithm forms", "Algorithm", {"JumpStartModelId": "a-b", "BuiltInAlgorithm": "xgboost"}, r"exactly one of"),
    ("empty algorithm", "Algorithm", {}, r"\$\.Algorithm: give exactly one of"),
    ("bad jumpstart id", "Algorithm.JumpStartModelId", "Bert Base", r"\$\.Algorithm\.JumpStartModelId"),
    ("empty jumpstart version", "Algorithm.JumpStartModelVersion", "", r"\$\.Algorithm\.JumpStartModelVersion"),
    ("stray key beside jumpstart", "Algorithm.Version", "1", r"\$\.Algorithm\.Version: unknown field"),
    ("unknown built-in", "Algorithm", {"BuiltInAlgorithm": "kmeans"}, r"\$\.Algorithm\.BuiltInAlgorithm: one of"),
    ("xgboost without version", "Algorithm", {"BuiltInAlgorithm": "xgboost"}, r"\$\.Algorithm\.Version: required"),
    (
        "image not in ECR",
        "Algorithm",
        {"TrainingImage": "docker.io/me/trainer", "MetricDefinitions": [{"Name": "a", "Regex": "a"}]},
        r"\$\.Algorithm\.TrainingImage",
    ),
    (
        "custom image without metrics",
        "Algorithm",
        {"TrainingImage": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/t:1"},
        r"\$\.Algorithm\.MetricDefinitions: required",
    ),
    (
        "metric with bad regex",
        "Algorithm",
        {
            "TrainingImage": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/t:1",
            "MetricDefinitions": [{"Name": "a", "Regex": "("}],
        },
        r"MetricDefinitions\[0\]\.Regex",
    ),
    (
        "duplicate metric names",
        "Algorithm",
        {
            "TrainingImage": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/t:1",
            "MetricDefinitions": [{"Name": "a", "Regex": "a"}, {"Name": "a", "Regex": "b"}],
        },
        r"MetricDefinitions\[1\]\.Name: duplicate",
    ),
    ("training data is a number", "TrainingData", 5, r"\$\.TrainingData: a key prefix"),
    ("training data over http", "TrainingData", "https://example.org/data.csv", r"\$\.TrainingData: only s3://"),
    (
        "training data escapes the prefix",
        "TrainingData",
        "datasets/../secrets/",
        r"\$\.TrainingData: the key prefix must be relative",
    ),
    ("absolute training data key", "TrainingData", "/datasets/", r"\$\.TrainingData: the key prefix must be relative"),
    ("hyperparameters not an object", "HyperParameters", ["epochs=3"], r"\$\.HyperParameters: must be an object"),
    ("numeric hyperparameter value", "HyperParameters.epochs", 3, r"\$\.HyperParameters\.epochs: values are strings"),
    ("too many hyperparameters", "HyperParameters", {f"h{i}": "1" for i in range(101)}, r"at most 100 hyperparameters"),
    ("batch size zero", "BatchSizePerGpu", 0, r"\$\.BatchSizePerGpu: must be a positive integer"),
    ("batch size as string", "BatchSizePerGpu", "16", r"\$\.BatchSizePerGpu"),
    ("instance count as bool", "InstanceCount", True, r"\$\.InstanceCount: must be a positive integer"),
    ("spot as string", "UseSpotInstances", "yes", r"\$\.UseSpotInstances: must be true or false"),
    ("s3 uri without a bucket", "TrainingData", "s3://", r"\$\.TrainingData: an s3:// URI needs a bucket name"),
    ("s3 uri with an invalid bucket", "TrainingData", "s3://My_Data/x/", r"\$\.TrainingData: 'My_Data' is not a valid"),
    ("accept eula as string", "AcceptEula", "yes", r"\$\.AcceptEula: must be true or false"),
]

POLICY_VIOLATIONS = [
    (
        "training data in another bucket",
        "TrainingData",
        "s3://other-team/datasets/",
        r"\$\.TrainingData: data must lie in the team bucket",
    ),
    (
        "training instance not allowed",
        "InstanceType",
        "ml.p4d.24xlarge",
        r"\$\.InstanceType: 'ml\.p4d\.24xlarge' is not allowed",
    ),
    ("too many instances", "InstanceCount", 3, r"\$\.InstanceCount: 3 exceeds the team's limit of 2"),
    ("runtime over the team limit", "MaxRuntimeInSeconds", 86401, r"\$\.MaxRuntimeInSeconds: 86401 exceeds"),
    (
        "training script named by an input",
        "HyperParameters.sagemaker_submit_directory",
        "s3://attacker/sourcedir.tar.gz",
        r"\$\.HyperParameters\.sagemaker_submit_directory: set by the platform",
    ),
    ("entry point named by an input", "HyperParameters.sagemaker_program", "x.py", r"sagemaker_program: set by the"),
]


DEPLOY_CASES = [
    ("deploy not an object", "Deploy", "yes", r"\$\.Deploy: must be an object"),
    ("deploy without endpoint name", "Deploy.EndpointName", ..., r"\$\.Deploy\.EndpointName: required"),
    ("deploy with unknown key", "Deploy.Variant", "a", r"\$\.Deploy\.Variant: unknown field"),
    ("deploy count zero", "Deploy.InitialInstanceCount", 0, r"\$\.Deploy\.InitialInstanceCount: must be a positive"),
    ("too many endpoint instances", "Deploy.InitialInstanceCount", 5, r"\$\.Deploy\.InitialInstanceCount: 5 exceeds"),
    (
        "hosting instance not allowed",
        "Deploy.InstanceType",
        "ml.g5.xlarge",
        r"\$\.Deploy\.InstanceType: 'ml\.g5\.xlarge' is not allowed",
    ),
]


@pytest.mark.parametrize(("case", "path", "value", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_each_invalid_input_names_its_path(case: str, path: str | None, value: Any, message: str) -> None:
    payload = json.loads(value) if path is None else mutate(path, value)
    with pytest.raises(InvalidInput, match=message):
        validate_fine_tune_input(payload, POLICY)


@pytest.mark.parametrize(("case", "path", "value", "message"), POLICY_VIOLATIONS, ids=[c[0] for c in POLICY_VIOLATIONS])
def test_each_policy_violation_names_its_path(case: str, path: str, value: Any, message: str) -> None:
    with pytest.raises(PolicyViolation, match=message):
        validate_fine_tune_input(mutate(path, value), POLICY)


def test_there_are_at_least_25_distinct_invalid_inputs() -> None:
    payloads = {
        json.dumps(mutate(p, v) if p else v, sort_keys=True, default=str) for _, p, v, _ in INVALID + POLICY_VIOLATIONS
    }
    assert len(payloads) >= 25


def test_all_problems_are_reported_together_and_shape_wins_over_policy() -> None:
    payload = mutate("ModelName", "bad_name")
    payload["InstanceType"] = "ml.p4d.24xlarge"
    payload["Colour"] = "blue"
    with pytest.raises(InvalidInput) as caught:
        validate_fine_tune_input(payload, POLICY)
    lines = str(caught.value).splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["$.Colour", "$.ModelName", "$.InstanceType"]


def test_policy_is_read_from_the_environment_per_call() -> None:
    environ = {
        POLICY_ENVIRONMENT_VARIABLE: json.dumps(
            {
                "team": "nlp",
                "bucket": "nlp-data-bucket",
                "region": "eu-west-1",
                "trainingInstanceTypes": ["ml.g4dn.xlarge"],
                "hostingInstanceTypes": ["ml.m5.large"],
                "defaultTrainingInstanceType": "ml.g4dn.xlarge",
                "defaultHostingInstanceType": "ml.m5.large",
                "maxInstanceCount": 2,
                "maxRuntimeInSeconds": 3600,
            }
        )
    }
    policy = TeamPolicy.from_environment(environ)
    assert policy.training_instance_types == ("ml.g4dn.xlarge",) and policy.max_runtime_in_seconds == 3600


def test_deploy_is_parsed_with_the_teams_hosting_defaults() -> None:
    deploy = validate_fine_tune_input(VALID_WITH_DEPLOY, POLICY).deploy
    assert deploy is not None and deploy.instance_type in POLICY.hosting_instance_types


@pytest.mark.parametrize(("case", "path", "value", "message"), DEPLOY_CASES, ids=[c[0] for c in DEPLOY_CASES])
def test_deploy_rules_name_their_path(case: str, path: str, value: Any, message: str) -> None:
    assert validate_fine_tune_input(VALID_WITH_DEPLOY, POLICY).deploy is not None
    with pytest.raises((InvalidInput, PolicyViolation), match=message):
        validate_fine_tune_input(mutate(path, value, VALID_WITH_DEPLOY), POLICY)


@pytest.mark.parametrize(
    "model_id",
    # Published ids with capitals (the SageMaker Python SDK's JumpStart model table).
    ["huggingface-llm-falcon-3-7B-Instruct", "huggingface-textembedding-all-MiniLM-L6-v2", "pytorch-ic-mobilenet-v2"],
)
def test_published_jumpstart_ids_are_accepted(model_id: str) -> None:
    request = validate_fine_tune_input(mutate("Algorithm.JumpStartModelId", model_id), POLICY)
    assert request.algorithm.name == model_id
