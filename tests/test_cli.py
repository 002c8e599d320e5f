"""The tunestack command as a data scientist runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, Synthesized
from tunestack.cli import main as cli_main

#: The session's synthesized assembly (the same templates `cdk synth` writes: test_cli_synth.py).
CDK_OUT: list[Path] = []


@pytest.fixture(autouse=True)
def _cdk_out(synthesized: Synthesized) -> None:
    CDK_OUT[:] = [synthesized.outdir]


def main(argv: list[str]) -> int:
    """The command in-process, on the session's cloud assembly."""
    return cli_main([*argv, "--cdk-out", str(CDK_OUT[0])] if argv[:1] != ["report"] else argv)


def run_cli(
    *argv: str, cwd: Path = ROOT, env: dict[str, str] | None = None, assembly: bool = True
) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, in a process of its own (from the repository by default), on
    the session's cloud assembly unless ``assembly`` is False (then its default: ./cdk.out, or this
    checkout's outside an app folder)."""
    where = ["--cdk-out", str(CDK_OUT[0])] if assembly else []
    return subprocess.run(
        [sys.executable, "-m", "tunestack.cli", *argv, *where],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_validate_accepts_the_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("fine-tune-text", "fine-tune-vision"):
        assert main(["validate", "fine-tune", str(ROOT / "examples" / f"{name}.json")]) == 0
    out = capsys.readouterr().out
    assert "valid fine-tune input for team vision" in out and "skipped offline: dataset layout" in out


def test_validate_lists_each_problem_with_its_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"ModelName": "x_y", "Algorithm": {"JumpStartModelId": "a-b"}, "Colour": 1}))
    assert main(["validate", "fine-tune", str(bad)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["$.Colour", "$.ModelName"]


def test_validate_reports_broken_json_as_invalid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"ModelName": ')
    assert main(["validate", "fine-tune", str(bad)]) == 1
    assert capsys.readouterr().out.startswith("$: not valid JSON")


def test_policy_depends_on_the_team(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "fine-tune", str(ROOT / "examples" / "fine-tune-text.json"), "--team", "nlp"]) == 1
    assert "$.InstanceType: 'ml.p3.8xlarge' is not allowed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "fine-tune", "missing.json"],
        ["validate", "fine-tune", "examples/fine-tune-text.json", "--team", "nobody"],
        ["validate", "tune-everything", "examples/fine-tune-text.json"],
        ["simulate", "fine-tune", "examples/fine-tune-text.json", "--scenario", "meteor-strike"],
        ["simulate", "deploy", "examples/deploy.json", "--scenario", "long-tune"],
        ["simulate"],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    result = run_cli(*argv)
    assert result.returncode == 2, result.stderr


def test_simulate_json_is_one_document_and_exit_code_follows_status() -> None:
    result = run_cli("simulate", "fine-tune", "examples/fine-tune-text.json", "--scenario", "job-failure", "--json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert {"status", "output", "error", "cause", "state_transitions", "history_events", "sagemaker_calls"} <= set(
        document
    )
    assert document["simulated"] is True and document["status"] == "FAILED"
    assert document["jobs_left_running"] == 0 and document["rivals"] == []
    assert document["sagemaker_calls"] == {"CreateTrainingJob": 1, "DescribeTrainingJob": 1}
    operations = [(r["service"], r["operation"], r.get("error")) for r in document["requests"]]
    assert ("sagemaker", "CreateTrainingJob", None) in operations
    assert ("sagemaker", "DescribeTrainingJob", None) in operations


def test_list_scenarios_names_each_with_the_kinds_it_applies_to(capsys: pytest.CaptureFixture[str]) -> None:
    from tunestack.simulator.scenarios import LIFECYCLE, SCENARIOS

    assert main(["simulate", "--list-scenarios"]) == 0
    listed = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert set(listed) == set(SCENARIOS) and set(LIFECYCLE) <= set(listed)
    assert "tune" in listed["long-tune"] and "fine-tune" not in listed["long-tune"]
    assert main(["simulate", "deploy", "--list-scenarios"]) == 0
    for_deploy = {line.split()[0] for line in capsys.readouterr().out.splitlines()}
    assert "quota-zero" in for_deploy and not {"long-tune", "same-name-race", "nested-name-clash"} & for_deploy


def test_the_command_works_from_any_directory(tmp_path: Path) -> None:
    """The runtime ships in the Lambda asset; the installed command must still find it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    file = str(ROOT / "examples" / "fine-tune-text.json")
    result = run_cli("validate", "fine-tune", file, cwd=tmp_path, env=env, assembly=False)
    assert result.returncode == 0, result.stderr
    assert "valid fine-tune input" in result.stdout


def test_validate_accepts_the_tune_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("tune-xgboost", "tune-image-classification", "tune-warm-start", "tune-transfer-learning"):
        assert main(["validate", "tune", str(ROOT / "examples" / f"{name}.json")]) == 0
    assert "skipped offline: warm-start parents, CopySettingsFrom and Auto" in capsys.readouterr().out


def test_validate_tune_names_each_bad_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payload = json.loads((ROOT / "examples" / "tune-xgboost.json").read_text())
    payload["TuningJobName"] = "name_with_underscores"
    payload["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxParallelTrainingJobs"] = 30
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(payload))
    assert main(["validate", "tune", str(bad)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "$.TuningJobName",
        "$.HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs",
    ]


def test_simulate_tune_runs_the_parents_an_example_names_first(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "tune", str(ROOT / "examples" / "tune-warm-start.json")]) == 0
    out = capsys.readouterr().out
    assert "simulated first, as a job this input names: " in out and "tune-image-classification.json" in out
    # Validate, tune, analyse, the register and deploy choices, report and (vision, the default
    # team, is told of successes) the notice.
    assert "SUCCEEDED: 7 state transitions" in out and '"WarmStartType"' not in out
    assert '"Type": "IdenticalDataAndAlgorithm"' in out
    assert "AWS requests made by the functions: " in out and "(see --json)" in out


@pytest.mark.parametrize("layout", ["missing", "no manifest"])
def test_a_jumpstart_cache_that_cannot_serve_is_a_usage_error(
    layout: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "catalog"
    if layout == "no manifest":
        (folder / "community_models").mkdir(parents=True)
    argv = ["simulate", "fine-tune", str(ROOT / "examples" / "fine-tune-text.json"), "--jumpstart-cache", str(folder)]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert f"--jumpstart-cache {folder}: " in error
    assert ("not a folder" if layout == "missing" else "no models_manifest.json") in error


def test_a_missing_spec_is_warned_about_and_json_stays_one_document(tmp_path: Path) -> None:
    fixtures = ROOT / "tunestack" / "simulator" / "fixtures" / "jumpstart"
    manifest = json.loads((fixtures / "models_manifest.json").read_text())
    (tmp_path / "models_manifest.json").write_text(json.dumps(manifest))  # no spec files at all
    result = run_cli(
        "simulate", "fine-tune", "examples/fine-tune-text.json", "--jumpstart-cache", str(tmp_path), "--json"
    )
    assert result.returncode == 1, result.stderr
    for entry in manifest:
        warning = f"{entry['model_id']} version {entry['version']}: no spec file at {tmp_path / entry['spec_key']}"
        assert warning in result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "FAILED" and document["sagemaker_calls"] == {}
    # The first state looked for the model's spec where the manifest says it is.
    model_id = json.loads((ROOT / "examples" / "fine-tune-text.json").read_text())["Algorithm"]["JumpStartModelId"]
    (read,) = [r for r in document["requests"] if model_id in r["parameters"].get("Key", "")]
    assert read["operation"] == "GetObject" and read["error"] == "NoSuchKey"
