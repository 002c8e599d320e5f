"""The command line and the simulator read teams from the synthesized cloud assembly, never from
the app that made it: they work from the installed package on any app's cdk.out."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Synthesized
from tunestack.simulator.assembly import AssemblyError, ensure_synthesized, load_assembly
from tunestack.simulator.harness import Simulator

FORBIDDEN = ("tunestack.app", "tunestack.stacks", "tunestack.constructs")


def _imports(path: Path) -> list[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_command_line_and_the_simulator_do_not_import_the_app_layers() -> None:
    files = sorted((ROOT / "tunestack" / "cli").rglob("*.py")) + sorted(
        (ROOT / "tunestack" / "simulator").rglob("*.py")
    )
    assert len(files) > 15
    offending = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in _imports(path)
        if any(name == layer or name.startswith(f"{layer}.") for layer in FORBIDDEN)
        or name in {"tunestack.app", "tunestack.stacks", "tunestack.constructs"}
    }
    assert offending == set()


def test_the_import_check_sees_function_level_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "def f():\n    from tunestack.app.factory import build_app\n    import tunestack.stacks.pipelines\n"
    )
    assert {"tunestack.app.factory", "tunestack.stacks.pipelines"} <= set(_imports(probe))


def test_teams_are_the_pipelines_stacks_with_their_literal_policy(
    synthesized: Synthesized, context: dict[str, Any]
) -> None:
    assembly = load_assembly(synthesized.outdir)
    assert [t.name for t in assembly.teams] == [t["name"] for t in context["teams"]]
    for team, raw in zip(assembly.teams, context["teams"], strict=True):
        policy = team.policy
        assert team.stack_name == f"tunestack-{raw['name']}-pipelines"
        assert policy.training_instance_types == tuple(raw["allowedInstanceTypes"]["training"])
        assert policy.hosting_instance_types == tuple(raw["allowedInstanceTypes"]["hosting"])
        assert policy.default_training_instance_type == raw["defaultInstanceTypes"]["training"]
        assert policy.max_runtime_in_seconds == raw["limits"]["maxRuntimeInSeconds"]
        assert policy.max_parallel_training_jobs == raw["limits"]["maxParallelTrainingJobs"]
        assert policy.network_isolation == raw.get("networkIsolation", "required")
        # Imported from the foundation stack: known once deployed, so empty offline.
        assert policy.bucket == policy.role_arn == policy.key_arn == ""
        assert (team.region, policy.region) == ((raw["region"],) * 2 if "region" in raw else (None, ""))
        assert team.state_machine_name("fine-tune") == f"tunestack-{raw['name']}-fine-tune"
    with pytest.raises(AssemblyError, match=r"no team 'nobody' in .* \(teams: vision, nlp\)"):
        assembly.team("nobody")


def test_an_imported_vpcs_subnets_reach_the_simulated_deployment(synthesized: Synthesized) -> None:
    nlp = Simulator(synthesized.outdir, "nlp")
    assert nlp.region == "eu-west-1"
    assert nlp.team.exports["tunestack-nlp-platform-subnet-ids"] == "subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002"


def test_no_assembly_is_a_usage_error_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(AssemblyError, match=r"no cloud assembly at .*cdk.out.*--cdk-out DIR"):
        ensure_synthesized(tmp_path / "cdk.out")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tunestack.cli",
            "validate",
            "fine-tune",
            str(ROOT / "examples" / "fine-tune-text.json"),
            "--cdk-out",
            str(tmp_path / "cdk.out"),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "--cdk-out DIR" in result.stderr


def test_another_apps_assembly_works_from_its_own_folder(synthesized: Synthesized, tmp_path: Path) -> None:
    """A folder holding only a cdk.out (no cdk.json, no examples): the command validates and
    simulates there, with the teams that assembly holds."""
    shutil.copytree(synthesized.outdir, tmp_path / "cdk.out")
    payload = json.loads((ROOT / "examples" / "fine-tune-text.json").read_text())
    (tmp_path / "news.json").write_text(json.dumps(payload))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's package, as installed

    def tunestack(*argv: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "tunestack.cli", *argv]
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)

    valid = tunestack("validate", "fine-tune", "news.json", "--team", "nlp")
    assert valid.returncode == 1 and "$.InstanceType: 'ml.p3.8xlarge' is not allowed" in valid.stdout
    assert tunestack("validate", "fine-tune", "news.json").returncode == 0
    simulated = tunestack(
        "simulate", "fine-tune", "news.json", "--data", str(ROOT / "examples" / "data" / "fine-tune-text")
    )
    assert simulated.returncode == 0, simulated.stderr
    assert "SUCCEEDED" in simulated.stdout and "for team vision" in simulated.stdout


@pytest.mark.skipif(not (ROOT / "node_modules" / ".bin" / "cdk").exists(), reason="the CDK CLI is installed by make")
def test_a_stale_assembly_is_synthesized_by_the_apps_own_cdk_json(synthesized: Synthesized, tmp_path: Path) -> None:
    """The app is not imported: the CDK CLI runs the app cdk.json names (here one that writes a
    copy of the session's assembly where the CLI asks)."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "node_modules").symlink_to(ROOT / "node_modules")
    (app / "app.py").write_text(
        "import os, shutil, sys\n"
        f"shutil.copytree({str(synthesized.outdir)!r}, os.environ['CDK_OUTDIR'], dirs_exist_ok=True)\n"
    )
    (app / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py"}))
    outdir = ensure_synthesized(app / "cdk.out")
    assert [t.name for t in load_assembly(outdir).teams] == ["vision", "nlp"]
    manifest = (outdir / "manifest.json").stat().st_mtime
    assert ensure_synthesized(app / "cdk.out") == outdir  # current: not synthesized again
    assert (outdir / "manifest.json").stat().st_mtime == manifest
