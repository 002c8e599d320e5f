"""What one team may do, as the pipelines stack hands it to the Lambdas."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from tunestack_runtime.errors import PolicyViolation

POLICY_ENVIRONMENT_VARIABLE = "TUNESTACK_TEAM"


@dataclass(frozen=True, kw_only=True)
class TeamPolicy:
    """The team's limits, and the platform settings every job it launches must use."""

    team: str
    bucket: str
    region: str
    training_instance_types: tuple[str, ...]
    hosting_instance_types: tuple[str, ...]
    default_training_instance_type: str
    default_hosting_instance_type: str
    max_instance_count: int
    max_runtime_in_seconds: int
    max_training_jobs_per_tuning_job: int = 1
    max_parallel_training_jobs: int = 1
    role_arn: str = ""
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    key_arn: str = ""
    #: "required": every job and model runs network-isolated (IAM refuses the rest too);
    #: "algorithm": as each algorithm allows.
    network_isolation: str = "required"

    def require_isolation(self, isolated: bool, field: str, what: str) -> None:
        """Refuse a job or model that would run without network isolation where the team requires it."""
        if not isolated and self.network_isolation == "required":
            raise PolicyViolation(
                f"{field}: {what} runs without network isolation, which team {self.team} requires "
                "(cdk.json networkIsolation: required)"
            )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> TeamPolicy:
        """Read per call (never at import), so a test or a redeploy changes it without a reload."""
        raw = json.loads(environ[POLICY_ENVIRONMENT_VARIABLE])
        return cls(
            team=raw["team"],
            bucket=raw["bucket"],
            region=raw["region"],
            training_instance_types=tuple(raw["trainingInstanceTypes"]),
            hosting_instance_types=tuple(raw["hostingInstanceTypes"]),
            default_training_instance_type=raw["defaultTrainingInstanceType"],
            default_hosting_instance_type=raw["defaultHostingInstanceType"],
            max_instance_count=int(raw["maxInstanceCount"]),
            max_runtime_in_seconds=int(raw["maxRuntimeInSeconds"]),
            max_training_jobs_per_tuning_job=int(raw.get("maxTrainingJobsPerTuningJob", 1)),
            max_parallel_training_jobs=int(raw.get("maxParallelTrainingJobs", 1)),
            role_arn=raw.get("roleArn", ""),
            subnet_ids=_as_tuple(raw.get("subnetIds", ())),
            security_group_ids=_as_tuple(raw.get("securityGroupIds", ())),
            key_arn=raw.get("keyArn", ""),
            network_isolation=raw.get("networkIsolation", "required"),
        )


def _as_tuple(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Lists arrive comma-joined from SSM parameters."""
    if isinstance(value, str):
        return tuple(v for v in value.split(",") if v)
    return tuple(value)
