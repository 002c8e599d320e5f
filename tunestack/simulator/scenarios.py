"""What can happen to an execution, as the simulator plays it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scenario:
    """``events``: state-change events delivered for the terminal state (0 = lost, 2 = duplicated).
    ``sagemaker_rejections``: API -> error codes SageMaker answers first (not counted as accepted).
    ``lambda_failures``: function id part -> (error type, times) the Lambda service fails after the
    handler ran."""

    name: str
    description: str
    job_seconds: float | None = 3600.0  # a job's, or each trial's; None: its whole MaxRuntimeInSeconds less a minute
    outcome: str = "Completed"
    failure_reason: str | None = None
    tuning_failure_reason: str | None = None
    endpoint_outcome: str = "InService"  # or "Failed", or "RolledBack" (an update)
    endpoint_failure_reason: str | None = None
    deploy_first: bool = False  # the endpoint exists before the execution (a first deploy ran)
    only_for: str | None = None  # the one kind of execution it applies to
    events: int = 1
    abort: bool = False
    sagemaker_rejections: dict[str, list[str]] = field(default_factory=dict)
    lambda_failures: dict[str, tuple[str, int]] = field(default_factory=dict)


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
            sagemaker_rejections={
                api: ["ThrottlingException", "ThrottlingException"]
                for api in ("CreateTrainingJob", "CreateHyperParameterTuningJob", "CreateEndpoint")
            },
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
            sagemaker_rejections={
                api: ["ResourceLimitExceeded"]
                for api in ("CreateTrainingJob", "CreateHyperParameterTuningJob", "CreateEndpoint")
            },
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
            deploy_first=True,
            only_for="deploy",
        ),
        Scenario(
            "update-rollback",
            "deploy: the update trips an alarm and SageMaker rolls back; the old model keeps serving",
            deploy_first=True,
            only_for="deploy",
            endpoint_outcome="RolledBack",
            endpoint_failure_reason="Deployment failed: alarm invocation-5xx went into ALARM during baking; "
            "rolled back to the previous endpoint config",
        ),
    )
}


def scenarios_for(kind: str) -> list[str]:
    """Names of the scenarios that apply to executions of ``kind``."""
    return [name for name, s in SCENARIOS.items() if s.only_for in (None, kind)]


#: Faults played for every kind of execution by the fault-matrix tests, beyond each kind's own.
FAULT_MATRIX = ("lambda-throttled", "resource-limit", "job-failure-retryable", "stuck-job")
