"""The first state's validation, run on a workstation: the same code the Lambda runs, with the
team's policy from cdk.json. What needs AWS (the bucket's name, the dataset's contents, JumpStart
specs) is skipped and said so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tunestack.app.config import TeamConfig
from tunestack.constructs.team_policy import team_policy as policy_of_team

# isort: split
from tunestack_runtime.deploy_input import validate_deploy_input
from tunestack_runtime.errors import TunestackError
from tunestack_runtime.fine_tune_input import validate_fine_tune_input
from tunestack_runtime.policy import TeamPolicy
from tunestack_runtime.tune_input import validate_tune_input


@dataclass
class OfflineReport:
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def team_policy(team: TeamConfig, bucket: str = "") -> TeamPolicy:
    """The policy the pipelines hand their Lambdas, from the team's cdk.json entry."""
    return policy_of_team(team, bucket=bucket)


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


def validate_offline(kind: str, payload: Any, team: TeamConfig) -> OfflineReport:
    if kind not in _VALIDATORS:
        raise ValueError(f"unknown kind {kind!r}")
    report = OfflineReport(skipped=list(_SKIPPED[kind]))
    try:
        _VALIDATORS[kind](payload, team_policy(team))
    except TunestackError as error:
        report.problems = str(error).splitlines()
    return report
