"""One simulator per team over the session's synthesized app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Synthesized
from tunestack.simulator.harness import Simulator

EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def vision(synthesized: Synthesized) -> Simulator:
    return Simulator(synthesized.outdir, synthesized.teams["vision"].team)


@pytest.fixture(scope="session")
def nlp(synthesized: Synthesized) -> Simulator:
    return Simulator(synthesized.outdir, synthesized.teams["nlp"].team)


def example(name: str) -> tuple[dict[str, Any], Path]:
    return json.loads((EXAMPLES / f"{name}.json").read_text()), EXAMPLES / "data" / name
