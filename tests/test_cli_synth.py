"""The tests synthesize what the CDK CLI synthesizes: same app, same cdk.json context."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, Synthesized

CDK = ROOT / "node_modules" / ".bin" / "cdk"


def without_cli_metadata(template: dict) -> dict:
    """Drop what only the CLI adds: construct paths and the CDKMetadata version report."""
    resources = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::CDK::Metadata":
            continue
        metadata = {
            k: v for k, v in resource.get("Metadata", {}).items() if not k.startswith(("aws:cdk:path", "aws:asset:"))
        }
        resources[logical_id] = {**resource, "Metadata": metadata}
        if not metadata:
            del resources[logical_id]["Metadata"]
    conditions = {k: v for k, v in template.get("Conditions", {}).items() if k != "CDKMetadataAvailable"}
    return {**template, "Resources": resources, "Conditions": conditions}


@pytest.mark.skipif(not CDK.exists(), reason="the CDK CLI is installed by `make setup`")
def test_cli_synth_produces_the_templates_the_tests_assert_on(synthesized: Synthesized, tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"},
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    result = subprocess.run(
        [str(CDK), "synth", "--quiet", "--no-notices", "--output", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # Node 22 LTS (make puts it first on PATH): jsii has no end-of-life banner to print.
    assert "end-of-life" not in result.stderr.lower() and "!!!!!" not in result.stderr, result.stderr[-2000:]
    cli = sorted(p.name for p in tmp_path.glob("*.template.json"))
    ours = sorted(p.name for p in synthesized.outdir.glob("*.template.json"))
    assert (
        cli
        == ours
        == [
            f"tunestack-{team}-{kind}.template.json"
            for team in ("nlp", "vision")
            for kind in ("foundation", "pipelines")
        ]
    )
    for name in cli:
        cli_template = without_cli_metadata(json.loads((tmp_path / name).read_text()))
        our_template = without_cli_metadata(json.loads((synthesized.outdir / name).read_text()))
        assert cli_template == our_template
    shutil.rmtree(tmp_path, ignore_errors=True)
