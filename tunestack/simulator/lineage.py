"""Example inputs that depend on earlier runs: a tune input that warm-starts from (or copies the
settings of) tuning jobs named in it is simulated after the inputs that create those jobs, found
beside it by their ``TuningJobName``. Example data lives in ``examples/data/<input name>/`` or
``examples/data/<dataset>/``, the last folder of the input's TrainingData prefix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tunestack.simulator.harness import prefix_of


def parents_named(payload: Any) -> list[str]:
    """Tuning jobs an input names as warm-start parents or as the source of its settings."""
    if not isinstance(payload, dict):
        return []
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
    """Inputs beside ``file`` that create the tuning jobs ``payload`` names, parents first."""
    by_name: dict[str, tuple[Path, Any]] = {}
    for candidate in sorted(file.parent.glob("*.json")):
        try:
            document = json.loads(candidate.read_text())
        except ValueError:
            continue
        if isinstance(document, dict) and isinstance(document.get("TuningJobName"), str):
            by_name.setdefault(document["TuningJobName"], (candidate, document))
    ordered: list[tuple[Path, Any]] = []

    def visit(current: Any, trail: tuple[str, ...]) -> None:
        for name in parents_named(current):
            if name in trail or name not in by_name or any(p == by_name[name][0] for p, _ in ordered):
                continue
            visit(by_name[name][1], (*trail, name))
            ordered.append(by_name[name])

    visit(payload, (payload.get("TuningJobName", ""),) if isinstance(payload, dict) else ())
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
