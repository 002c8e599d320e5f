"""Synthesize the app once per session, with the same cdk.json context the CDK CLI uses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from tunestack.app.factory import TeamStacks, build_app

ROOT = Path(__file__).resolve().parents[1]


def cdk_json_context() -> dict[str, Any]:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


@dataclass
class Synthesized:
    app: cdk.App
    teams: dict[str, TeamStacks]
    outdir: Path


def synthesize(context: dict[str, Any], outdir: Path) -> Synthesized:
    app = cdk.App(context=context, outdir=str(outdir))
    teams = build_app(app)
    app.synth()
    return Synthesized(app=app, teams={t.team.name: t for t in teams}, outdir=outdir)


@pytest.fixture(scope="session")
def context() -> dict[str, Any]:
    return cdk_json_context()


@pytest.fixture(scope="session")
def synthesized(context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(context, tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def foundation_templates(synthesized: Synthesized) -> dict[str, Template]:
    return {name: Template.from_stack(t.foundation) for name, t in synthesized.teams.items()}


@pytest.fixture(scope="session")
def pipelines_templates(synthesized: Synthesized) -> dict[str, Template]:
    return {name: Template.from_stack(t.pipelines) for name, t in synthesized.teams.items()}
