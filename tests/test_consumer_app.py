"""The wheel `make dist` builds, installed into a fresh virtualenv with nothing else of this
repository, synthesizes a whole team platform from a two-line CDK app in an empty folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

APP = """\
import aws_cdk as cdk
from tunestack import TeamPlatform

app = cdk.App()
stack = cdk.Stack(app, "Search")
TeamPlatform(stack, "Search", team_name="search")
app.synth()
"""


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=900)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("consumer")
    # Nothing of this checkout or of its environments may leak into the consumer's.
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    _run(["make", "--no-print-directory", "dist", f"DIST={tmp / 'dist'}"], ROOT, env)
    (wheel,) = (tmp / "dist").glob("tunestack-*.whl")

    python = tmp / "venv" / "bin" / "python"
    # The interpreter this virtualenv was made from, not the virtualenv itself.
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(tmp / "venv")], tmp, env)
    _run(
        [str(python), "-m", "pip", "install", "--quiet", "--constraint", str(ROOT / "constraints.txt"), str(wheel)],
        tmp,
        env,
    )

    app_dir = tmp / "app"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(APP)
    (app_dir / "cdk.json").write_text(json.dumps({"app": f"{python} app.py"}))
    synth = _run([str(ROOT / "node_modules" / ".bin" / "cdk"), "synth", "--quiet", "--no-notices"], app_dir, env)
    where = _run([str(python), "-c", "import tunestack, tunestack_runtime; print(tunestack.__file__)"], tmp, env)
    return {"app": app_dir, "synth": synth, "tunestack": where.stdout.strip(), "python": python, "env": env}


def test_the_two_line_app_synthesizes_from_the_installed_wheel(consumer: dict[str, object]) -> None:
    assert "site-packages" in str(consumer["tunestack"])
    assert not str(consumer["tunestack"]).startswith(str(ROOT / "tunestack"))
    template = json.loads((Path(str(consumer["app"])) / "cdk.out" / "Search.template.json").read_text())
    resources = template["Resources"].values()
    machines = sorted(
        r["Properties"]["StateMachineName"] for r in resources if r["Type"] == "AWS::StepFunctions::StateMachine"
    )
    assert machines == ["tunestack-search-deploy", "tunestack-search-fine-tune", "tunestack-search-tune"]
    handlers = {
        r["Properties"]["Handler"]
        for r in resources
        if r["Type"] == "AWS::Lambda::Function" and "Handler" in r["Properties"]
    }
    assert "tunestack_runtime.handlers.fine_tune.validate" in handlers


def test_the_function_code_comes_from_the_installed_runtime(consumer: dict[str, object]) -> None:
    """Every function's asset is the tunestack_runtime package of the wheel: its handlers and the
    schemas they check inputs with, and nothing else of the environment it was installed into."""
    out = Path(str(consumer["app"])) / "cdk.out"
    template = json.loads((out / "Search.template.json").read_text())
    asset_paths = {
        r["Metadata"]["aws:asset:path"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and "aws:asset:path" in r.get("Metadata", {})
    }
    ours = [p for p in asset_paths if (out / p / "tunestack_runtime").is_dir()]
    assert len(ours) == 1, asset_paths
    asset = out / ours[0]
    assert sorted(p.name for p in asset.iterdir()) == ["tunestack_runtime"]
    assert (asset / "tunestack_runtime" / "handlers" / "fine_tune.py").is_file()
    assert (asset / "tunestack_runtime" / "schemas" / "tune.schema.json").is_file()
    assert not list(asset.rglob("__pycache__"))


def test_the_command_line_is_installed_with_the_wheel(consumer: dict[str, object]) -> None:
    python = Path(str(consumer["python"]))
    result = _run([str(python.parent / "tunestack"), "--help"], python.parent, dict(consumer["env"]))  # type: ignore[arg-type]
    assert "validate" in result.stdout and "simulate" in result.stdout
