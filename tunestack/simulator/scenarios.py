"""What can happen to an execution, as the simulator plays it.

Each scenario is a promise the pipelines keep, played through the real state machines; ``kinds``
says which executions it applies to. ``tunestack simulate --list-scenarios`` prints them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

KINDS = ("fine-tune", "tune", "deploy")
ALL = frozenset(KINDS)
DAY = 24 * 3600.0
_CREATES = ("CreateTrainingJob", "CreateHyperParameterTuningJob", "CreateEndpoint")


def _unchanged(kind: str, payload: Any) -> Any:
    return payload


@dataclass(frozen=True)
class Scenario:
    """``events``: state-change events delivered for the terminal state (0 = lost, 2 = duplicated).
    ``sagemaker_rejections``: API (or ``<function>:<API>``, ``<function>:*``) -> error codes
    SageMaker answers first (not counted as accepted); ``quota``: (limit, in use) the
    ResourceLimitExceeded message reports. ``lambda_failures``: function id part -> (error type,
    times) the Lambda service fails after the handler ran. ``prepare`` changes the input under
    test for what the scenario needs (e.g. pads it)."""

    name: str
    description: str
    kinds: frozenset[str] = ALL
    job_seconds: float | None = 3600.0  # a job's, or each trial's; None: its whole MaxRuntimeInSeconds less a minute
    exact_trials: bool = False  # trials take exactly job_seconds
    outcome: str = "Completed"
    failure_reason: str | None = None
    tuning_failure_reason: str | None = None
    endpoint_outcome: str = "InService"  # or "Failed", or "RolledBack" (an update)
    endpoint_failure_reason: str | None = None
    deploy_first: bool = False  # the endpoint exists before the execution (a first deploy ran)
    events: int = 1
    abort: bool = False
    sagemaker_rejections: dict[str, list[str]] = field(default_factory=dict)
    quota: tuple[int, int] = (4, 4)
    lambda_failures: dict[str, tuple[str, int]] = field(default_factory=dict)
    prepare: Callable[[str, Any], Any] = _unchanged
    #: A second execution of the same input starts while the first waits on its job.
    race: bool = False
    #: The input runs once, then again this many days later under the same execution name, changed.
    rerun_after_days: float | None = None
    #: Every execution of the run, its companions included, has the same name.
    shared_execution_name: bool = False
    #: A person stops the tuning job when this share of its planned time has passed.
    stop_tuning_at: float | None = None
    #: Deploy: the runs before register their model with this ApprovalStatus, and the input under
    #: test deploys the version the last of them registered (ModelPackageArn).
    from_registry: str | None = None
    #: Once the execution succeeded, a person approves the version it registered; the approval's
    #: state-change event starts a deployment, which the simulator drives too.
    approve: bool = False

    def applies_to(self, kind: str) -> bool:
        return kind in self.kinds


def _pad_to_128_kib(kind: str, payload: Any) -> Any:
    """An input of 128 KiB, padded in its own hyperparameters (at most 2,000 characters each,
    within SageMaker's 2,500)."""
    padded = copy.deepcopy(payload)
    field_name = "HyperParameters" if kind == "fine-tune" else "StaticHyperParameters"
    values = padded.setdefault(field_name, {})
    number = 0
    while (missing := 128 * 1024 - len(json.dumps(padded, separators=(",", ":")).encode())) > 0:
        key = f"notes-{number:02d}"
        values[key] = "x" * max(1, min(2000, missing - len(key) - 6))
        number += 1
    return padded


def _auto_warm_start(kind: str, payload: Any) -> Any:
    """A tune input's first state calls SageMaker only for its warm start: ask for ``Auto``, which
    lists and describes the team's tuning jobs."""
    if kind != "tune" or "WarmStartConfig" in payload or "CopySettingsFrom" in payload:
        return payload
    return {**payload, "WarmStartConfig": {"WarmStartType": "Auto"}}


def _fifty_sequential_trials(kind: str, payload: Any) -> Any:
    """50 trials one at a time, each allowed two days (each takes one)."""
    tuned = copy.deepcopy(payload)
    config = tuned["HyperParameterTuningJobConfig"]
    config["ResourceLimits"] = {"MaxNumberOfTrainingJobs": 50, "MaxParallelTrainingJobs": 1}
    tuned["MaxRuntimeInSeconds"] = int(2 * DAY)
    return tuned


def _deploying(kind: str, payload: Any) -> Any:
    """The input deploys what it trains (a fine-tune's Deploy, a tune's DeployBest)."""
    target_field = {"fine-tune": "Deploy", "tune": "DeployBest"}[kind]
    if target_field in payload:
        return payload
    name = payload.get("ModelName") or payload.get("TuningJobName") or kind
    # ml.m5.xlarge: a hosting type of every team in cdk.json, and one moto knows.
    target = {"EndpointName": f"{name}-endpoint"[:63], "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 1}
    return {**payload, target_field: target}


#: The nlp team's group whose approved versions deploy (cdk.json modelRegistry.autoDeploy).
APPROVAL_DEPLOYED_GROUP = "nlp-production"


def registering(approval_status: str | None = None, group: str | None = None) -> Callable[[str, Any], Any]:
    """A fine-tune or tune input that registers its model (the team's default group and status
    unless given)."""

    def prepare(kind: str, payload: Any) -> Any:
        if kind == "deploy":
            return payload
        register = {
            **({"ModelPackageGroupName": group} if group else {}),
            **({"ApprovalStatus": approval_status} if approval_status else {}),
        }
        return {**payload, "Register": register}

    return prepare


def from_registry(payload: Any, arn: str) -> Any:
    """A deploy input that deploys the version ``arn`` in place of a job's model."""
    kept = {k: v for k, v in payload.items() if k not in {"TrainingJobName", "TuningJobName"}}
    return {**kept, "ModelPackageArn": arn}


def changed_for_rerun(kind: str, payload: Any) -> Any:
    """The input as someone changes it before running it again under the same execution name: a
    new model name (SageMaker never reuses a training job's), other static hyperparameters, more
    instances behind the endpoint."""
    changed = copy.deepcopy(payload)
    if kind == "fine-tune":
        changed["ModelName"] = f"{payload['ModelName'][:60]}-v2"
    elif kind == "tune":
        static = changed.setdefault("StaticHyperParameters", {})
        static["num_round"] = str(int(static.get("num_round", "100")) + 50)
    else:
        changed["InitialInstanceCount"] = int(payload.get("InitialInstanceCount", 1)) + 1
    return changed


def _derived_names(kind: str, payload: Any) -> Any:
    """A tune input without TuningJobName, so the name derives from the execution (as it does
    for nested deploys and every deploy's model and endpoint config)."""
    return {k: v for k, v in payload.items() if k != "TuningJobName"} if kind == "tune" else payload


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("success", "the job completes after an hour and SageMaker reports it once"),
        Scenario(
            "job-failure",
            "the job fails; the execution fails with SageMaker's FailureReason and notifies the team",
            job_seconds=900,
            outcome="Failed",
            failure_reason="AlgorithmError: CUDA out of memory. Tried to allocate 2.00 GiB (exit code 1)",
            tuning_failure_reason="No training job succeeded after 5 attempts. "
            "Please take a look at the training job failures to get more details.",
            endpoint_outcome="Failed",
            endpoint_failure_reason="The primary container for production variant AllTraffic did not pass "
            "the ping health check. Please check CloudWatch logs for this endpoint.",
        ),
        Scenario(
            "throttling",
            "SageMaker throttles the first two create calls; the launch is retried with backoff",
            sagemaker_rejections={api: ["ThrottlingException", "ThrottlingException"] for api in _CREATES},
        ),
        Scenario("lost-event", "no state-change event arrives; the wait times out and reconciles", events=0),
        Scenario("duplicate-event", "SageMaker sends the completion event twice", events=2),
        Scenario("abort", "the execution is stopped from the console while the job runs", abort=True),
        Scenario(
            "slow-job",
            "the job runs as long as its MaxRuntimeInSeconds allows (28 simulated days at most)",
            job_seconds=None,
        ),
        Scenario(
            "retried-launch",
            "the launch step fails after creating the job and is retried; it adopts the job",
            lambda_failures={"Launch": ("Lambda.ServiceException", 1)},
        ),
        Scenario(
            "lambda-throttled",
            "the Lambda service answers the first state with TooManyRequests twice; Step Functions retries",
            lambda_failures={"Validate": ("Lambda.TooManyRequestsException", 2)},
        ),
        Scenario(
            "resource-limit",
            "the account's SageMaker quota is in use at the first create; the launch is retried minutes later",
            sagemaker_rejections={api: ["ResourceLimitExceeded"] for api in _CREATES},
        ),
        Scenario(
            "job-failure-retryable",
            "the job fails for a reason on SageMaker's side; the execution fails with it (a new run may pass)",
            job_seconds=600,
            outcome="Failed",
            failure_reason="InternalServerError: We encountered an internal error. Please try again.",
            tuning_failure_reason="InternalServerError: We encountered an internal error. Please try again.",
            endpoint_outcome="Failed",
            endpoint_failure_reason="InternalFailure: We encountered an internal error. Please try again.",
        ),
        Scenario(
            "stuck-job",
            "the job never ends and no event comes; the wait times out, reconcile stops it and fails clearly",
            outcome="Stuck",
            endpoint_outcome="Stuck",
            events=0,
        ),
        Scenario(
            "endpoint-exists",
            "deploy: the endpoint already serves an earlier model and is updated in place (blue/green)",
            kinds=frozenset({"deploy"}),
            deploy_first=True,
        ),
        Scenario(
            "update-rollback",
            "deploy: the update trips an alarm and SageMaker rolls back; the old model keeps serving",
            kinds=frozenset({"deploy"}),
            deploy_first=True,
            endpoint_outcome="RolledBack",
            endpoint_failure_reason="Deployment failed: alarm invocation-5xx went into ALARM during baking; "
            "rolled back to the previous endpoint config",
        ),
        Scenario(
            "launch-dies-after-create",
            "the launch function dies (timeout, out of memory: Lambda.Unknown) after its create call; the "
            "execution fails, is reported, and what it created is stopped",
            lambda_failures={"Launch": ("Lambda.Unknown", 1)},
        ),
        Scenario(
            "reconcile-throttled",
            "the job is stuck and no event comes; SageMaker throttles the reconcile step's calls twice; it is "
            "retried, stops the job and fails as timed out",
            outcome="Stuck",
            endpoint_outcome="Stuck",
            events=0,
            sagemaker_rejections={"Reconcile:*": ["ThrottlingException", "ThrottlingException"]},
        ),
        Scenario(
            "validate-throttled",
            "SageMaker throttles the first state's calls twice (a tune input asks for Auto warm start, which "
            "lists and describes the team's tuning jobs); the state is retried",
            kinds=frozenset({"tune", "deploy"}),
            sagemaker_rejections={"Validate:*": ["ThrottlingException", "ThrottlingException"]},
            prepare=_auto_warm_start,
        ),
        Scenario(
            "same-name-race",
            "a second execution with the same ModelName / TuningJobName starts while the first waits; it fails "
            "with JobConflict and the first completes with its output",
            kinds=frozenset({"fine-tune", "tune"}),
            race=True,
        ),
        Scenario(
            "long-tune",
            "50 trials one at a time, each one simulated day: 50 days of waiting, past any token's fixed lifetime",
            kinds=frozenset({"tune"}),
            job_seconds=DAY,
            exact_trials=True,
            prepare=_fifty_sequential_trials,
        ),
        Scenario(
            "execution-name-reused",
            "the execution name is used again 91 days later (Step Functions allows it) with a changed input; "
            "it creates anew, never adopting the earlier run's job, model or endpoint config",
            rerun_after_days=91,
            prepare=_derived_names,
        ),
        Scenario(
            "nested-name-clash",
            "a fine-tune and a tune started with the same execution name both deploy; their nested deploy "
            "executions must not collide",
            kinds=frozenset({"fine-tune", "tune"}),
            shared_execution_name=True,
            prepare=_deploying,
        ),
        Scenario(
            "input-too-large",
            "the input is 128 KiB; the first state refuses it, naming its size, before anything is created",
            kinds=frozenset({"fine-tune", "tune"}),
            prepare=_pad_to_128_kib,
        ),
        Scenario(
            "tuning-stopped-by-person",
            "a person stops the tuning job half-way; the execution reports its finished trials and the best so "
            "far, and deploys nothing",
            kinds=frozenset({"tune"}),
            stop_tuning_at=0.5,
        ),
        Scenario(
            "register",
            "the model (a tune's best) is registered as a new version of the team's default model package group, "
            "pending approval; its ARN and version are in the output",
            kinds=frozenset({"fine-tune", "tune"}),
            prepare=registering(),
        ),
        Scenario(
            "deploy-approved",
            "deploy: the input names an Approved version of the team's model package group; it deploys",
            kinds=frozenset({"deploy"}),
            from_registry="Approved",
        ),
        Scenario(
            "deploy-pending",
            "deploy: the input names a version pending approval; the first state refuses it, naming "
            "$.ModelPackageArn and the status, and creates nothing",
            kinds=frozenset({"deploy"}),
            from_registry="PendingManualApproval",
        ),
        Scenario(
            "approve-deploys",
            "the model is registered pending approval in a group that deploys on approval; a person approves it "
            "and the approval deploys it to the group's endpoint",
            kinds=frozenset({"fine-tune", "tune"}),
            prepare=registering("PendingManualApproval", APPROVAL_DEPLOYED_GROUP),
            approve=True,
        ),
        Scenario(
            "quota-zero",
            "the account's quota for the instance type is 0; the launch fails at once, naming the quota",
            sagemaker_rejections={api: ["ResourceLimitExceeded"] for api in _CREATES},
            quota=(0, 0),
        ),
    )
}


def scenarios_for(kind: str) -> list[str]:
    """Names of the scenarios that apply to executions of ``kind``."""
    return [name for name, s in SCENARIOS.items() if s.applies_to(kind)]


#: Faults played for every kind of execution by the fault-matrix tests, beyond each kind's own.
FAULT_MATRIX = ("lambda-throttled", "resource-limit", "job-failure-retryable", "stuck-job")
#: The scenarios of the job lifecycle (tests/simulator/test_lifecycle_scenarios.py), for each kind
#: they apply to.
LIFECYCLE = (
    "launch-dies-after-create",
    "reconcile-throttled",
    "validate-throttled",
    "same-name-race",
    "long-tune",
    "execution-name-reused",
    "nested-name-clash",
    "input-too-large",
    "tuning-stopped-by-person",
    "quota-zero",
)
#: The model registry's scenarios (tests/simulator/test_registry_scenarios.py).
REGISTRY = ("register", "deploy-approved", "deploy-pending", "approve-deploys")
