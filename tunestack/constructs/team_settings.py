"""What a team may run: instance types, limits and network isolation, with documented defaults.

These are the props every tunestack construct takes about a team (the resources it uses are typed
CDK interfaces, given or created). ``TeamSettings.problems()`` names every bad value at once, the
way a platform engineer wants to read them: one line per prop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tunestack_runtime.contract import REGISTER_APPROVAL_STATUSES, SAGEMAKER_NAME, RegistrySettings

#: SageMaker's own ceiling for MaxRuntimeInSeconds of a training job: 28 days (SageMaker API
#: reference, StoppingCondition.MaxRuntimeInSeconds).
SAGEMAKER_MAX_RUNTIME_SECONDS = 28 * 24 * 3600

#: It prefixes stack, state machine, log group and SageMaker job names (63 characters at most).
TEAM_NAME = re.compile(r"^[a-z][a-z0-9]{1,11}$")
INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
#: CreateModelPackageGroup.ModelPackageGroupName and CreateEndpoint.EndpointName: SageMaker's
#: resource-name rule, as the functions check it.
MODEL_PACKAGE_GROUP = SAGEMAKER_NAME
ENDPOINT_NAME = SAGEMAKER_NAME

#: "required": IAM refuses any job or model without network isolation, and a JumpStart model whose
#: spec turns it off is refused by the first state; "algorithm": each algorithm as it allows.
NETWORK_ISOLATION_MODES = ("required", "algorithm")


@dataclass(frozen=True, kw_only=True)
class InstanceTypes:
    """Instance types a team may use, one list per kind of job."""

    training: tuple[str, ...] = ("ml.m5.xlarge", "ml.g5.xlarge", "ml.g5.2xlarge")
    hosting: tuple[str, ...] = ("ml.m5.large", "ml.m5.xlarge", "ml.g5.xlarge")


@dataclass(frozen=True, kw_only=True)
class DefaultInstanceTypes:
    """What an execution input that names no ``InstanceType`` gets (each must be allowed)."""

    training: str = "ml.m5.xlarge"
    hosting: str = "ml.m5.large"


@dataclass(frozen=True, kw_only=True)
class TeamLimits:
    """Ceilings a team's executions may not exceed (checked by the first state and by IAM)."""

    max_instance_count: int = 2
    max_runtime_in_seconds: int = 24 * 3600
    max_training_jobs_per_tuning_job: int = 20
    max_parallel_training_jobs: int = 2


@dataclass(frozen=True, kw_only=True)
class TeamSettings:
    """One team's name and what it may run; every field but ``name`` has a default."""

    name: str
    allowed_instance_types: InstanceTypes = field(default_factory=InstanceTypes)
    default_instance_types: DefaultInstanceTypes = field(default_factory=DefaultInstanceTypes)
    limits: TeamLimits = field(default_factory=TeamLimits)
    network_isolation: str = "required"
    #: The model registry: the default group and approval status of a ``Register`` input, and the
    #: groups whose approved versions deploy. Left out: no default group (an input names it), new
    #: versions PendingManualApproval, approving deploys nothing.
    model_registry: RegistrySettings = field(default_factory=RegistrySettings)
    #: True: each state machine also tells the team's topic when an execution succeeds (failures
    #: are always told). Left out: only failures.
    notify_on_success: bool = False

    def problems(self) -> list[str]:
        """One line per bad value, each naming its prop; empty when the settings are valid."""
        found: list[str] = []
        if not isinstance(self.name, str) or not TEAM_NAME.match(self.name):
            found.append(
                f"team_name: must be 2-12 lowercase letters or digits starting with a letter (it prefixes "
                f"stack, state machine and SageMaker job names), got {self.name!r}"
            )
        for kind in ("training", "hosting"):
            allowed = getattr(self.allowed_instance_types, kind)
            where = f"allowed_instance_types.{kind}"
            if isinstance(allowed, str) or not allowed:
                found.append(f"{where}: must be a non-empty sequence of ml.* instance types, got {allowed!r}")
                continue
            bad = [t for t in allowed if not isinstance(t, str) or not INSTANCE_TYPE.match(t)]
            if bad:
                found.append(f"{where}: not SageMaker instance types (ml.<family>.<size>): {bad!r}")
            if len(set(allowed)) != len(allowed):
                found.append(f"{where}: lists an instance type twice: {list(allowed)!r}")
            default = getattr(self.default_instance_types, kind)
            if default not in allowed:
                found.append(f"default_instance_types.{kind}: {default!r} is not in {where} {list(allowed)}")
        for name in (
            "max_instance_count",
            "max_runtime_in_seconds",
            "max_training_jobs_per_tuning_job",
            "max_parallel_training_jobs",
        ):
            value = getattr(self.limits, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                found.append(f"limits.{name}: must be a positive integer, got {value!r}")
        limits = self.limits
        runtime = limits.max_runtime_in_seconds
        ceiling = SAGEMAKER_MAX_RUNTIME_SECONDS
        if isinstance(runtime, int) and runtime > ceiling:
            found.append(f"limits.max_runtime_in_seconds: {runtime} exceeds SageMaker's maximum of {ceiling}")
        parallel, per_tuning = limits.max_parallel_training_jobs, limits.max_training_jobs_per_tuning_job
        if isinstance(parallel, int) and isinstance(per_tuning, int) and parallel > per_tuning:
            found.append(
                f"limits.max_parallel_training_jobs: {parallel} exceeds limits.max_training_jobs_per_tuning_job "
                f"({per_tuning})"
            )
        if self.network_isolation not in NETWORK_ISOLATION_MODES:
            found.append(
                f"network_isolation: must be one of {list(NETWORK_ISOLATION_MODES)}, got {self.network_isolation!r}"
            )
        if not isinstance(self.notify_on_success, bool):
            found.append(f"notify_on_success: must be true or false, got {self.notify_on_success!r}")
        found.extend(self._registry_problems())
        return found

    def _registry_problems(self) -> list[str]:
        registry, found = self.model_registry, []
        prefix = f"{self.name}-"
        group_rule = f"1-63 letters, digits and hyphens starting with the team's prefix {prefix!r}"

        def bad_group(group: object) -> bool:
            return not isinstance(group, str) or not MODEL_PACKAGE_GROUP.match(group) or not group.startswith(prefix)

        if registry.default_group is not None and bad_group(registry.default_group):
            found.append(f"model_registry.default_group: {group_rule}, got {registry.default_group!r}")
        if registry.default_approval_status not in REGISTER_APPROVAL_STATUSES:
            found.append(
                f"model_registry.default_approval_status: one of {list(REGISTER_APPROVAL_STATUSES)}, "
                f"got {registry.default_approval_status!r}"
            )
        seen: set[str] = set()
        for index, rule in enumerate(registry.auto_deploy):
            where = f"model_registry.auto_deploy[{index}]"
            if bad_group(rule.group):
                found.append(f"{where}.group: {group_rule}, got {rule.group!r}")
            elif rule.group in seen:
                found.append(f"{where}.group: {rule.group!r} deploys to one endpoint only, listed twice")
            seen.add(str(rule.group))
            if not isinstance(rule.endpoint_name, str) or not ENDPOINT_NAME.match(rule.endpoint_name):
                found.append(f"{where}.endpoint_name: 1-63 letters, digits and hyphens, got {rule.endpoint_name!r}")
            hosting = self.allowed_instance_types.hosting
            if rule.instance_type is not None and rule.instance_type not in hosting:
                found.append(f"{where}.instance_type: {rule.instance_type!r} is not in allowed_instance_types.hosting")
            count = rule.initial_instance_count
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                found.append(f"{where}.initial_instance_count: must be a positive integer, got {count!r}")
            elif isinstance(self.limits.max_instance_count, int) and count > self.limits.max_instance_count:
                found.append(
                    f"{where}.initial_instance_count: {count} exceeds limits.max_instance_count "
                    f"({self.limits.max_instance_count})"
                )
        return found


class TeamPropsError(ValueError):
    """A tunestack construct's props are invalid; ``problems`` holds one line per bad prop."""

    def __init__(self, construct_path: str, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"invalid props for {construct_path}:\n" + "\n".join(f"  - {p}" for p in self.problems))
