"""The first state of a tune execution: everything checked, the tuning job request built, nothing
created. Needs AWS for what the input only names: the parent a ``CopySettingsFrom`` copies, the
warm-start parents (or, with ``Auto``, the team's recent tuning jobs), the JumpStart spec and the
data channels.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from tunestack_runtime import datasets, model_registry, warm_start
from tunestack_runtime.contract import TUNING_JOB, LaunchPlan
from tunestack_runtime.deploy_input import deploy_target
from tunestack_runtime.errors import InvalidInput, not_the_teams
from tunestack_runtime.executions import Execution
from tunestack_runtime.input_fields import BUILT_INS
from tunestack_runtime.job_lifecycle import TIMEOUT_MARGIN_SECONDS
from tunestack_runtime.jumpstart import CONTAINER_HYPERPARAMETERS
from tunestack_runtime.policy import TeamPolicy
from tunestack_runtime.sagemaker_errors import not_visible
from tunestack_runtime.tags import MODEL_TAG, TEAM_TAG, resource_tags
from tunestack_runtime.training_job import PLATFORM_CHANNELS, TrainingRecipe, create_tuning_request, resolve_recipe
from tunestack_runtime.tune_input import TuneRequest, validate_tune_input
from tunestack_runtime.tuning_config import MAX_PARENTS, TuningConfig, WarmStart

#: How many of the team's most recent tuning jobs ``Auto`` considers.
AUTO_CANDIDATES = 50
#: A Standard execution lasts at most a year; its wait on the tuning job must end a day before, to
#: leave time for the analysis and a deployment.
MAX_WAIT_SECONDS = 364 * 24 * 3600
_RANGE_TYPES = {
    "IntegerParameterRanges": "Integer",
    "ContinuousParameterRanges": "Continuous",
    "CategoricalParameterRanges": "Categorical",
}


@dataclass(frozen=True)
class TuningJob:
    """A tuning job as SageMaker describes it, with its tags."""

    description: Mapping[str, Any]
    tags: Mapping[str, str]

    @property
    def team(self) -> str:
        return self.tags.get(TEAM_TAG, "")

    def run(self) -> warm_start.TuningRun:
        config = self.description.get("HyperParameterTuningJobConfig") or {}
        definition = self.description.get("TrainingJobDefinition") or {}
        end = self.description.get("HyperParameterTuningEndTime")
        return warm_start.TuningRun(
            name=self.description["HyperParameterTuningJobName"],
            status=self.description["HyperParameterTuningJobStatus"],
            end_time=_iso(end),
            team=self.team,
            image=(definition.get("AlgorithmSpecification") or {}).get("TrainingImage", ""),
            channels=_channels_of(definition),
            static_hyperparameters=_user_static(definition.get("StaticHyperParameters") or {}),
            objective_metric=(config.get("HyperParameterTuningJobObjective") or {}).get("MetricName", ""),
            range_types=_range_types(config.get("ParameterRanges") or {}),
        )


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value or "")


def _channels_of(definition: Mapping[str, Any]) -> dict[str, str]:
    """The data channels of a job definition, less the weights and script a JumpStart model brings."""
    return {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
        for c in definition.get("InputDataConfig", [])
        if c["ChannelName"] not in PLATFORM_CHANNELS
    }


def _user_static(static: Mapping[str, str]) -> dict[str, str]:
    """Static hyperparameters less what SageMaker adds itself (``_tuning_objective_metric``) and
    what the platform sets for the container (the script, the job's name, the region)."""
    return {k: v for k, v in static.items() if not k.startswith("_") and k not in CONTAINER_HYPERPARAMETERS}


def _range_types(ranges: Mapping[str, Any]) -> dict[str, str]:
    return {item["Name"]: kind for key, kind in _RANGE_TYPES.items() for item in ranges.get(key, [])}


def describe_tuning_job(sagemaker: Any, name: str) -> TuningJob | None:
    """None when it does not exist, or IAM hides it (another team's job)."""
    try:
        description = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        tags = resource_tags(sagemaker, description["HyperParameterTuningJobArn"])
    except ClientError as error:
        if not_visible(error):
            return None
        raise
    return TuningJob(description=description, tags=tags)


def _team_job(sagemaker: Any, name: str, where: str, team: str) -> TuningJob:
    job = describe_tuning_job(sagemaker, name)
    if job is None:
        raise InvalidInput(f"{where} ({name}): no tuning job of that name in this account and region")
    if job.team != team:
        raise not_the_teams(where, name, job.team, team)
    return job


def copy_settings(payload: Mapping[str, Any], parent: TuningJob) -> tuple[dict[str, Any], list[str]]:
    """Fill what the input leaves out from the parent, like the console's "copy settings"."""
    description = parent.description
    definition = description.get("TrainingJobDefinition") or {}
    filled = dict(payload)
    copied: list[str] = []

    def fill(key: str, value: Any) -> None:
        if key not in filled and value not in (None, {}, []):
            filled[key] = value
            copied.append(key)

    fill("HyperParameterTuningJobConfig", description.get("HyperParameterTuningJobConfig"))
    config = filled.get("HyperParameterTuningJobConfig")
    tuned = set(_range_types(config.get("ParameterRanges") or {})) if isinstance(config, Mapping) else set()
    static = _user_static(definition.get("StaticHyperParameters") or {})
    fill("StaticHyperParameters", {k: v for k, v in static.items() if k not in tuned})
    fill("Algorithm", _algorithm_of(parent.tags.get(MODEL_TAG, ""), definition))
    fill("TrainingData", _channels_of(definition))
    resources = definition.get("ResourceConfig") or {}
    fill("InstanceType", resources.get("InstanceType"))
    fill("InstanceCount", resources.get("InstanceCount"))
    fill("MaxRuntimeInSeconds", (definition.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds"))
    fill("UseSpotInstances", definition.get("EnableManagedSpotTraining"))
    return filled, copied


def _algorithm_of(model_tag: str, definition: Mapping[str, Any]) -> dict[str, Any]:
    """The input's ``Algorithm`` back from the model tag a tunestack tuning job carries."""
    if "@" in model_tag:
        model_id, version = model_tag.split("@", 1)
        return {"JumpStartModelId": model_id, "JumpStartModelVersion": version}
    name, _, version = model_tag.partition(":")
    if name in BUILT_INS:
        return {"BuiltInAlgorithm": name, **({"Version": version} if version and version != "latest" else {})}
    specification = definition.get("AlgorithmSpecification") or {}
    return {
        "TrainingImage": specification.get("TrainingImage", model_tag),
        "MetricDefinitions": specification.get("MetricDefinitions", []),
    }


def tuning_job_name(execution: Execution) -> str:
    """At most 32 letters, digits and hyphens, the same for every retry of one execution, and
    another for an execution that reuses its name."""
    readable = re.sub(r"[^A-Za-z0-9]+", "-", execution.name).strip("-")[:23].rstrip("-") or "tune"
    return f"{readable}-{execution.short_id()}"


def _recipe(request: TuneRequest, policy: TeamPolicy, s3: Any) -> TrainingRecipe:
    config, algorithm = request.config, request.algorithm
    assert config is not None and algorithm is not None, "filled in from CopySettingsFrom"
    recipe = resolve_recipe(
        algorithm=algorithm,
        hyperparameters=request.static_hyperparameters,
        instance_type=request.instance_type,
        training_data=request.training_data,
        policy=policy,
        s3=s3,
        tuned={r.name for r in config.ranges},
        accept_eula=request.accept_eula,
        hyperparameters_field="$.StaticHyperParameters",
    )
    policy.require_isolation(recipe.network_isolation, "$.Algorithm", recipe.parent_model)
    if algorithm.kind == "jumpstart":
        emitted = [m["Name"] for m in recipe.metric_definitions]
        if config.objective_metric not in emitted:
            raise InvalidInput(
                "$.HyperParameterTuningJobConfig.HyperParameterTuningJobObjective.MetricName: "
                f"{config.objective_metric!r} is not a metric {recipe.parent_model} emits ({', '.join(emitted)})"
            )
    return recipe


def _check_data(s3: Any, recipe: TrainingRecipe) -> dict[str, Any]:
    """A JumpStart model's ``training`` channel is checked against the layout its spec reads (or
    said not checked); every other channel must hold data."""
    checked = {}
    for channel, uri in recipe.channels.items():
        if recipe.dataset_layout is not None and channel == "training":
            checked[channel] = datasets.check_dataset(s3, recipe.dataset_layout, uri)
        else:
            checked[channel] = datasets.check_not_empty(s3, uri)
    return checked


def _warm_start(
    sagemaker: Any, wanted: WarmStart | None, current: warm_start.TuningRun, team: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the API's WarmStartConfig, what the output says about it)."""
    if wanted is None:
        return None, None
    if wanted.type == "Auto":
        choice = warm_start.choose_auto(_recent_team_jobs(sagemaker, team), current)
        report: dict[str, Any] = {
            "Type": choice.type,
            "Parents": list(choice.parents),
            "Reason": choice.reason,
            "Chosen": "Auto",
        }
        if choice.skipped:
            report["Skipped"] = dict(list(choice.skipped.items())[: MAX_PARENTS * 2])
        if choice.type is None:
            return None, report
        return _warm_start_config(choice.type, choice.parents), report
    where = "$.WarmStartConfig.ParentHyperParameterTuningJobs"
    parents = [_team_job(sagemaker, name, f"{where}[{i}]", team).run() for i, name in enumerate(wanted.parents)]
    problems = warm_start.check_parents(parents, current, wanted)
    if problems:
        raise InvalidInput("\n".join(problems))
    report = {"Type": wanted.type, "Parents": list(wanted.parents), "Reason": "as the input asks", "Chosen": "Input"}
    return _warm_start_config(wanted.type, wanted.parents), report


def _warm_start_config(kind: str, parents: tuple[str, ...]) -> dict[str, Any]:
    return {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": p} for p in parents],
        "WarmStartType": kind,
    }


def _recent_team_jobs(sagemaker: Any, team: str) -> list[warm_start.TuningRun]:
    """The team's most recent tuning jobs, filtered on the team tag by SageMaker (Search), so other
    teams' jobs neither crowd them out nor reach this function. The visibility condition is what
    IAM requires of the team's Search calls (``sagemaker:SearchVisibilityCondition``); each job
    found is then described (IAM lets the team describe only its own) and checked once more."""
    team_tag = f"Tags.{TEAM_TAG}"
    results = sagemaker.search(
        Resource="HyperParameterTuningJob",
        SearchExpression={"Filters": [{"Name": team_tag, "Operator": "Equals", "Value": team}]},
        VisibilityConditions=[{"Key": team_tag, "Value": team}],
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=AUTO_CANDIDATES,
    )["Results"]
    runs = []
    for result in results:
        name = result["HyperParameterTuningJob"]["HyperParameterTuningJobName"]
        job = describe_tuning_job(sagemaker, name)
        if job is not None and job.team == team:
            runs.append(job.run())
    return runs


def task_timeout_seconds(config: TuningConfig, definition: Mapping[str, Any]) -> int:
    """How long the launch task waits before the reconcile step describes the tuning job: the
    tuning job's own limit, or its longest possible run (rounds of trials, each at its limit).
    InvalidInput when that passes what a Standard execution can wait."""
    limit = (config.raw.get("ResourceLimits") or {}).get("MaxRuntimeInSeconds")
    where = "$.HyperParameterTuningJobConfig.ResourceLimits"
    if limit is None:
        stopping = definition["StoppingCondition"]
        per_job = stopping.get("MaxWaitTimeInSeconds", stopping["MaxRuntimeInSeconds"])
        total = config.max_training_jobs or math.prod(len(r.values) for r in config.ranges)
        rounds = math.ceil(total / config.max_parallel_jobs)
        limit = rounds * per_job
        why = f"{total} training jobs, {config.max_parallel_jobs} at a time, each up to {per_job} s"
        remedy = (
            f"set {where}.MaxRuntimeInSeconds, run more jobs in parallel, run fewer, or lower $.MaxRuntimeInSeconds"
        )
    else:
        why, remedy = f"{where}.MaxRuntimeInSeconds is {limit}", f"lower {where}.MaxRuntimeInSeconds"
    timeout = int(limit) + TIMEOUT_MARGIN_SECONDS
    if timeout > MAX_WAIT_SECONDS:
        raise InvalidInput(
            f"{where}: the tuning job may run {limit / 86400:.0f} days ({why}), longer than the "
            f"{MAX_WAIT_SECONDS // 86400} days an execution can wait for it (a Standard execution lasts at most "
            f"a year); {remedy}"
        )
    return timeout


def plan_tuning(
    payload: Any,
    *,
    policy: TeamPolicy,
    sagemaker: Any,
    s3: Any,
    execution: Execution,
    log: Callable[[str], None] = lambda _: None,
) -> LaunchPlan:
    """The launch's input: the CreateHyperParameterTuningJob request, the wait's timeout and what
    the output reports about copied settings, warm start and the data."""
    copied: list[str] = []
    if isinstance(payload, Mapping) and "CopySettingsFrom" in payload:
        validate_tune_input(payload, policy)  # what is given is checked before the parent is read
        parent = _team_job(sagemaker, payload["CopySettingsFrom"], "$.CopySettingsFrom", policy.team)
        payload, copied = copy_settings(payload, parent)
        log(f"copied {', '.join(copied) or 'nothing'} from {parent.description['HyperParameterTuningJobName']}")
    request = validate_tune_input(payload, policy)
    assert request.config is not None
    recipe = _recipe(request, policy, s3)
    data = _check_data(s3, recipe)
    name = request.tuning_job_name or tuning_job_name(execution)
    current = warm_start.TuningRun(
        name=name,
        status="InProgress",
        end_time="",
        team=policy.team,
        image=recipe.image,
        channels=recipe.channels,
        static_hyperparameters=_user_static(recipe.hyperparameters),
        objective_metric=request.config.objective_metric,
        range_types={r.name: r.kind for r in request.config.ranges},
    )
    warm_config, warm_report = _warm_start(sagemaker, request.warm_start, current, policy.team)
    params = create_tuning_request(
        tuning_job_name=name,
        recipe=recipe,
        resources=request,
        policy=policy,
        execution=execution,
        config=request.config.raw,
        warm_start=warm_config,
    )
    deploy = None
    if request.deploy_best is not None:
        deploy = {**deploy_target(request.deploy_best), "ExecutionName": execution.nested_name(TUNING_JOB.pipeline)}
    register = None
    if request.register is not None:
        training_data = request.training_data
        register = {
            **model_registry.register_plan(request.register, policy.model_registry, policy.team),
            "TuningJobName": name,
            "InstanceType": (
                request.deploy_best.instance_type if request.deploy_best else policy.default_hosting_instance_type
            ),
            "Dataset": training_data if isinstance(training_data, str) else ",".join(sorted(training_data.values())),
        }
    return LaunchPlan(
        kind=TUNING_JOB,
        request=params,
        task_timeout_seconds=task_timeout_seconds(request.config, params["TrainingJobDefinition"]),
        output_extras={
            "ParentModel": recipe.parent_model,
            **({"EulaAccepted": True} if recipe.eula_accepted else {}),
            "WarmStart": warm_report,
            "CopiedSettings": {"From": payload.get("CopySettingsFrom"), "Fields": copied} if copied else None,
            "Dataset": data,
        },
        dataset=data,
        deploy=deploy,
        register=register,
    )
