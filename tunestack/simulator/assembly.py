"""The synthesized cloud assembly (``cdk.out``) as the command line and the simulator see it.

Teams are read from the assembly, not from the app that made it: each stack whose Lambda functions
carry the team's policy in their policy environment variable (``contract.POLICY_ENV``) is a team's pipelines
stack. So the installed command works on any app that uses the constructs, given its ``cdk.out``.
Nothing here imports the app; when the assembly is missing or older than the app's sources, the
app's own ``cdk.json`` is synthesized by the CDK CLI in a subprocess.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# isort: split
from tunestack_runtime.policy import POLICY_ENVIRONMENT_VARIABLE, TeamPolicy

#: What this repository's app is built from (relative to the folder holding cdk.json); for another
#: app, whichever of these exist (its cdk.json and app.py at least) decide whether cdk.out is stale.
SOURCES = (
    "app.py",
    "cdk.json",
    "tunestack/app",
    "tunestack/stacks",
    "tunestack/constructs",
    "tunestack_runtime",
)
#: The manifest's artifact type of a CloudFormation stack (cloud assembly schema, ``ArtifactType``).
STACK_ARTIFACT = "aws:cloudformation:stack"


class AssemblyError(ValueError):
    """The cloud assembly is missing, unreadable, or has no tunestack team."""


@dataclass(frozen=True, kw_only=True)
class AssemblyTeam:
    """One team as its synthesized pipelines stack describes it.

    ``policy`` holds the literal fields of the team policy document; what CloudFormation
    only knows once deployed (the bucket name, role and key ARNs imported from the foundation
    stack) is empty, which the validators read as "offline". ``exports`` are the literal export
    values of the assembly (e.g. an imported VPC's subnet ids), by export name.
    """

    name: str
    stack_name: str
    account: str | None
    region: str | None
    policy: TeamPolicy
    exports: dict[str, str] = field(default_factory=dict)

    def state_machine_name(self, kind: str) -> str:
        """The state machine's name, part of the product's contract: tunestack-<team>-<kind>."""
        return f"tunestack-{self.name}-{kind}"


@dataclass(frozen=True)
class Assembly:
    outdir: Path
    teams: list[AssemblyTeam]

    def team(self, name: str | None) -> AssemblyTeam:
        """The team called ``name``, or the first when None; AssemblyError naming those there are."""
        if name is None:
            return self.teams[0]
        for team in self.teams:
            if team.name == name:
                return team
        known = ", ".join(t.name for t in self.teams)
        raise AssemblyError(f"no team {name!r} in {self.outdir} (teams: {known})")


def load_assembly(outdir: Path) -> Assembly:
    """The teams of the cloud assembly in ``outdir``, in the manifest's order."""
    manifest_path = outdir / "manifest.json"
    if not manifest_path.is_file():
        raise AssemblyError(
            f"no cloud assembly at {outdir} (no manifest.json): run `cdk synth` in your CDK app, or pass --cdk-out DIR"
        )
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError as error:
        raise AssemblyError(f"{manifest_path}: not valid JSON ({error})") from None
    stacks: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != STACK_ARTIFACT:
            continue
        template_file = artifact.get("properties", {}).get("templateFile", f"{artifact_id}.template.json")
        template = json.loads((outdir / template_file).read_text())
        stacks.append((artifact_id, artifact, template))
    exports = _literal_exports(template for _, _, template in stacks)
    teams = []
    for artifact_id, artifact, template in stacks:
        account, region = _environment(artifact.get("environment", ""))
        raw = _policy_document(template)
        if raw is None:
            continue
        policy = TeamPolicy.from_environment({POLICY_ENVIRONMENT_VARIABLE: json.dumps(_offline(raw, region or ""))})
        teams.append(
            AssemblyTeam(
                name=policy.team, stack_name=artifact_id, account=account, region=region, policy=policy, exports=exports
            )
        )
    if not teams:
        raise AssemblyError(
            f"{outdir}: no tunestack team in this cloud assembly (no stack has a function with "
            f"{POLICY_ENVIRONMENT_VARIABLE} in its environment)"
        )
    return Assembly(outdir=outdir, teams=teams)


def _environment(value: str) -> tuple[str | None, str | None]:
    """``aws://ACCOUNT/REGION``; ``unknown-account`` / ``unknown-region`` for an agnostic stack."""
    account, _, region = value.removeprefix("aws://").partition("/")
    return (
        None if not account or account.startswith("unknown-") else account,
        None if not region or region.startswith("unknown-") else region,
    )


def _policy_document(template: dict[str, Any]) -> Any:
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        variables = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
        if POLICY_ENVIRONMENT_VARIABLE in variables:
            return variables[POLICY_ENVIRONMENT_VARIABLE]
    return None


def _offline(node: Any, region: str) -> Any:
    """The policy document with what only a deployment knows left empty: ``Fn::ImportValue`` and
    other references become "", ``AWS::Region`` the stack's region (or "" when agnostic)."""
    if isinstance(node, str):
        return json.loads(node)
    joined = _join(node, region)
    return json.loads(joined)


def _join(node: Any, region: str) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and len(node) == 1:
        ((key, value),) = node.items()
        if key == "Fn::Join":
            return str(value[0]).join(_join(part, region) for part in value[1])
        if key == "Ref" and value == "AWS::Region":
            return region
    return ""  # a token: known once deployed


def _literal_exports(templates: Any) -> dict[str, str]:
    exports = {}
    for template in templates:
        for output in template.get("Outputs", {}).values():
            name, value = output.get("Export", {}).get("Name"), output.get("Value")
            if isinstance(name, str) and isinstance(value, str):
                exports[name] = value
    return exports


def _newest_source(app_dir: Path) -> float:
    newest = 0.0
    for name in SOURCES:
        path = app_dir / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for file in path.rglob("*"):
                if file.is_file() and "__pycache__" not in file.parts:
                    newest = max(newest, file.stat().st_mtime)
    return newest


def cdk_command(app_dir: Path) -> list[str]:
    """The CDK CLI the app pins (``node_modules/.bin/cdk``), else one on PATH, else ``npx cdk``."""
    local = app_dir / "node_modules" / ".bin" / "cdk"
    if local.exists():
        return [str(local)]
    found = shutil.which("cdk")
    return [found] if found else ["npx", "--no-install", "cdk"]


#: Held while the CDK CLI synthesizes an app's assembly (in the app's folder).
SYNTH_LOCK = ".tunestack-synth.lock"


def ensure_synthesized(outdir: Path) -> Path:
    """``outdir`` once it holds a current cloud assembly. When the folder above it holds the app's
    ``cdk.json`` and the assembly is missing or older than the app's sources, ``cdk synth`` runs
    there (the CDK CLI, in a subprocess) first. AssemblyError when there is no assembly to read.
    Given the app's folder itself (the one holding cdk.json), its ``cdk.out``."""
    if (outdir / "cdk.json").is_file():
        outdir = outdir / "cdk.out"
    app_dir = outdir.resolve().parent
    manifest = outdir / "manifest.json"
    if not (app_dir / "cdk.json").is_file():
        if not manifest.is_file():
            load_assembly(outdir)  # raises, naming the folder
        return outdir
    if manifest.is_file() and manifest.stat().st_mtime >= _newest_source(app_dir):
        return outdir
    # One synthesis at a time (two terminals, parallel tests): the one that waited finds the
    # assembly current and reads it.
    with _synth_lock(app_dir):
        if manifest.is_file() and manifest.stat().st_mtime >= _newest_source(app_dir):
            return outdir
        _synthesize(app_dir, outdir)
    return outdir


@contextmanager
def _synth_lock(app_dir: Path) -> Iterator[None]:
    with open(app_dir / SYNTH_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _synthesize(app_dir: Path, outdir: Path) -> None:
    print(f"tunestack: synthesizing {app_dir / 'cdk.json'} to {outdir} (`cdk synth`: sources changed)", file=sys.stderr)
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true"}
    command = [*cdk_command(app_dir), "synth", "--quiet", "--no-notices", "--output", str(outdir.resolve())]
    try:
        done = subprocess.run(command, cwd=app_dir, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise AssemblyError(f"cannot run the CDK CLI ({error}); run `cdk synth` yourself or pass --cdk-out") from None
    if done.returncode != 0:
        raise AssemblyError(f"`{' '.join(command)}` failed in {app_dir}:\n{done.stderr[-3000:]}")
