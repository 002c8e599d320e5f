"""Warm start: whether parents fit, and which parents and type ``Auto`` chooses.

A parent must have ended (Completed or Stopped), optimize the same objective metric, and tune
hyperparameters of the same names with the same range types. IdenticalDataAndAlgorithm also needs
the same training image, the same data channels and the same static hyperparameters; otherwise
only TransferLearning applies. ``Auto`` looks at the team's own recent tuning jobs of the same
algorithm and explains its choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tunestack_runtime.tuning_config import MAX_PARENTS, WarmStart

TERMINAL = {"Completed", "Stopped"}


@dataclass(frozen=True)
class TuningRun:
    """What a tuning job ran, as its description shows (or as this execution is about to run)."""

    name: str
    status: str
    end_time: str  # ISO 8601; "" for a job not yet ended
    team: str
    image: str
    channels: Mapping[str, str]
    static_hyperparameters: Mapping[str, str]
    objective_metric: str
    range_types: Mapping[str, str]  # hyperparameter name -> "Integer" | "Continuous" | "Categorical"


@dataclass(frozen=True)
class WarmStartChoice:
    type: str | None  # None: no warm start
    parents: tuple[str, ...]
    reason: str
    skipped: Mapping[str, str] = field(default_factory=dict)  # candidate -> why not


def incompatibility(parent: TuningRun, current: TuningRun, warm_type: str) -> str | None:
    """Why ``parent`` cannot warm-start ``current`` with ``warm_type``; None when it can."""
    if parent.status not in TERMINAL:
        return f"it is {parent.status}; a parent must have ended (Completed or Stopped)"
    if parent.objective_metric != current.objective_metric:
        return f"it optimized {parent.objective_metric!r}, this job optimizes {current.objective_metric!r}"
    if set(parent.range_types) != set(current.range_types):
        added = sorted(set(current.range_types) - set(parent.range_types))
        dropped = sorted(set(parent.range_types) - set(current.range_types))
        return f"it tuned other hyperparameters (added here: {added or 'none'}, not tuned here: {dropped or 'none'})"
    changed = sorted(n for n in current.range_types if parent.range_types[n] != current.range_types[n])
    if changed:
        return f"the range types of {changed} differ"
    if warm_type == "IdenticalDataAndAlgorithm":
        differences = _differences(parent, current)
        if differences:
            return f"{', '.join(differences)} changed, so only TransferLearning applies"
    return None


def _differences(parent: TuningRun, current: TuningRun) -> list[str]:
    found = []
    if parent.image != current.image:
        found.append("the training image")
    if dict(parent.channels) != dict(current.channels):
        found.append("the training data")
    if dict(parent.static_hyperparameters) != dict(current.static_hyperparameters):
        found.append("the static hyperparameters")
    return found


def check_parents(parents: Sequence[TuningRun], current: TuningRun, warm_start: WarmStart) -> list[str]:
    """One line per unfit parent, naming it and why."""
    return [
        f"$.WarmStartConfig.ParentHyperParameterTuningJobs[{i}] ({p.name}): {problem}"
        for i, p in enumerate(parents)
        if (problem := incompatibility(p, current, warm_start.type)) is not None
    ]


def choose_auto(candidates: Sequence[TuningRun], current: TuningRun) -> WarmStartChoice:
    """Up to five of the team's most recent fitting tuning jobs of the same algorithm."""
    skipped: dict[str, str] = {}
    fitting: list[TuningRun] = []
    for candidate in sorted(candidates, key=lambda c: c.end_time, reverse=True):
        if candidate.name == current.name:
            continue
        if candidate.team != current.team:
            skipped[candidate.name] = "another team's job"
        elif candidate.image != current.image:
            skipped[candidate.name] = "another algorithm"
        elif (problem := incompatibility(candidate, current, "TransferLearning")) is not None:
            skipped[candidate.name] = problem
        else:
            fitting.append(candidate)
    chosen = tuple(fitting[:MAX_PARENTS])
    if not chosen:
        return WarmStartChoice(
            type=None, parents=(), reason="no earlier tuning job of this team and algorithm fits", skipped=skipped
        )
    changed = sorted({d for parent in chosen for d in _differences(parent, current)})
    if changed:
        reason = f"{', '.join(changed)} differ from the parents', so TransferLearning"
        return WarmStartChoice(
            type="TransferLearning", parents=tuple(p.name for p in chosen), reason=reason, skipped=skipped
        )
    reason = "same image, data and static hyperparameters as the parents, so IdenticalDataAndAlgorithm"
    return WarmStartChoice(
        type="IdenticalDataAndAlgorithm", parents=tuple(p.name for p in chosen), reason=reason, skipped=skipped
    )
