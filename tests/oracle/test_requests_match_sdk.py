"""tunestack's CreateTrainingJob for a JumpStart model equals the SageMaker Python SDK's.

For every model of the simulator's JumpStart catalog, in two regions, on an EBS-backed instance
type and on one with local storage where the spec allows both, the request the fine-tune's first
state builds is compared with the one ``JumpStartEstimator(...).fit(...)`` builds from the same
spec. Only what the platform owns may differ (``PLATFORM_OWN``), and the few places where AWS's
documentation overrules the SDK (``DOCUMENTED_DIFFERENCES``); any other difference fails with its
JSON path and both values.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.validate import validate_parameters
from moto import mock_aws

from tests.oracle.sagemaker_sdk import decoded_hyperparameters, sdk_training_request
from tunestack_runtime import jumpstart
from tunestack_runtime.errors import InvalidInput
from tunestack_runtime.executions import Execution
from tunestack_runtime.fine_tune_input import validate_fine_tune_input
from tunestack_runtime.instances import has_local_storage
from tunestack_runtime.policy import TeamPolicy
from tunestack_runtime.training_job import create_request, fine_tune_recipe

CATALOG = Path(__file__).resolve().parents[2] / "tunestack" / "simulator" / "fixtures" / "jumpstart"
REGIONS = ("us-east-1", "eu-west-1")
JOB = "oracle-job"
DATA = "s3://team-bucket/datasets/oracle/"

#: What the platform sets for every job, whatever the SDK would choose: the job's name (and the
#: container's copy of it), the team's role, network, key and bucket, its tags, spot checkpoints,
#: the runtime limit and inter-container encryption, both held to the team's limits by IAM.
PLATFORM_OWN = (
    "$.TrainingJobName",
    "$.HyperParameters.sagemaker_job_name",
    "$.RoleArn",
    "$.VpcConfig",
    "$.OutputDataConfig.S3OutputPath",
    "$.OutputDataConfig.KmsKeyId",
    "$.ResourceConfig.VolumeKmsKeyId",
    "$.Tags",
    "$.CheckpointConfig",
    "$.StoppingCondition",
    "$.EnableInterContainerTrafficEncryption",
    "$.EnableManagedSpotTraining",
)

#: Where tunestack deliberately differs from the SDK, with the reason and its source.
DOCUMENTED_DIFFERENCES: dict[str, str] = {
    "$.DebugHookConfig": "The SDK points SageMaker Debugger's hook, with no collections, at its default bucket "
    "sagemaker-<region>-<account>, outside the team's KMS-encrypted bucket; tunestack sends none, which the "
    "CreateTrainingJob API reference allows (DebugHookConfig, Required: No).",
    "$.ProfilerConfig": "The SDK turns the system profiler on with output to the same default bucket; tunestack "
    "sends none (CreateTrainingJob API reference: ProfilerConfig, Required: No), so nothing of a team's job lands "
    "outside the team's bucket.",
}


def _manifest() -> list[dict[str, Any]]:
    return json.loads((CATALOG / jumpstart.MANIFEST_KEY).read_text())  # type: ignore[no-any-return]


def _spec(entry: dict[str, Any]) -> dict[str, Any]:
    return json.loads((CATALOG / entry["spec_key"]).read_text())  # type: ignore[no-any-return]


def _newest() -> list[dict[str, Any]]:
    newest: dict[str, dict[str, Any]] = {}
    for entry in _manifest():
        current = newest.get(entry["model_id"])
        if current is None or jumpstart._version_key(entry["version"]) > jumpstart._version_key(current["version"]):
            newest[entry["model_id"]] = entry
    return sorted(newest.values(), key=lambda e: e["model_id"])


def _instance_types(spec: dict[str, Any]) -> list[str]:
    """One EBS-backed type and one with local storage, where the spec supports both."""
    supported = spec.get("supported_training_instance_types") or [spec.get("default_training_instance_type")]
    ebs = [t for t in supported if t and not has_local_storage(t)]
    local = [t for t in supported if t and has_local_storage(t)]
    return [found[0] for found in (ebs, local) if found]


def _cases() -> list[Any]:
    cases = []
    for entry in _newest():
        spec = _spec(entry)
        if not spec.get("training_supported"):
            continue
        for region in REGIONS:
            for instance_type in _instance_types(spec):
                case_id = f"{entry['model_id']}-{region}-{instance_type}"
                cases.append(pytest.param(entry["model_id"], entry["version"], region, instance_type, id=case_id))
    return cases


def _policy(region: str, instance_type: str) -> TeamPolicy:
    return TeamPolicy(
        team="oracle",
        bucket="team-bucket",
        region=region,
        training_instance_types=(instance_type,),
        hosting_instance_types=("ml.m5.xlarge",),
        default_training_instance_type=instance_type,
        default_hosting_instance_type="ml.m5.xlarge",
        max_instance_count=2,
        max_runtime_in_seconds=28 * 24 * 3600,
        role_arn="arn:aws:iam::123456789012:role/team",
        subnet_ids=("subnet-1",),
        security_group_ids=("sg-1",),
        key_arn=f"arn:aws:kms:{region}:123456789012:key/team",
    )


@pytest.fixture
def catalog_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The catalog served from the region's JumpStart bucket, as the validating Lambda reads it."""

    def serve(region: str) -> Any:
        client = boto3.client("s3", region_name=region)
        bucket = jumpstart.cache_bucket(region)
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        client.create_bucket(Bucket=bucket, **location)
        for path in CATALOG.rglob("*.json"):
            client.upload_file(str(path), bucket, path.relative_to(CATALOG).as_posix())
        return client

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield serve


def tunestack_request(s3: Any, model_id: str, version: str, region: str, instance_type: str, **extra: Any) -> Any:
    spec = _spec(next(e for e in _manifest() if e["model_id"] == model_id and e["version"] == version))
    payload = {
        "ModelName": JOB,
        "Algorithm": {"JumpStartModelId": model_id, "JumpStartModelVersion": version},
        "TrainingData": DATA,
        "InstanceType": instance_type,
        **({"AcceptEula": True} if jumpstart.JumpStartModel(model_id, version, region, spec).is_gated else {}),
        **extra,
    }
    policy = _policy(region, instance_type)
    request = validate_fine_tune_input(payload, policy)
    recipe = fine_tune_recipe(request, policy, s3)
    return create_request(
        job_name=JOB, recipe=recipe, request=request, policy=policy, execution=Execution("arn:x", "t")
    )


def oracle_request(model_id: str, version: str, region: str, instance_type: str, **hyperparameters: str) -> Any:
    spec = _spec(next(e for e in _manifest() if e["model_id"] == model_id and e["version"] == version))
    gated = jumpstart.JumpStartModel(model_id, version, region, spec).is_gated
    request = sdk_training_request(
        CATALOG,
        model_id,
        version,
        region,
        instance_type,
        hyperparameters=hyperparameters or None,
        inputs={"training": DATA},
        # The SDK's own gated-model tests accept the EULA this way for training.
        environment={"accept_eula": "true"} if gated else None,
        job_name=JOB,
        instance_count=1,
    )
    request["HyperParameters"] = {k: str(v) for k, v in decoded_hyperparameters(request).items()}
    return request


#: Fields the API treats as their default when absent, so an explicit default equals an omission
#: (CreateTrainingJob API reference: EnableNetworkIsolation, "default false"). tunestack states
#: isolation explicitly either way; the SDK omits it when off.
API_DEFAULTS = {"$.EnableNetworkIsolation": False}


def differences(ours: Any, theirs: Any, path: str = "$") -> list[str]:
    """Every place the two requests differ, by JSON path, outside what the platform owns."""
    if path in PLATFORM_OWN or path in DOCUMENTED_DIFFERENCES:
        return []
    if path in API_DEFAULTS:
        ours, theirs = (API_DEFAULTS[path] if v == "<absent>" else v for v in (ours, theirs))
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = []
        for key in sorted(set(ours) | set(theirs)):
            found += differences(ours.get(key, "<absent>"), theirs.get(key, "<absent>"), f"{path}.{key}")
        return found
    if isinstance(ours, list) and isinstance(theirs, list) and path.endswith("InputDataConfig"):
        return differences(
            {c["ChannelName"]: c for c in ours}, {c["ChannelName"]: c for c in theirs}, path + "[ChannelName]"
        )
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        return [d for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) for d in differences(a, b, f"{path}[{i}]")]
    return [] if ours == theirs else [f"{path}: tunestack {ours!r} != SDK {theirs!r}"]


@pytest.mark.parametrize(("model_id", "version", "region", "instance_type"), _cases())
def test_request_equals_the_sdks(catalog_in: Any, model_id: str, version: str, region: str, instance_type: str) -> None:
    ours = tunestack_request(catalog_in(region), model_id, version, region, instance_type)
    theirs = oracle_request(model_id, version, region, instance_type)
    assert differences(ours, theirs) == []
    # And botocore's service model, the API's own shape and limits, accepts it as it is.
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model("CreateTrainingJob")
    validate_parameters(ours, shape.input_shape)


def test_a_users_hyperparameter_reaches_the_request_as_the_sdk_sends_it(catalog_in: Any) -> None:
    entry = next(e for e in _newest() if e["model_id"] == "pytorch-ic-mobilenet-v2")
    instance_type = _instance_types(_spec(entry))[0]
    ours = tunestack_request(
        catalog_in("us-east-1"),
        entry["model_id"],
        entry["version"],
        "us-east-1",
        instance_type,
        HyperParameters={"epochs": "7"},
    )
    theirs = oracle_request(entry["model_id"], entry["version"], "us-east-1", instance_type, epochs="7")
    assert ours["HyperParameters"]["epochs"] == "7"
    assert differences(ours, theirs) == []


def test_the_volume_key_follows_aws_documentation_where_the_sdk_does_not(catalog_in: Any) -> None:
    """Given a volume key, the SDK sends it on every instance type; SageMaker's API reference says
    it cannot be requested for instance types with local storage (ResourceConfig.VolumeKmsKeyId).
    tunestack sends the team key exactly on the EBS-backed types."""
    key = "arn:aws:kms:us-east-1:123456789012:key/team"
    seen_local = False
    for entry in _newest():
        spec = _spec(entry)
        if not spec.get("training_supported"):
            continue
        gated = jumpstart.JumpStartModel(entry["model_id"], entry["version"], "us-east-1", spec).is_gated
        for instance_type in _instance_types(spec):
            theirs = sdk_training_request(
                CATALOG,
                entry["model_id"],
                entry["version"],
                "us-east-1",
                instance_type,
                inputs={"training": DATA},
                job_name=JOB,
                volume_kms_key=key,
                environment={"accept_eula": "true"} if gated else None,
            )
            ours = tunestack_request(
                catalog_in("us-east-1"), entry["model_id"], entry["version"], "us-east-1", instance_type
            )
            local = has_local_storage(instance_type)
            seen_local = seen_local or local
            assert theirs["ResourceConfig"]["VolumeKmsKeyId"] == key
            assert ("VolumeKmsKeyId" in ours["ResourceConfig"]) is not local, (entry["model_id"], instance_type)
    assert seen_local, "the catalog has a model that trains on local storage"


def test_models_the_sdk_will_not_train_are_refused_with_the_reason(catalog_in: Any) -> None:
    untrainable = [e for e in _newest() if not _spec(e).get("training_supported")]
    for entry in untrainable:
        with pytest.raises(InvalidInput, match=r"training_supported false"):
            tunestack_request(catalog_in("us-east-1"), entry["model_id"], entry["version"], "us-east-1", "ml.m5.xlarge")
        with pytest.raises(ValueError, match="does not support training"):
            sdk_training_request(CATALOG, entry["model_id"], entry["version"], "us-east-1", "ml.m5.xlarge")


def test_the_comparison_itself_names_path_and_values() -> None:
    """The diff would catch a wrong field: one changed value, one missing channel; an explicit API
    default equals its omission, a non-default does not."""
    assert differences({"EnableNetworkIsolation": False}, {}) == []
    assert differences({"EnableNetworkIsolation": True}, {}) == [
        "$.EnableNetworkIsolation: tunestack True != SDK False"
    ]
    ours = {"AlgorithmSpecification": {"TrainingImage": "a"}, "InputDataConfig": [{"ChannelName": "code"}]}
    theirs = {"AlgorithmSpecification": {"TrainingImage": "b"}, "InputDataConfig": []}
    assert differences(ours, theirs) == [
        "$.AlgorithmSpecification.TrainingImage: tunestack 'a' != SDK 'b'",
        "$.InputDataConfig[ChannelName].code: tunestack {'ChannelName': 'code'} != SDK '<absent>'",
    ]


def test_every_catalog_model_is_compared_in_both_regions() -> None:
    compared = {case.values[0] for case in _cases()}
    trainable = {e["model_id"] for e in _newest() if _spec(e).get("training_supported")}
    assert compared == trainable
    assert {case.values[2] for case in _cases()} == set(REGIONS)
