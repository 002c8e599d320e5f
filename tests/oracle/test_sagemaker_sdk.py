"""The SDK oracle on the simulator's JumpStart fixtures: facts of each spec reach the request.

Each fixture model is trained, in us-east-1 and eu-west-1, on its spec's default training instance
type; the assertions compare the captured CreateTrainingJob parameters with the spec file itself.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("moto")
pytest.importorskip("sagemaker.jumpstart.estimator", reason="needs the SageMaker Python SDK v2 (JumpStartEstimator)")

from tests.oracle.sagemaker_sdk import decoded_hyperparameters, sdk_training_request

FIXTURES = Path(__file__).resolve().parents[2] / "tunestack" / "simulator" / "fixtures" / "jumpstart"
REGIONS = ("us-east-1", "eu-west-1")
SUBMIT_DIRECTORY = "/opt/ml/input/data/code/sourcedir.tar.gz"


def manifest() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "models_manifest.json").read_text())


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def newest_entries() -> list[dict[str, Any]]:
    newest: dict[str, dict[str, Any]] = {}
    for entry in manifest():
        current = newest.get(entry["model_id"])
        if current is None or _version_key(entry["version"]) > _version_key(current["version"]):
            newest[entry["model_id"]] = entry
    return sorted(newest.values(), key=lambda e: e["model_id"])


def spec_of(entry: dict[str, Any]) -> dict[str, Any]:
    return json.loads((FIXTURES / entry["spec_key"]).read_text())


def spec_for(model_id: str, version: str) -> dict[str, Any]:
    return spec_of(next(e for e in manifest() if e["model_id"] == model_id and e["version"] == version))


def is_gated(spec: dict[str, Any]) -> bool:
    return bool(spec.get("gated_bucket"))


@cache
def request_for(model_id: str, version: str, region: str) -> dict[str, Any]:
    """One SDK call per model, version and region for the whole module (each takes about 1.5 s)."""
    spec = spec_for(model_id, version)
    environment = {"accept_eula": "true"} if is_gated(spec) else None
    return sdk_training_request(
        FIXTURES, model_id, version, region, spec["default_training_instance_type"], environment=environment
    )


CASES = [
    pytest.param(entry["model_id"], entry["version"], region, id=f"{entry['model_id']}@{entry['version']}-{region}")
    for entry in newest_entries()
    for region in REGIONS
]


def channels(request: dict[str, Any]) -> dict[str, str]:
    return {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in request.get("InputDataConfig", [])}


def family_variant(spec: dict[str, Any], instance_type: str) -> dict[str, Any]:
    return spec["training_instance_type_variants"]["variants"][instance_type.split(".")[1]]


@pytest.mark.parametrize(("model_id", "version", "region"), CASES)
def test_image_comes_from_the_regional_alias_of_the_instance_family(model_id: str, version: str, region: str) -> None:
    spec = spec_for(model_id, version)
    instance_type = spec["default_training_instance_type"]
    alias = family_variant(spec, instance_type)["regional_properties"]["image_uri"]
    expected = spec["training_instance_type_variants"]["regional_aliases"][region][alias.lstrip("$")]

    request = request_for(model_id, version, region)

    assert request["AlgorithmSpecification"]["TrainingImage"] == expected
    assert f".dkr.ecr.{region}.amazonaws.com/" in expected
    assert request["ResourceConfig"]["InstanceType"] == instance_type


@pytest.mark.parametrize(("model_id", "version", "region"), CASES)
def test_metric_definitions_are_the_specs_metrics(model_id: str, version: str, region: str) -> None:
    spec = spec_for(model_id, version)

    request = request_for(model_id, version, region)

    assert request["AlgorithmSpecification"]["MetricDefinitions"] == spec["metrics"]


@pytest.mark.parametrize(("model_id", "version", "region"), CASES)
def test_isolated_training_gets_its_script_as_the_code_channel(model_id: str, version: str, region: str) -> None:
    spec = spec_for(model_id, version)
    assert spec["training_enable_network_isolation"] is True  # every fixture model trains isolated

    request = request_for(model_id, version, region)

    # The SDK prefers the prepacked script where the spec names one.
    script_key = spec.get("training_prepacked_script_key") or spec["training_script_key"]
    assert request["EnableNetworkIsolation"] is True
    assert channels(request)["code"] == f"s3://jumpstart-cache-prod-{region}/{script_key}"
    assert decoded_hyperparameters(request)["sagemaker_submit_directory"] == SUBMIT_DIRECTORY


@pytest.mark.parametrize(("model_id", "version", "region"), CASES)
def test_pretrained_weights_reach_the_job(model_id: str, version: str, region: str) -> None:
    spec = spec_for(model_id, version)

    request = request_for(model_id, version, region)

    if is_gated(spec):
        # Gated weights come from the private bucket through the environment, not as a channel.
        variant = family_variant(spec, spec["default_training_instance_type"])
        key = variant["properties"]["gated_model_key_env_var_value"]
        assert "model" not in channels(request)
        assert request["Environment"]["SageMakerGatedModelS3Uri"] == f"s3://jumpstart-private-cache-prod-{region}/{key}"
        assert request["Environment"]["accept_eula"] == "true"
    else:
        assert channels(request)["model"] == f"s3://jumpstart-cache-prod-{region}/{spec['training_artifact_key']}"


@pytest.mark.parametrize(("model_id", "version", "region"), CASES)
def test_volume_size_and_estimator_kwargs(model_id: str, version: str, region: str) -> None:
    from sagemaker.utils import volume_size_supported

    spec = spec_for(model_id, version)
    instance_type = spec["default_training_instance_type"]

    request = request_for(model_id, version, region)

    # The SDK applies the spec's training_volume_size only where it thinks an EBS volume can be
    # attached; on local-storage families (g5, p4d, ...) the request keeps its default of 30 GB.
    if "training_volume_size" in spec and volume_size_supported(instance_type):
        assert request["ResourceConfig"]["VolumeSizeInGB"] == spec["training_volume_size"]
    else:
        assert request["ResourceConfig"]["VolumeSizeInGB"] == 30
    assert request["StoppingCondition"]["MaxRuntimeInSeconds"] == spec["estimator_kwargs"]["max_run"]
    encrypt = spec["estimator_kwargs"]["encrypt_inter_container_traffic"]
    assert request["EnableInterContainerTrafficEncryption"] is encrypt


def test_the_gated_models_volume_size_never_reaches_the_request() -> None:
    """Every training instance type of the gated Llama spec is a local-storage family."""
    from sagemaker.utils import volume_size_supported

    entry = next(e for e in newest_entries() if is_gated(spec_of(e)))
    spec = spec_of(entry)
    assert spec["training_volume_size"] == 256
    assert not any(volume_size_supported(t) for t in spec["supported_training_instance_types"])


def test_star_resolves_the_newest_version_and_the_call_leaves_the_environment_as_it_was() -> None:
    before = dict(os.environ)
    request = sdk_training_request(FIXTURES, "pytorch-ic-mobilenet-v2", "*", "eu-west-1", "ml.m5.xlarge")
    assert dict(os.environ) == before
    tags = {t["Key"]: t["Value"] for t in request["Tags"]}
    newest = max((e["version"] for e in manifest() if e["model_id"] == "pytorch-ic-mobilenet-v2"), key=_version_key)
    assert tags["sagemaker-sdk:jumpstart-model-version"] == newest


def test_hyperparameters_are_sent_json_encoded_and_decoded_on_request() -> None:
    request = request_for("pytorch-ic-mobilenet-v2", "3.0.25", "us-east-1")
    assert request["HyperParameters"]["epochs"] == '"5"'
    decoded = sdk_training_request(
        FIXTURES,
        "pytorch-ic-mobilenet-v2",
        "3.0.25",
        "us-east-1",
        "ml.m5.xlarge",
        hyperparameters={"epochs": "2"},
        inputs={"training": "s3://bucket/flowers/"},
        decode_hyperparameters=True,
    )
    assert decoded["HyperParameters"]["epochs"] == "2"
    assert decoded["HyperParameters"]["sagemaker_program"] == "transfer_learning.py"
    assert channels(decoded)["training"] == "s3://bucket/flowers/"


def test_how_the_sdk_accepts_the_eula_of_the_gated_model() -> None:
    """With this spec the weights come through the environment, so ``ModelAccessConfig`` has no channel to sit on."""
    entry = next(e for e in newest_entries() if is_gated(spec_of(e)))
    instance_type = spec_of(entry)["default_training_instance_type"]
    call = (FIXTURES, entry["model_id"], entry["version"], "us-east-1", instance_type)

    by_environment = request_for(entry["model_id"], entry["version"], "us-east-1")
    by_fit_argument = sdk_training_request(*call, accept_eula=True)

    assert by_environment["Environment"]["accept_eula"] == "true"
    # fit(accept_eula=True) becomes ModelAccessConfig on the model channel, and there is none here:
    # the request then carries no sign of the acceptance at all.
    assert list(channels(by_fit_argument)) == ["code"]
    assert "accept_eula" not in by_fit_argument["Environment"]
    assert all("ModelAccessConfig" not in c["DataSource"]["S3DataSource"] for c in by_fit_argument["InputDataConfig"])
    with pytest.raises(ValueError, match="Cannot pass in both accept_eula and environment variables"):
        sdk_training_request(*call, environment={"accept_eula": "true"}, accept_eula=True)


def test_accept_eula_lands_on_the_model_channel_where_there_is_one() -> None:
    request = sdk_training_request(
        FIXTURES, "pytorch-ic-mobilenet-v2", "3.0.25", "us-east-1", "ml.m5.xlarge", accept_eula=True
    )
    model = next(c for c in request["InputDataConfig"] if c["ChannelName"] == "model")
    assert model["DataSource"]["S3DataSource"]["ModelAccessConfig"] == {"AcceptEula": True}
