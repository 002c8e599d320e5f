"""A local copy of a JumpStart catalog served as the simulated JumpStart bucket (--jumpstart-cache)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import Synthesized
from tests.simulator.conftest import example
from tunestack.simulator.deployment import FIXTURES, MANIFEST, check_jumpstart_cache, jumpstart_bucket
from tunestack.simulator.harness import Simulator

NEW_ID, NEW_VERSION = "acme-tc-bert-tiny", "9.9.9"


def catalog_of_one(folder: Path, payload: dict[str, Any]) -> Path:
    """The fixture catalog's spec of the model ``payload`` names, as the only model of a catalog in
    ``folder``, under another id and version (its artifact keys renamed with it)."""
    old_id = payload["Algorithm"]["JumpStartModelId"]
    manifest = json.loads((FIXTURES / MANIFEST).read_text())
    entry = max((e for e in manifest if e["model_id"] == old_id), key=lambda e: e["version"])
    spec_key = f"community_models/{NEW_ID}/specs_v{NEW_VERSION}.json"
    (folder / spec_key).parent.mkdir(parents=True)
    (folder / spec_key).write_text((FIXTURES / entry["spec_key"]).read_text().replace(old_id, NEW_ID))
    copied = {**entry, "model_id": NEW_ID, "version": NEW_VERSION, "spec_key": spec_key}
    (folder / MANIFEST).write_text(json.dumps([copied]))
    return folder


def test_a_fine_tune_uses_the_local_catalogs_model(synthesized: Synthesized, tmp_path: Path) -> None:
    payload, data = example("fine-tune-text")
    old_id = payload["Algorithm"]["JumpStartModelId"]
    simulator = Simulator(
        synthesized.outdir, synthesized.teams["vision"].team, jumpstart_cache=catalog_of_one(tmp_path, payload)
    )
    payload["Algorithm"] = {"JumpStartModelId": NEW_ID, "JumpStartModelVersion": NEW_VERSION}
    result = simulator.run("fine-tune", payload, data_dir=data)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["ParentModel"] == f"{NEW_ID}@{NEW_VERSION}"
    (create,) = [r for r in result.requests if r["operation"] == "CreateTrainingJob"]
    parameters = create["parameters"]
    assert {"Key": "tunestack:model", "Value": f"{NEW_ID}@{NEW_VERSION}"} in parameters["Tags"]
    platform_channels = [c for c in parameters["InputDataConfig"] if c["ChannelName"] in {"model", "code"}]
    assert platform_channels and any(NEW_ID in c["DataSource"]["S3DataSource"]["S3Uri"] for c in platform_channels)
    assert old_id not in json.dumps(result.requests)  # nothing came from the fixtures


def test_every_file_of_the_catalog_is_served_at_its_own_key(tmp_path: Path) -> None:
    from moto import mock_aws

    payload, _ = example("fine-tune-text")
    catalog = catalog_of_one(tmp_path, payload)
    (catalog / "huggingface-training").mkdir()
    (catalog / "huggingface-training" / "weights.tar.gz").write_bytes(b"\x1f\x8b")
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        jumpstart_bucket(s3, "eu-west-1", {"CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}, catalog)
        listed = s3.list_objects_v2(Bucket="jumpstart-cache-prod-eu-west-1")["Contents"]
    assert sorted(o["Key"] for o in listed) == [
        f"community_models/{NEW_ID}/specs_v{NEW_VERSION}.json",
        "huggingface-training/weights.tar.gz",
        MANIFEST,
    ]


def test_a_catalog_without_a_manifest_cannot_serve(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a folder"):
        check_jumpstart_cache(tmp_path / "missing")
    with pytest.raises(ValueError, match=f"no {MANIFEST} in it"):
        check_jumpstart_cache(tmp_path)
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        check_jumpstart_cache(tmp_path)


def test_a_model_whose_spec_is_missing_is_named_in_a_warning(tmp_path: Path) -> None:
    payload, _ = example("fine-tune-text")
    catalog = catalog_of_one(tmp_path, payload)
    manifest = json.loads((catalog / MANIFEST).read_text())
    manifest.append({"model_id": "acme-gone", "version": "1.0.0", "spec_key": "community_models/acme-gone/specs.json"})
    (catalog / MANIFEST).write_text(json.dumps(manifest))
    assert check_jumpstart_cache(catalog) == [
        f"acme-gone version 1.0.0: no spec file at {catalog / 'community_models/acme-gone/specs.json'}"
    ]
