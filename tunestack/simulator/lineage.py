"""Example inputs that depend on earlier runs: a tune input that warm-starts from (or copies the
settings of) tuning jobs named in it, or a deploy input that names a training or tuning job, is
simulated after the inputs that create those jobs, found beside it by their ``ModelName`` or
``TuningJobName``. Example data lives in ``examples/data/<input name>/`` or
``examples/data/<dataset>/``, the last folder of the input's TrainingData prefix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tunestack.simulator.harness import prefix_of


def kind_of(payload: Any) -> str:
    """Which state machine an input is for, from the fields only it has."""
    if isinstance(payload, dict) and "ModelName" in payload:
        return "fine-tune"
    if isinstance(payload, dict) and "EndpointName" in payload:
        return "deploy"
    return "tune"


def _creates(payload: Any) -> str | None:
    """The job an input creates: a fine-tune's training job, a tune's tuning job."""
    kind = kind_of(payload)
    field = {"fine-tune": "ModelName", "tune": "TuningJobName"}.get(kind)
    value = payload.get(field) if field else None
    return value if isinstance(value, str) else None


def parents_named(payload: Any) -> list[str]:
    """Jobs an input builds on: warm-start parents, the source of its settings, the job it deploys."""
    if not isinstance(payload, dict):
        return []
    if kind_of(payload) == "deploy":
        return [v for k in ("TrainingJobName", "TuningJobName") if isinstance(v := payload.get(k), str)]
    names = []
    warm = payload.get("WarmStartConfig")
    if isinstance(warm, dict):
        for parent in warm.get("ParentHyperParameterTuningJobs") or []:
            if isinstance(parent, dict) and isinstance(parent.get("HyperParameterTuningJobName"), str):
                names.append(parent["HyperParameterTuningJobName"])
    if isinstance(payload.get("CopySettingsFrom"), str):
        names.append(payload["CopySettingsFrom"])
    return list(dict.fromkeys(names))


def earlier_runs(file: Path, payload: Any) -> list[tuple[Path, Any]]:
    """Inputs beside ``file`` that create the jobs ``payload`` names, parents first."""
    by_name: dict[str, tuple[Path, Any]] = {}
    for candidate in sorted(file.parent.glob("*.json")):
        try:
            document = json.loads(candidate.read_text())
        except ValueError:
            continue
        if isinstance(document, dict) and (created := _creates(document)) is not None:
            by_name.setdefault(created, (candidate, document))
    ordered: list[tuple[Path, Any]] = []

    def visit(current: Any, trail: tuple[str, ...]) -> None:
        for name in parents_named(current):
            if name in trail or name not in by_name or any(p == by_name[name][0] for p, _ in ordered):
                continue
            visit(by_name[name][1], (*trail, name))
            ordered.append(by_name[name])

    visit(payload, (_creates(payload) or "",))
    return ordered


def data_folder(file: Path, payload: Any) -> tuple[str, Path] | None:
    """(key prefix, local folder) of an example's data, if it ships any."""
    try:
        prefix = prefix_of(payload)
    except ValueError:
        return None
    data = file.parent / "data"
    for folder in (data / file.stem, data / Path(prefix.rstrip("/")).name):
        if folder.is_dir():
            return prefix, folder
    return None
