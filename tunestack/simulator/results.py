"""What a simulated execution came to: its status, output, path, costs and what it published."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from tunestack.simulator.clock import SimClock
from tunestack.simulator.deployment import ACCOUNT, Deployment
from tunestack.simulator.sagemaker import SimulatedSageMaker
from tunestack.simulator.scenarios import Scenario


@dataclass
class SimulationResult:
    status: str
    output: Any
    error: str | None
    cause: str | None
    states: list[str]
    state_transitions: int
    history_events: int
    sagemaker_calls: dict[str, int]
    notifications: list[dict[str, Any]]
    simulated_seconds: float
    scenario: str
    published: dict[str, Any] = field(default_factory=dict)  # reports in the team bucket, metrics
    reports: dict[str, bytes] = field(default_factory=dict)  # the report objects themselves, by key
    nested: list[dict[str, Any]] = field(default_factory=list)  # deploy executions it started
    task_failures: list[str] = field(default_factory=list)  # error of each failed task attempt, in order
    #: Every AWS request the functions made, in order (nested deploys' too); see lambdas.RequestLog.
    requests: list[dict[str, Any]] = field(default_factory=list)
    #: The largest input or output of any state, in bytes: moto does not enforce Step Functions'
    #: 256 KiB limit (States.DataLimitExceeded), so tests compare this with it.
    largest_state_bytes: int = 0
    #: Training and tuning jobs still running at the end that no running execution owns.
    jobs_left_running: list[str] = field(default_factory=list)
    #: Other executions the scenario started beside this one (a rival of the same name).
    rivals: list[dict[str, Any]] = field(default_factory=list)
    execution_name: str = ""
    #: Deploy executions the model registry's approval events started after this one.
    approval_deploys: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total_transitions(self) -> int:
        """This execution's state transitions and those of the deploy executions it started."""
        return self.state_transitions + sum(n["state_transitions"] for n in self.nested)

    @property
    def total_history_events(self) -> int:
        return self.history_events + sum(n["history_events"] for n in self.nested)

    simulated: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
            "states": self.states,
            "state_transitions": self.state_transitions,
            "history_events": self.history_events,
            "sagemaker_calls": self.sagemaker_calls,
            "notifications": self.notifications,
            "simulated_seconds": self.simulated_seconds,
            "scenario": self.scenario,
            "published": self.published,
            "nested": self.nested,
            "task_failures": self.task_failures,
            "requests": self.requests,
            "largest_state_bytes": self.largest_state_bytes,
            "jobs_left_running": len(self.jobs_left_running),
            "jobs_left_running_names": self.jobs_left_running,
            "rivals": self.rivals,
            "execution_name": self.execution_name,
            "simulated": True,
        }


def summary(sfn: Any, execution: str) -> dict[str, Any]:
    """Another execution's outcome, as ``rivals`` reports it."""
    description = sfn.describe_execution(executionArn=execution)
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    failed = next((e for e in events if e["type"] == "ExecutionFailed"), None)
    details = failed.get("executionFailedEventDetails", {}) if failed else {}
    return {
        "execution_name": description["name"],
        "status": description["status"],
        "error": details.get("error"),
        "cause": details.get("cause"),
        "states": [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")],
    }


def nested_runs(sfn: Any, executions: list[str]) -> list[dict[str, Any]]:
    found = []
    for arn in executions:
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        states = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
        status = sfn.describe_execution(executionArn=arn)["status"]
        found.append(
            {"status": status, "states": states, "state_transitions": len(states), "history_events": len(events)}
        )
    return found


def result_of(
    description: dict[str, Any],
    events: list[dict[str, Any]],
    scenario: Scenario,
    clock: SimClock,
    sagemaker: SimulatedSageMaker,
    deployment: Deployment,
    nested: list[dict[str, Any]],
) -> SimulationResult:
    states = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    failed = next((e for e in events if e["type"] == "ExecutionFailed"), None)
    details = failed.get("executionFailedEventDetails", {}) if failed else {}
    output = json.loads(description["output"]) if description.get("output") else None
    return SimulationResult(
        status=description["status"],
        output=output,
        error=details.get("error") or (description.get("error")),
        cause=details.get("cause") or (description.get("cause")),
        states=states,
        state_transitions=len(states),
        history_events=len(events),
        sagemaker_calls=dict(sorted(sagemaker.calls.items())),
        notifications=_notifications(deployment),
        simulated_seconds=clock.now + clock.slept,
        scenario=scenario.name,
        published=_published(deployment),
        reports=_reports(deployment),
        nested=nested,
        task_failures=[_failure_of(e) for e in events if e["type"] in {"TaskFailed", "LambdaFunctionFailed"}],
        largest_state_bytes=max((_state_bytes(e) for e in events), default=0),
    )


def _state_bytes(event: dict[str, Any]) -> int:
    details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}
    data = details.get("input", details.get("output")) or ""
    return len(str(data).encode())


def _failure_of(event: dict[str, Any]) -> str:
    """A failed attempt's error: a Lambda task invoked directly reports LambdaFunctionFailed."""
    details = event.get("taskFailedEventDetails") or event.get("lambdaFunctionFailedEventDetails") or {}
    return str(details.get("error", ""))


def _reports(deployment: Deployment) -> dict[str, bytes]:
    s3 = boto3.client("s3")
    listed = s3.list_objects_v2(Bucket=deployment.bucket, Prefix="tuning/").get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=deployment.bucket, Key=o["Key"])["Body"].read() for o in listed}


def _published(deployment: Deployment) -> dict[str, Any]:
    """What the analysis left for the team: report objects (key -> bytes) and metric data points."""
    listed = boto3.client("s3").list_objects_v2(Bucket=deployment.bucket, Prefix="tuning/")
    # Each team publishes into its own namespace, tunestack/<team>/Tuning.
    metrics = [
        m
        for m in boto3.client("cloudwatch").list_metrics()["Metrics"]
        if m["Namespace"].startswith("tunestack/") and m["Namespace"].endswith("/Tuning")
    ]
    return {
        "reports": {o["Key"]: o["Size"] for o in listed.get("Contents", [])},
        "metrics": [
            {"MetricName": m["MetricName"], **{d["Name"]: d["Value"] for d in m["Dimensions"]}} for m in metrics
        ],
    }


def _notifications(deployment: Deployment) -> list[dict[str, Any]]:
    from moto.sns.models import sns_backends

    backend = sns_backends[ACCOUNT][deployment.region]
    sent = []
    for arn in deployment.topics:
        for _, message, subject, *_ in backend.topics[arn].sent_notifications:
            sent.append({"subject": subject, "message": json.loads(message)})
    return sent
