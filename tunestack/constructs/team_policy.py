"""A team's settings as the contract's ``TeamPolicy``: what the pipelines write into every
function's environment (and what ``tunestack validate`` reads back from a cloud assembly). The one
mapping from the settings to the policy."""

from __future__ import annotations

from tunestack.constructs.team_settings import TeamSettings
from tunestack_runtime.contract import TeamPolicy


def team_policy(
    team: TeamSettings,
    *,
    bucket: str = "",
    region: str = "",
    role_arn: str = "",
    subnet_ids: str = "",
    security_group_ids: str = "",
    key_arn: str = "",
) -> TeamPolicy:
    """The team's policy. The platform's values (bucket, role, network, key) are known once the
    foundation is deployed: the pipelines pass them as tokens (the lists comma-joined, as their
    exports hold them)."""
    return TeamPolicy(
        team=team.name,
        bucket=bucket,
        region=region,
        training_instance_types=tuple(team.allowed_instance_types.training),
        hosting_instance_types=tuple(team.allowed_instance_types.hosting),
        default_training_instance_type=team.default_instance_types.training,
        default_hosting_instance_type=team.default_instance_types.hosting,
        max_instance_count=team.limits.max_instance_count,
        max_runtime_in_seconds=team.limits.max_runtime_in_seconds,
        max_training_jobs_per_tuning_job=team.limits.max_training_jobs_per_tuning_job,
        max_parallel_training_jobs=team.limits.max_parallel_training_jobs,
        role_arn=role_arn,
        subnet_ids=(subnet_ids,) if subnet_ids else (),
        security_group_ids=(security_group_ids,) if security_group_ids else (),
        key_arn=key_arn,
        network_isolation=team.network_isolation,
        model_registry=team.model_registry,
    )
