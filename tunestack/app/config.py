"""Team configuration: the ``teams`` list in ``cdk.json`` context, typed and validated.

The app layer: it maps ``cdk.json`` onto the constructs' typed settings (``TeamSettings``).
Every problem found is collected and reported at once, each naming the team and the field, so a
platform engineer fixes a bad ``cdk.json`` in one pass instead of one ``cdk synth`` per mistake.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tunestack.constructs.team_settings import (
    ENDPOINT_NAME,
    INSTANCE_TYPE,
    MODEL_PACKAGE_GROUP,
    NETWORK_ISOLATION_MODES,
    SAGEMAKER_MAX_RUNTIME_SECONDS,
    TEAM_NAME,
    DefaultInstanceTypes,
    InstanceTypes,
    TeamLimits,
    TeamSettings,
)
from tunestack.stacks.foundation_stack import ImportedVpc
from tunestack_runtime.contract import REGISTER_APPROVAL_STATUSES, AutoDeploy, RegistrySettings

TEAMS_CONTEXT_KEY = "teams"
ALLOW_DESTROY_CONTEXT_KEY = "tunestack:allowDestroy"

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_AZ = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")

_TEAM_KEYS = {
    "name",
    "account",
    "region",
    "allowedInstanceTypes",
    "defaultInstanceTypes",
    "limits",
    "vpc",
    "availabilityZones",
    "networkIsolation",
    "modelRegistry",
    "notifyOnSuccess",
}
_REGISTRY_KEYS = ("defaultModelPackageGroup", "defaultApprovalStatus", "autoDeploy")
_AUTO_DEPLOY_KEYS = ("modelPackageGroup", "endpointName", "instanceType", "initialInstanceCount")
_INSTANCE_KINDS = ("training", "hosting")
_LIMIT_KEYS = (
    "maxInstanceCount",
    "maxRuntimeInSeconds",
    "maxTrainingJobsPerTuningJob",
    "maxParallelTrainingJobs",
)
_VPC_KEYS = {"vpcId", "subnetIds", "availabilityZones"}


class TeamConfigError(ValueError):
    """The ``teams`` context is invalid; ``problems`` holds one line per bad field."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            "invalid tunestack team configuration in cdk.json context:\n" + "\n".join(f"  - {p}" for p in self.problems)
        )


@dataclass(frozen=True, kw_only=True)
class TeamConfig(TeamSettings):
    """One team of ``cdk.json``: its settings, and where its stacks deploy.

    ``account`` / ``region`` left out: the team's stacks are environment-agnostic and deploy to
    whatever the CLI's credentials point at. ``vpc`` left out: a VPC is created for the team.
    """

    account: str | None = None
    region: str | None = None
    vpc: ImportedVpc | None = None
    #: The zones of the VPC created for the team (no ``vpc``); needed with ``account`` and
    #: ``region``, where CDK would otherwise look them up in the account while synthesizing.
    availability_zones: tuple[str, ...] | None = None

    @property
    def stack_prefix(self) -> str:
        return f"tunestack-{self.name}"


def load_teams(context_value: Any) -> list[TeamConfig]:
    """Parse the ``teams`` context value; raise :class:`TeamConfigError` naming every bad field."""
    problems: list[str] = []
    if not isinstance(context_value, list) or not context_value:
        raise TeamConfigError([f"'{TEAMS_CONTEXT_KEY}': must be a non-empty list of teams, got {context_value!r}"])
    teams: list[TeamConfig] = []
    seen: set[str] = set()
    for index, raw in enumerate(context_value):
        label = _team_label(raw, index)
        team = _parse_team(raw, label, problems)
        if team is None:
            continue
        if team.name in seen:
            problems.append(f"{label}: field 'name': duplicate team name {team.name!r}")
        seen.add(team.name)
        teams.append(team)
    if problems:
        raise TeamConfigError(problems)
    return teams


def _team_label(raw: Any, index: int) -> str:
    if isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
        return f"team {raw['name']!r} (teams[{index}])"
    return f"team teams[{index}]"


def _parse_team(raw: Any, label: str, problems: list[str]) -> TeamConfig | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{label}: must be an object, got {type(raw).__name__}")
        return None
    before = len(problems)
    for key in sorted(set(raw) - _TEAM_KEYS):
        problems.append(f"{label}: field {key!r}: unknown field (allowed: {sorted(_TEAM_KEYS)})")

    name = raw.get("name")
    if not isinstance(name, str) or not TEAM_NAME.match(name):
        problems.append(
            f"{label}: field 'name': must be 2-12 lowercase letters or digits starting with a "
            f"letter (it prefixes stack and SageMaker job names), got {name!r}"
        )
    account = _optional_pattern(raw, "account", _ACCOUNT, "a 12-digit AWS account id", label, problems)
    region = _optional_pattern(raw, "region", _REGION, "an AWS region such as eu-west-1", label, problems)
    allowed = _parse_allowed(raw.get("allowedInstanceTypes"), label, problems)
    defaults = _parse_defaults(raw.get("defaultInstanceTypes"), allowed, label, problems)
    limits = _parse_limits(raw.get("limits"), label, problems)
    vpc = _parse_vpc(raw.get("vpc"), label, problems)
    zones = _parse_zones(raw, region, label, problems)
    registry = _parse_registry(raw.get("modelRegistry"), name, allowed, limits, label, problems)
    isolation = raw.get("networkIsolation", "required")
    if isolation not in NETWORK_ISOLATION_MODES:
        problems.append(
            f"{label}: field 'networkIsolation': must be one of {list(NETWORK_ISOLATION_MODES)}, got {isolation!r}"
        )
    notify_on_success = raw.get("notifyOnSuccess", False)
    if not isinstance(notify_on_success, bool):
        problems.append(f"{label}: field 'notifyOnSuccess': must be true or false, got {notify_on_success!r}")

    if len(problems) > before or allowed is None or defaults is None or limits is None or registry is None:
        return None
    assert isinstance(name, str)
    return TeamConfig(
        name=name,
        account=account,
        region=region,
        allowed_instance_types=allowed,
        default_instance_types=defaults,
        limits=limits,
        vpc=vpc,
        availability_zones=zones,
        network_isolation=isolation,
        model_registry=registry,
        notify_on_success=notify_on_success,
    )


def _optional_pattern(
    raw: Mapping[str, Any],
    key: str,
    pattern: re.Pattern[str],
    what: str,
    label: str,
    problems: list[str],
) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        problems.append(f"{label}: field {key!r}: must be {what}, got {value!r}")
        return None
    return value


def _parse_allowed(raw: Any, label: str, problems: list[str]) -> InstanceTypes | None:
    where = f"{label}: field 'allowedInstanceTypes"
    if not isinstance(raw, Mapping):
        problems.append(f"{where}': must be an object with 'training' and 'hosting' lists, got {raw!r}")
        return None
    for key in sorted(set(raw) - set(_INSTANCE_KINDS)):
        problems.append(f"{where}.{key}': unknown field (allowed: training, hosting)")
    lists: dict[str, tuple[str, ...]] = {}
    for kind in _INSTANCE_KINDS:
        value = raw.get(kind)
        if not isinstance(value, list) or not value:
            problems.append(f"{where}.{kind}': must be a non-empty list of ml.* instance types, got {value!r}")
            continue
        bad = [v for v in value if not isinstance(v, str) or not INSTANCE_TYPE.match(v)]
        if bad:
            problems.append(f"{where}.{kind}': not SageMaker instance types (ml.<family>.<size>): {bad!r}")
            continue
        if len(set(value)) != len(value):
            problems.append(f"{where}.{kind}': lists an instance type twice: {value!r}")
            continue
        lists[kind] = tuple(value)
    if len(lists) != len(_INSTANCE_KINDS):
        return None
    return InstanceTypes(training=lists["training"], hosting=lists["hosting"])


def _parse_defaults(
    raw: Any, allowed: InstanceTypes | None, label: str, problems: list[str]
) -> DefaultInstanceTypes | None:
    where = f"{label}: field 'defaultInstanceTypes"
    if not isinstance(raw, Mapping):
        problems.append(f"{where}': must be an object with 'training' and 'hosting', got {raw!r}")
        return None
    for key in sorted(set(raw) - set(_INSTANCE_KINDS)):
        problems.append(f"{where}.{key}': unknown field (allowed: training, hosting)")
    values: dict[str, str] = {}
    for kind in _INSTANCE_KINDS:
        value = raw.get(kind)
        if not isinstance(value, str):
            problems.append(f"{where}.{kind}': must be an instance type, got {value!r}")
            continue
        if allowed is not None and value not in getattr(allowed, kind):
            problems.append(
                f"{where}.{kind}': {value!r} is not in allowedInstanceTypes.{kind} {list(getattr(allowed, kind))}"
            )
            continue
        values[kind] = value
    if len(values) != len(_INSTANCE_KINDS):
        return None
    return DefaultInstanceTypes(training=values["training"], hosting=values["hosting"])


def _parse_limits(raw: Any, label: str, problems: list[str]) -> TeamLimits | None:
    where = f"{label}: field 'limits"
    if not isinstance(raw, Mapping):
        problems.append(f"{where}': must be an object with {list(_LIMIT_KEYS)}, got {raw!r}")
        return None
    for key in sorted(set(raw) - set(_LIMIT_KEYS)):
        problems.append(f"{where}.{key}': unknown field (allowed: {list(_LIMIT_KEYS)})")
    ceilings = {"maxRuntimeInSeconds": SAGEMAKER_MAX_RUNTIME_SECONDS}
    values: dict[str, int] = {}
    for key in _LIMIT_KEYS:
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(f"{where}.{key}': must be a positive integer, got {value!r}")
            continue
        ceiling = ceilings.get(key)
        if ceiling is not None and value > ceiling:
            problems.append(f"{where}.{key}': {value} exceeds SageMaker's maximum of {ceiling}")
            continue
        values[key] = value
    if len(values) != len(_LIMIT_KEYS):
        return None
    if values["maxParallelTrainingJobs"] > values["maxTrainingJobsPerTuningJob"]:
        problems.append(
            f"{where}.maxParallelTrainingJobs': {values['maxParallelTrainingJobs']} exceeds "
            f"limits.maxTrainingJobsPerTuningJob ({values['maxTrainingJobsPerTuningJob']})"
        )
        return None
    return TeamLimits(
        max_instance_count=values["maxInstanceCount"],
        max_runtime_in_seconds=values["maxRuntimeInSeconds"],
        max_training_jobs_per_tuning_job=values["maxTrainingJobsPerTuningJob"],
        max_parallel_training_jobs=values["maxParallelTrainingJobs"],
    )


def _parse_registry(
    raw: Any, team: Any, allowed: InstanceTypes | None, limits: TeamLimits | None, label: str, problems: list[str]
) -> RegistrySettings | None:
    """``modelRegistry``: ``defaultModelPackageGroup``, ``defaultApprovalStatus`` and ``autoDeploy``
    (``[{modelPackageGroup, endpointName, instanceType?, initialInstanceCount?}]``); left out, the
    defaults of ``RegistrySettings``."""
    if raw is None:
        return RegistrySettings()
    where = f"{label}: field 'modelRegistry"
    if not isinstance(raw, Mapping):
        problems.append(f"{where}': must be an object with {list(_REGISTRY_KEYS)}, got {raw!r}")
        return None
    before = len(problems)
    for key in sorted(set(raw) - set(_REGISTRY_KEYS)):
        problems.append(f"{where}.{key}': unknown field (allowed: {list(_REGISTRY_KEYS)})")
    prefix = f"{team}-" if isinstance(team, str) else None

    def check_group(value: Any, field_name: str) -> None:
        if not isinstance(value, str) or not MODEL_PACKAGE_GROUP.match(value):
            problems.append(
                f"{field_name}': must be a model package group name (1-63 letters, digits, hyphens), got {value!r}"
            )
        elif prefix is not None and not value.startswith(prefix):
            problems.append(f"{field_name}': must start with the team's prefix {prefix!r}, got {value!r}")

    default_group = raw.get("defaultModelPackageGroup")
    if default_group is not None:
        check_group(default_group, f"{where}.defaultModelPackageGroup")
    status = raw.get("defaultApprovalStatus", RegistrySettings().default_approval_status)
    if status not in REGISTER_APPROVAL_STATUSES:
        problems.append(
            f"{where}.defaultApprovalStatus': must be one of {list(REGISTER_APPROVAL_STATUSES)}, got {status!r}"
        )
    rules = raw.get("autoDeploy", [])
    targets: list[AutoDeploy] = []
    if not isinstance(rules, list):
        problems.append(
            f"{where}.autoDeploy': must be a list of {{modelPackageGroup, endpointName}} objects, got {rules!r}"
        )
        rules = []
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        at = f"{where}.autoDeploy[{index}]"
        if not isinstance(rule, Mapping):
            problems.append(f"{at}': must be an object with {list(_AUTO_DEPLOY_KEYS)}, got {rule!r}")
            continue
        for key in sorted(set(rule) - set(_AUTO_DEPLOY_KEYS)):
            problems.append(f"{at}.{key}': unknown field (allowed: {list(_AUTO_DEPLOY_KEYS)})")
        group = rule.get("modelPackageGroup")
        check_group(group, f"{at}.modelPackageGroup")
        if isinstance(group, str) and group in seen:
            problems.append(f"{at}.modelPackageGroup': {group!r} is listed twice (a group deploys to one endpoint)")
        seen.add(str(group))
        endpoint = rule.get("endpointName")
        if not isinstance(endpoint, str) or not ENDPOINT_NAME.match(endpoint):
            problems.append(
                f"{at}.endpointName': must be an endpoint name (1-63 letters, digits, hyphens), got {endpoint!r}"
            )
        instance_type = rule.get("instanceType")
        if instance_type is not None and (allowed is None or instance_type not in allowed.hosting):
            hosting = list(allowed.hosting) if allowed else []
            problems.append(f"{at}.instanceType': {instance_type!r} is not in allowedInstanceTypes.hosting {hosting}")
        count = rule.get("initialInstanceCount", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            problems.append(f"{at}.initialInstanceCount': must be a positive integer, got {count!r}")
        elif limits is not None and count > limits.max_instance_count:
            problems.append(
                f"{at}.initialInstanceCount': {count} exceeds limits.maxInstanceCount ({limits.max_instance_count})"
            )
        if len(problems) == before:
            targets.append(
                AutoDeploy(
                    group=str(group),
                    endpoint_name=str(endpoint),
                    instance_type=instance_type,
                    initial_instance_count=count,
                )
            )
    if len(problems) > before:
        return None
    return RegistrySettings(default_group=default_group, default_approval_status=status, auto_deploy=tuple(targets))


def _parse_vpc(raw: Any, label: str, problems: list[str]) -> ImportedVpc | None:
    if raw is None:
        return None
    where = f"{label}: field 'vpc"
    if not isinstance(raw, Mapping):
        problems.append(f"{where}': must be an object with {sorted(_VPC_KEYS)}, got {raw!r}")
        return None
    before = len(problems)
    for key in sorted(set(raw) - _VPC_KEYS):
        problems.append(f"{where}.{key}': unknown field (allowed: {sorted(_VPC_KEYS)})")
    vpc_id = raw.get("vpcId")
    if not isinstance(vpc_id, str) or not _VPC_ID.match(vpc_id):
        problems.append(f"{where}.vpcId': must be a VPC id such as vpc-0a1b2c3d, got {vpc_id!r}")
    subnets = raw.get("subnetIds")
    if (
        not isinstance(subnets, list)
        or len(subnets) < 2
        or not all(isinstance(s, str) and _SUBNET_ID.match(s) for s in subnets)
    ):
        problems.append(
            f"{where}.subnetIds': must list at least two subnet ids (subnet-...) in different "
            f"availability zones, got {subnets!r}"
        )
    azs = raw.get("availabilityZones")
    if not isinstance(azs, list) or not all(isinstance(a, str) and _AZ.match(a) for a in azs):
        problems.append(f"{where}.availabilityZones': must list availability zones such as eu-west-1a, got {azs!r}")
    elif isinstance(subnets, list) and len(azs) != len(subnets):
        problems.append(
            f"{where}.availabilityZones': must name one zone per subnet ({len(subnets)} subnets, {len(azs)} zones)"
        )
    elif len(set(azs)) < 2:
        problems.append(f"{where}.availabilityZones': the subnets must span at least two zones, got {azs!r}")
    if len(problems) > before:
        return None
    assert isinstance(vpc_id, str) and isinstance(subnets, list) and isinstance(azs, list)
    return ImportedVpc(vpc_id=vpc_id, subnet_ids=tuple(subnets), availability_zones=tuple(azs))


def _parse_zones(raw: Mapping[str, Any], region: str | None, label: str, problems: list[str]) -> tuple[str, ...] | None:
    zones = raw.get("availabilityZones")
    if zones is None:
        return None
    where = f"{label}: field 'availabilityZones'"
    if "vpc" in raw:
        problems.append(f"{where}: only for a created VPC; an existing one names its zones in vpc.availabilityZones")
        return None
    if not isinstance(zones, list) or len(zones) < 2 or not all(isinstance(z, str) and _AZ.match(z) for z in zones):
        problems.append(f"{where}: must list at least two availability zones such as eu-west-1a, got {zones!r}")
        return None
    if len(set(zones)) != len(zones):
        problems.append(f"{where}: lists a zone twice: {zones!r}")
        return None
    if region is not None and any(not z.startswith(region) or not z[len(region) :].isalpha() for z in zones):
        problems.append(f"{where}: every zone must be in region {region!r}, got {zones!r}")
        return None
    return tuple(zones)


#: The context key under which CDK caches an account's availability zones (aws-cdk-lib 2.275.0,
#: core/lib/context-provider.js: "<provider>:account=<account>:region=<region>").
def _zones_context_key(account: str, region: str) -> str:
    return f"availability-zones:account={account}:region={region}"


def lookup_problems(teams: Sequence[TeamConfig], context: Callable[[str], Any]) -> list[str]:
    """The configurations ``cdk synth`` could only complete by calling AWS, one line each naming the
    team and the field that avoids the call: synthesizing never needs credentials."""
    problems = []
    for index, team in enumerate(teams):
        if team.account is None or team.region is None or team.vpc is not None or team.availability_zones:
            continue
        if context(_zones_context_key(team.account, team.region)) is not None:
            continue  # looked up once with credentials, and cached in cdk.context.json
        problems.append(
            f"team {team.name!r} (teams[{index}]): field 'availabilityZones': required when 'account' and 'region' "
            f"are set and no 'vpc' is given: the VPC created for the team needs two zones of {team.region}, which "
            f'CDK could only look up in account {team.account} (e.g. "availabilityZones": '
            f'["{team.region}a", "{team.region}b"]); or name an existing VPC with \'vpc\''
        )
    return problems


def allow_destroy(context_value: Any) -> bool:
    """``tunestack:allowDestroy`` context: only a literal true (or "true" from ``-c``) allows it."""
    return context_value is True or (isinstance(context_value, str) and context_value.lower() == "true")
