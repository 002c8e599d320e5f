"""The SageMaker Model Registry: a fine-tuned model, or a tuning job's best one, registered as a new
version of one of the team's model package groups; an approved version deployed.

A version carries what deploy would serve (image, model data, environment, the instance types that
image serves), where it came from (training job, tuning job, dataset, hyperparameters), its
objective metrics as model-quality statistics (a JSON document in the team bucket) and who made it
(team, execution) in ``CustomerMetadataProperties``. Versions in a group take no tags of their own
(CreateModelPackage, ``Tags``: "If you supply ModelPackageGroupName, ... you cannot supply a tag
argument", botocore's SageMaker service model): the team tag sits on the group, and a group is the
team's when its name carries the team prefix and its tag names the team.

Registering is idempotent: the execution's launch key is the request's ``ClientToken`` and a
metadata property of the version, and a retried step finds the version it created before creating
one.

API facts (shapes, patterns, limits) are those of botocore's SageMaker service model
(``botocore/data/sagemaker/2017-07-24/service-2.json``): CreateModelPackage, CreateModelPackageGroup,
DescribeModelPackage, ListModelPackages, ``CustomerMetadataMap`` (at most 50 entries, keys 1-128 and
values 1-256 characters of the tag alphabet), ``ClientToken`` (1-36 of ``[a-zA-Z0-9-]``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

# The settings and the error live in the contract and the errors module; importers find them here too.
from tunestack_runtime.contract import DEFAULT_APPROVAL_STATUS as DEFAULT_APPROVAL_STATUS
from tunestack_runtime.contract import (
    MODEL_PACKAGE_STATE_CHANGE,
    REGISTER_APPROVAL_STATUSES,
    SAGEMAKER_NAME,
    RegistrySettings,
)
from tunestack_runtime.contract import AutoDeploy as AutoDeploy
from tunestack_runtime.contract import approval_event_pattern as approval_event_pattern
from tunestack_runtime.errors import InvalidInput, PolicyViolation, not_the_teams
from tunestack_runtime.errors import ModelPackageNotApproved as ModelPackageNotApproved
from tunestack_runtime.executions import Execution
from tunestack_runtime.hosting import Container, ModelSource, model_source, serving_container
from tunestack_runtime.input_fields import Problems
from tunestack_runtime.json_path import child
from tunestack_runtime.policy import TeamPolicy
from tunestack_runtime.sagemaker_errors import already_exists, not_visible
from tunestack_runtime.tags import EXECUTION_TAG, LAUNCH_TAG, MODEL_TAG, PIPELINE_TAG, TEAM_TAG, resource_tags, tag_safe

#: What an input may ask a new version to start as. ``Rejected`` is a reviewer's verdict, not a start.
APPROVAL_STATUSES = REGISTER_APPROVAL_STATUSES
#: ``EntityName`` (CreateModelPackageGroup.ModelPackageGroupName).
GROUP_NAME = SAGEMAKER_NAME
#: A version's ARN: ``ModelPackageArn`` (``model-package/[\S]{1,2048}``) narrowed to a versioned
#: package, ``model-package/<group>/<version>`` (ARNs of versions, e.g. ``model-package/something/8``).
VERSION_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z\-]*):sagemaker:(?P<region>[a-z0-9\-]{9,16}):(?P<account>[0-9]{12}):"
    r"model-package/(?P<group>[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})/(?P<version>[0-9]{1,9})$"
)
#: EventBridge's detail-type of a version's state change (the contract's).
STATE_CHANGE_DETAIL_TYPE = MODEL_PACKAGE_STATE_CHANGE
STATISTICS_CONTENT_TYPE = "application/json"
#: CustomerMetadataProperties: at most 50 entries; values at most 256 characters.
MAX_METADATA = 50
MAX_METADATA_KEY = 128
#: Metadata keys beside the tag keys (``tags``) tunestack writes on a version.
TRAINING_JOB_KEY = "tunestack:training-job"
TUNING_JOB_KEY = "tunestack:tuning-job"
DATASET_KEY = "tunestack:dataset"
STATISTICS_KEY = "tunestack:statistics"
ISOLATION_KEY = "tunestack:network-isolation"
HYPERPARAMETER_PREFIX = "hp:"


@dataclass(frozen=True, kw_only=True)
class RegisterRequest:
    """``Register`` as the input gave it; None: the team's default."""

    group: str | None = None
    approval_status: str | None = None


def group_problem(group: str, team: str) -> tuple[str, str] | None:
    """("shape" | "policy", why) when ``group`` cannot be one of ``team``'s groups."""
    if not GROUP_NAME.fullmatch(group):
        return "shape", f"1-63 letters, digits and hyphens, got {group!r}"
    if not group.startswith(f"{team}-"):
        return "policy", f"{group!r} is not one of team {team}'s groups, whose names start with '{team}-'"
    return None


def parse_register(raw: Any, team: str, problems: Problems, where: str = "$.Register") -> RegisterRequest | None:
    """``Register``: ``{}`` (the team's defaults), or ``{"ModelPackageGroupName", "ApprovalStatus"}``."""
    if not isinstance(raw, Mapping):
        problems.shape.append(f"{where}: must be an object with ModelPackageGroupName and/or ApprovalStatus")
        return None
    allowed = ("ApprovalStatus", "ModelPackageGroupName")
    for key in sorted(set(raw) - set(allowed)):
        problems.shape.append(f"{child(where, key)}: unknown field (allowed: {', '.join(allowed)})")
    group = raw.get("ModelPackageGroupName")
    if group is not None:
        problem = group_problem(group, team) if isinstance(group, str) else ("shape", f"a name, got {group!r}")
        if problem is not None:
            getattr(problems, problem[0]).append(f"{where}.ModelPackageGroupName: {problem[1]}")
    status = raw.get("ApprovalStatus")
    if status is not None and status not in APPROVAL_STATUSES:
        problems.shape.append(f"{where}.ApprovalStatus: one of {', '.join(APPROVAL_STATUSES)}, got {status!r}")
    return RegisterRequest(
        group=group if isinstance(group, str) else None,
        approval_status=status if isinstance(status, str) else None,
    )


def register_plan(
    request: RegisterRequest, settings: RegistrySettings, team: str, where: str = "$.Register"
) -> dict[str, str]:
    """The group and status a registration uses, the team's defaults filled in (first state)."""
    group = request.group or settings.default_group
    if group is None:
        raise InvalidInput(
            f"{where}.ModelPackageGroupName: required, team {team} has no default model package group "
            "(cdk.json modelRegistry.defaultModelPackageGroup)"
        )
    problem = group_problem(group, team)
    if problem is not None:
        raise PolicyViolation(f"{where}.ModelPackageGroupName (the team's default): {problem[1]}")
    return {
        "ModelPackageGroupName": group,
        "ApprovalStatus": request.approval_status or settings.default_approval_status,
    }


def parse_version_arn(raw: Any, policy: TeamPolicy, problems: Problems, where: str = "$.ModelPackageArn") -> str | None:
    """A version ARN of one of the team's groups, in the team's region."""
    found = VERSION_ARN.fullmatch(raw) if isinstance(raw, str) else None
    if found is None:
        problems.shape.append(
            f"{where}: the ARN of a model package version (arn:aws:sagemaker:<region>:<account>:model-package/"
            f"<group>/<version>), got {raw!r}"
        )
        return None
    if found["region"] != policy.region:
        problems.policy.append(f"{where}: the version is in {found['region']}; the team deploys in {policy.region}")
    problem = group_problem(found["group"], policy.team)
    if problem is not None:
        problems.policy.append(f"{where}: {problem[1]}")
    return str(raw)


# --- registering -------------------------------------------------------------------------------


def statistics_key(group: str, execution: Execution) -> str:
    return f"registry/{group}/{execution.launch_key}/statistics.json"


def statistics_document(
    description: Mapping[str, Any],
    *,
    tuning: Mapping[str, Any] | None,
    dataset: str | None,
) -> dict[str, Any]:
    """Model-quality statistics: the training job's final metrics (``FinalMetricDataList``) and,
    for a tuning job's best, its objective; each metric as ``{"value": ...}``."""
    metrics = {m["MetricName"]: {"value": float(m["Value"])} for m in description.get("FinalMetricDataList") or []}
    document: dict[str, Any] = {
        "version": 0.0,
        "source": "tunestack",
        "training_job": description["TrainingJobName"],
        "dataset": dataset,
        "hyperparameters": dict(description.get("HyperParameters") or {}),
        "metrics": metrics,
    }
    if tuning is not None:
        objective = tuning["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
        best = (tuning.get("BestTrainingJob") or {}).get("FinalHyperParameterTuningJobObjectiveMetric") or {}
        document["tuning_job"] = tuning["HyperParameterTuningJobName"]
        document["objective"] = {
            "metric": objective["MetricName"],
            "type": objective["Type"],
            **({"value": float(best["Value"])} if "Value" in best else {}),
        }
    return document


def customer_metadata(
    *,
    team: str,
    execution: Execution,
    pipeline: str,
    source: ModelSource,
    dataset: str | None,
    statistics_uri: str,
    network_isolation: bool,
    hyperparameters: Mapping[str, str],
) -> dict[str, str]:
    """Who made the version and from what; hyperparameters fill what room is left (each as
    ``hp:<name>`` when name and value fit the alphabet unchanged; all of them are in the statistics)."""
    fixed = {
        TEAM_TAG: team,
        EXECUTION_TAG: tag_safe(execution.arn),
        LAUNCH_TAG: execution.launch_key,
        PIPELINE_TAG: pipeline,
        TRAINING_JOB_KEY: source.training_job_name,
        TUNING_JOB_KEY: source.tuning_job_name or "",
        MODEL_TAG: source.parent_model,
        DATASET_KEY: tag_safe(dataset or ""),
        STATISTICS_KEY: tag_safe(statistics_uri),
        ISOLATION_KEY: "true" if network_isolation else "false",
    }
    metadata = {k: v for k, v in fixed.items() if v}  # values are at least 1 character
    for name, value in sorted(hyperparameters.items()):
        key = f"{HYPERPARAMETER_PREFIX}{name}"
        if len(metadata) >= MAX_METADATA:
            break
        if value and len(key) <= MAX_METADATA_KEY and tag_safe(key) == key and tag_safe(value) == value:
            metadata[key] = value
    return metadata


def supported_instance_types(source: ModelSource, anchor: Container, policy: TeamPolicy, s3: Any) -> list[str]:
    """The team's hosting instance types that serve ``source`` with the very container ``anchor``
    (a JumpStart model's image differs between CPU and GPU families)."""
    supported = []
    for instance_type in policy.hosting_instance_types:
        try:
            container = serving_container(source, instance_type, policy, s3, "$.Register")
        except InvalidInput:
            continue
        if container == anchor:
            supported.append(instance_type)
    return supported


def create_request(
    *,
    group: str,
    approval_status: str,
    container: Container,
    model_data_url: str,
    instance_types: list[str],
    statistics_uri: str,
    metadata: dict[str, str],
    execution: Execution,
    description: str,
) -> dict[str, Any]:
    """CreateModelPackage for a new version of ``group``."""
    return {
        "ModelPackageGroupName": group,
        "ModelPackageDescription": description[:1024],
        "InferenceSpecification": {
            "Containers": [
                {"Image": container.image, "ModelDataUrl": model_data_url, "Environment": dict(container.environment)}
            ],
            "SupportedRealtimeInferenceInstanceTypes": instance_types,
        },
        "ModelApprovalStatus": approval_status,
        "ModelMetrics": {
            "ModelQuality": {"Statistics": {"ContentType": STATISTICS_CONTENT_TYPE, "S3Uri": statistics_uri}}
        },
        "CustomerMetadataProperties": metadata,
        "MetadataProperties": {"GeneratedBy": execution.arn[:1024]},
        "ClientToken": execution.launch_key,
    }


def ensure_group(sagemaker: Any, group: str, team: str, where: str = "$.Register.ModelPackageGroupName") -> str:
    """The group's ARN; created with the team tag when missing. One that exists must be the team's."""
    try:
        arn = str(sagemaker.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"])
    except ClientError as error:
        if not not_visible(error):
            raise
        try:
            return str(
                sagemaker.create_model_package_group(
                    ModelPackageGroupName=group,
                    ModelPackageGroupDescription=f"Models of team {team}, registered by tunestack",
                    Tags=[{"Key": TEAM_TAG, "Value": team}],
                )["ModelPackageGroupArn"]
            )
        except ClientError as create_error:
            if not already_exists(create_error):  # a concurrent registration created it first
                raise
            arn = str(sagemaker.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"])
    owner = resource_tags(sagemaker, arn).get(TEAM_TAG)
    if owner != team:
        raise not_the_teams(where, group, owner, team)
    return arn


def find_version(sagemaker: Any, group: str, launch_key: str) -> dict[str, Any] | None:
    """The version of ``group`` this execution created, if any: candidates by their description
    (which names the launch key), confirmed by the launch key in their metadata."""
    token: str | None = None
    while True:
        page = sagemaker.list_model_packages(
            ModelPackageGroupName=group,
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=100,
            **({"NextToken": token} if token else {}),
        )
        for summary in page.get("ModelPackageSummaryList", []):
            if launch_key not in (summary.get("ModelPackageDescription") or ""):
                continue
            description = sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
            if (description.get("CustomerMetadataProperties") or {}).get(LAUNCH_TAG) == launch_key:
                return dict(description)
        token = page.get("NextToken")
        if not token:
            return None


def _output(description: Mapping[str, Any], adopted: bool) -> dict[str, Any]:
    return {
        "ModelPackageArn": description["ModelPackageArn"],
        "ModelPackageVersion": description.get("ModelPackageVersion"),
        "ModelPackageGroupName": description.get("ModelPackageGroupName"),
        "ModelApprovalStatus": description.get("ModelApprovalStatus"),
        "Adopted": adopted,
    }


def register(
    *,
    sagemaker: Any,
    s3: Any,
    policy: TeamPolicy,
    plan: Mapping[str, Any],
    execution: Execution,
    pipeline: str,
) -> dict[str, Any]:
    """Register the model of ``plan["TrainingJobName"]`` (or of ``plan["TuningJobName"]``'s best
    training job) as a new version of ``plan["ModelPackageGroupName"]``; a retry returns the
    version this execution already registered. ``plan["InstanceType"]`` anchors the container."""
    group = plan["ModelPackageGroupName"]
    ensure_group(sagemaker, group, policy.team)
    existing = find_version(sagemaker, group, execution.launch_key)
    if existing is not None:
        return _output(existing, adopted=True)
    tuning_job = plan.get("TuningJobName")
    source = model_source(
        sagemaker, policy, training_job=None if tuning_job else plan["TrainingJobName"], tuning_job=tuning_job
    )
    training = sagemaker.describe_training_job(TrainingJobName=source.training_job_name)
    tuning = (
        sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_job) if tuning_job else None
    )
    anchor_type = plan.get("InstanceType") or policy.default_hosting_instance_type
    container = serving_container(source, anchor_type, policy, s3, "$.Register")
    policy.require_isolation(container.network_isolation, "$.Register", f"serving {source.parent_model}")
    dataset = plan.get("Dataset")
    key = statistics_key(group, execution)
    statistics = statistics_document(training, tuning=tuning, dataset=dataset)
    s3.put_object(
        Bucket=policy.bucket,
        Key=key,
        Body=json.dumps(statistics, indent=2).encode(),
        ContentType=STATISTICS_CONTENT_TYPE,
    )
    statistics_uri = f"s3://{policy.bucket}/{key}"
    what = (
        f"the best training job {source.training_job_name} of {tuning_job}" if tuning_job else source.training_job_name
    )
    request = create_request(
        group=group,
        approval_status=plan["ApprovalStatus"],
        container=container,
        model_data_url=source.model_data_url,
        instance_types=supported_instance_types(source, container, policy, s3) or [anchor_type],
        statistics_uri=statistics_uri,
        metadata=customer_metadata(
            team=policy.team,
            execution=execution,
            pipeline=pipeline,
            source=source,
            dataset=dataset,
            statistics_uri=statistics_uri,
            network_isolation=container.network_isolation,
            hyperparameters=training.get("HyperParameters") or {},
        ),
        execution=execution,
        description=f"{pipeline} {execution.name}: {what} (launch {execution.launch_key})",
    )
    arn = sagemaker.create_model_package(**request)["ModelPackageArn"]
    return _output(sagemaker.describe_model_package(ModelPackageName=arn), adopted=False)


# --- deploying a version -----------------------------------------------------------------------


@dataclass(frozen=True)
class RegisteredModel:
    arn: str
    group: str
    version: int
    source: ModelSource
    container: Container
    instance_types: tuple[str, ...]


def approved_version(sagemaker: Any, policy: TeamPolicy, arn: str, where: str = "$.ModelPackageArn") -> RegisteredModel:
    """The version to deploy: one of the team's groups, Completed and Approved; with what serves it."""
    try:
        description = sagemaker.describe_model_package(ModelPackageName=arn)
    except ClientError as error:
        if not_visible(error):
            raise InvalidInput(f"{where} ({arn}): no model package version this team can read") from None
        raise
    group = description.get("ModelPackageGroupName") or ""
    problem = group_problem(group, policy.team)
    if problem is not None:
        raise PolicyViolation(f"{where} ({arn}): {problem[1]}")
    group_arn = sagemaker.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]
    owner = resource_tags(sagemaker, group_arn).get(TEAM_TAG)
    if owner != policy.team:
        raise not_the_teams(where, group, owner, policy.team)
    version = description.get("ModelPackageVersion")
    status = description.get("ModelApprovalStatus", "PendingManualApproval")
    if status != "Approved":
        raise ModelPackageNotApproved(
            f"{where} ({arn}): version {version} of {group} is {status}; only an Approved version deploys "
            "(approve it in SageMaker Studio or with UpdateModelPackage)"
        )
    if description.get("ModelPackageStatus") != "Completed":
        raise InvalidInput(f"{where} ({arn}): the version is {description.get('ModelPackageStatus')}, not Completed")
    (spec,) = description["InferenceSpecification"]["Containers"][:1]
    metadata = description.get("CustomerMetadataProperties") or {}
    source = ModelSource(
        training_job_name=metadata.get(TRAINING_JOB_KEY, ""),
        tuning_job_name=metadata.get(TUNING_JOB_KEY),
        training_image="",
        model_data_url=spec["ModelDataUrl"],
        tags={TEAM_TAG: policy.team, **({MODEL_TAG: metadata[MODEL_TAG]} if MODEL_TAG in metadata else {})},
    )
    container = Container(
        image=spec["Image"],
        environment=dict(spec.get("Environment") or {}),
        network_isolation=metadata.get(ISOLATION_KEY, "true") != "false",
    )
    types = tuple(description["InferenceSpecification"].get("SupportedRealtimeInferenceInstanceTypes") or ())
    return RegisteredModel(
        arn=arn, group=group, version=int(version or 0), source=source, container=container, instance_types=types
    )


def check_serves(model: RegisteredModel, instance_type: str, where: str = "$.InstanceType") -> None:
    if model.instance_types and instance_type not in model.instance_types:
        raise InvalidInput(
            f"{where}: version {model.version} of {model.group} serves on {', '.join(model.instance_types)}, "
            f"not {instance_type}"
        )


def deploy_source(
    sagemaker: Any,
    policy: TeamPolicy,
    s3: Any,
    *,
    training_job: str | None,
    tuning_job: str | None,
    model_package_arn: str | None,
    instance_type: str,
) -> tuple[ModelSource, Container]:
    """What a deploy serves on ``instance_type``: an approved version's container as registered, or
    a training job's (a tuning job's best) as ``hosting`` resolves it. ``endpoint_plan.plan_deploy``
    calls this in place of ``model_source`` + ``serving_container``."""
    if model_package_arn is not None:
        model = approved_version(sagemaker, policy, model_package_arn)
        check_serves(model, instance_type)
        return model.source, model.container
    source = model_source(sagemaker, policy, training_job=training_job, tuning_job=tuning_job)
    return source, serving_container(source, instance_type, policy, s3, "$.InstanceType")


# --- approval deploys --------------------------------------------------------------------------


def deploy_for_approval(
    event: Mapping[str, Any], description: Mapping[str, Any], settings: RegistrySettings
) -> tuple[str, dict[str, Any]] | None:
    """(execution name, deploy input) for an approval event of a version now ``description``, or
    None when the version is not Approved (any more) or its group deploys on approval nowhere.
    The name repeats for duplicate events of one approval (SageMaker may send several) and differs
    for a later re-approval (the version's LastModifiedTime)."""
    if description.get("ModelApprovalStatus") != "Approved":
        return None
    group = description.get("ModelPackageGroupName")
    rule = next((r for r in settings.auto_deploy if r.group == group), None)
    if rule is None:
        return None
    arn = str(description["ModelPackageArn"])
    approval = str(description.get("LastModifiedTime") or description.get("CreationTime") or event.get("time", ""))
    digest = hashlib.sha256(f"{arn}\n{approval}".encode()).hexdigest()[:12]
    name = f"approved-{str(group)[:40].rstrip('-')}-v{description.get('ModelPackageVersion')}-{digest}"
    payload: dict[str, Any] = {
        "ModelPackageArn": arn,
        "EndpointName": rule.endpoint_name,
        "InitialInstanceCount": rule.initial_instance_count,
    }
    if rule.instance_type:
        payload["InstanceType"] = rule.instance_type
    return name, payload
