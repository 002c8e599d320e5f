"""The first state's validation, run on a workstation: the same code the Lambda runs, with the
team's policy as the synthesized pipelines stack hands it to its functions. What needs AWS (the
bucket's name, the dataset's contents, JumpStart specs) is skipped and said so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tunestack.cli.hints import hints_for
from tunestack_runtime.deploy_input import validate_deploy_input
from tunestack_runtime.errors import TunestackError
from tunestack_runtime.fine_tune_input import validate_fine_tune_input
from tunestack_runtime.policy import TeamPolicy
from tunestack_runtime.tune_input import validate_tune_input


@dataclass
class OfflineReport:
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: What the input probably meant, when its problems look like a known mistake.
    hints: list[str] = field(default_factory=list)
    #: The error the first state would fail with (InvalidInput, PolicyViolation), or None.
    error: str | None = None


_SKIPPED = {
    "fine-tune": [
        "dataset layout (the one the model's spec reads: data.csv, class folders, CSV folders, JSON Lines): "
        "needs the team bucket",
        "JumpStart model, supported instance types and hyperparameter bounds: need the JumpStart bucket",
        "that an s3:// TrainingData lies in the team bucket: its name is known once deployed",
    ],
    "tune": [
        "warm-start parents, CopySettingsFrom and Auto: need the team's tuning jobs in SageMaker",
        "data channels and the JumpStart model's metrics: need the team bucket and the JumpStart bucket",
        "that an s3:// TrainingData lies in the team bucket: its name is known once deployed",
    ],
    "deploy": [
        "the training or tuning job, its model and serving image: need SageMaker and the JumpStart bucket",
        "whether the endpoint exists (create or update in place) and is the team's: needs SageMaker",
    ],
}
_VALIDATORS = {"fine-tune": validate_fine_tune_input, "tune": validate_tune_input, "deploy": validate_deploy_input}


def validate_offline(kind: str, payload: Any, policy: TeamPolicy) -> OfflineReport:
    """``policy``: the team's, as the cloud assembly carries it (bucket and ARNs empty: offline)."""
    if kind not in _VALIDATORS:
        raise ValueError(f"unknown kind {kind!r}")
    report = OfflineReport(skipped=list(_SKIPPED[kind]))
    try:
        _VALIDATORS[kind](payload, policy)
    except TunestackError as error:
        report.problems = str(error).splitlines()
        report.error = type(error).__name__
        report.hints = hints_for(kind, payload, report.problems)
    return report
