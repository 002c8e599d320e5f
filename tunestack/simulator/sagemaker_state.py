"""What the simulated SageMaker holds: its jobs, the faults it injects, and the tag check every
create call makes. The simulated APIs (``sagemaker``, ``endpoints``, ``registry``) share it."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import regex

from tunestack.simulator import tuning
from tunestack.simulator.clock import SimClock
from tunestack_runtime.contract import TRAINING_JOB, TUNING_JOB

#: What SageMaker accepts as a tag key or value (SageMaker API reference, "Tag").
TAG_PATTERN = regex.compile(r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$")
#: Statuses of a job that still runs (and costs).
RUNNING = frozenset({"InProgress", "Stopping"})


@dataclass
class SimulatedJob:
    name: str
    arn: str
    created_at: float
    status: str = "InProgress"
    ended_at: float | None = None
    failure_reason: str | None = None
    output_path: str = ""
    max_runtime: float = 86400.0
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class SageMakerFaults:
    """Rejections SageMaker makes before accepting a call, in order, keyed by the API's name, or by
    ``<function>:<API>`` / ``<function>:*`` for the calls of functions whose name holds
    ``<function>`` (e.g. ``Reconcile:*``). ResourceLimitExceeded carries SageMaker's message for a
    quota of ``quota`` = (limit, in use) instances."""

    reject: dict[str, list[str]] = field(default_factory=dict)
    quota: tuple[int, int] = (4, 4)

    def next_rejection(self, api: str, function: str | None = None) -> str | None:
        for key, queue in self.reject.items():
            part, _, wanted = key.rpartition(":")
            if queue and wanted in (api, "*") and (not part or (function is not None and part in function)):
                return queue.pop(0)
        return None


def check_tags(tags: list[dict[str, str]] | None) -> None:
    """Refuse tags SageMaker would refuse, with its message."""
    from moto.sagemaker.exceptions import ValidationError

    for number, tag in enumerate(tags or [], 1):
        for part in ("Key", "Value"):
            value = str(tag.get(part, ""))
            if not TAG_PATTERN.fullmatch(value) or len(value) > (128 if part == "Key" else 256):
                raise ValidationError(
                    f"1 validation error detected: Value '{value}' at 'tags.{number}.member.{part.lower()}' failed to "
                    f"satisfy constraint: Member must satisfy regular expression pattern: {TAG_PATTERN.pattern}"
                )


class SimulatedSageMaker:
    def __init__(self, clock: SimClock, faults: SageMakerFaults) -> None:
        self.clock = clock
        self.faults = faults
        self.jobs: dict[str, SimulatedJob] = {}
        self.tuning_jobs: dict[str, tuning.SimulatedTuningJob] = {}
        self.endpoints: dict[str, Any] = {}  # name -> endpoints.SimulatedEndpoint
        #: "SageMaker Model Package State Change" events not yet delivered: (detail-type, detail).
        self.registry_events: list[tuple[str, dict[str, Any]]] = []
        self.created: list[tuple[str, str]] = []  # (kind, name) in creation order
        self.calls: Counter[str] = Counter()
        #: How long a tuning job's trials take; None: each its whole MaxRuntimeInSeconds, less a minute.
        self.trial_seconds: float | None = 3600.0
        #: Trials take about ``trial_seconds`` (False: exactly).
        self.vary_trials = True
        self._lock = threading.Lock()

    def reject(self, api: str, usage: tuple[str, int, str] | None = None) -> None:
        """Answer ``api`` with the next error the scenario queued for it, if any. ``usage``:
        (instance type, count, "training job usage" | "endpoint usage") for a quota's message."""
        from moto.sagemaker.exceptions import SagemakerClientError

        from tunestack.simulator.lambdas import current_function

        code = self.faults.next_rejection(api, current_function())
        if not code:
            return
        rejection = type(code, (SagemakerClientError,), {"code": code})
        if code == "ResourceLimitExceeded" and usage is not None:
            instance_type, count, what = usage
            limit, used = self.faults.quota
            raise rejection(
                f"The account-level service limit '{instance_type} for {what}' is {limit} Instances, with current "
                f"utilization of {used} Instances and a request delta of {count} Instances. Please contact AWS "
                "support to request an increase for this limit."
            )
        raise rejection(f"simulated {code} for {api}")

    def tags_of(self, kind: str, name: str) -> dict[str, str]:
        """A resource's tags, as its state-change events carry them (``detail.Tags``)."""
        found: Any = {TRAINING_JOB.job_type: self.jobs, TUNING_JOB.job_type: self.tuning_jobs}.get(kind, self.endpoints)
        return dict(found[name].tags)

    def jobs_left_running(self, running_executions: set[str]) -> list[str]:
        """Training and tuning jobs still running whose execution (by its tag) is not running."""
        from tunestack_runtime.tags import EXECUTION_TAG, tag_safe

        owners = {tag_safe(arn) for arn in running_executions}
        jobs: list[SimulatedJob | tuning.SimulatedTuningJob] = [*self.jobs.values(), *self.tuning_jobs.values()]
        return sorted(j.name for j in jobs if j.status in RUNNING and j.tags.get(EXECUTION_TAG) not in owners)

    def trial(self, name: str) -> tuple[tuning.SimulatedTuningJob, tuning.Trial] | None:
        """The tuning job and trial a training job name belongs to (trials are not moto's jobs)."""
        for job in self.tuning_jobs.values():
            for trial in job.trials:
                if trial.name == name or trial.arn == name:
                    return job, trial
        return None

    def finish_tuning(self, name: str, status: str, failure_reason: str | None = None) -> tuning.SimulatedTuningJob:
        with self._lock:
            job = self.tuning_jobs[name]
            if status == "Stopped":
                job.stop(self.clock.now)
            else:
                job.status, job.ended_at = status, self.clock.now
            job.failure_reason = failure_reason
            return job

    def describe_tuning(self, name: str, original: dict[str, Any]) -> dict[str, Any]:
        job = self.tuning_jobs.get(name)
        if job is None:
            return original
        now = self.clock.now
        response = {
            k: v
            for k, v in original.items()
            if k not in {"FailureReason", "BestTrainingJob", "OverallBestTrainingJob", "TuningJobCompletionDetails"}
            and v is not None
        }
        response.update(
            HyperParameterTuningJobStatus=job.status,
            CreationTime=tuning.at(job.created_at),
            LastModifiedTime=tuning.at(now),
            TrainingJobStatusCounters=job.counters(now),
        )
        if job.ended_at is not None:
            response["HyperParameterTuningEndTime"] = tuning.at(job.ended_at)
        best = job.best(now)
        if best is not None:
            response["BestTrainingJob"] = best
        if job.failure_reason:
            response["FailureReason"] = job.failure_reason
        return response

    def finish(self, name: str, status: str, failure_reason: str | None = None) -> SimulatedJob:
        with self._lock:
            job = self.jobs[name]
            job.status, job.ended_at, job.failure_reason = status, self.clock.now, failure_reason
            return job

    def describe(self, name: str, original: dict[str, Any]) -> dict[str, Any]:
        job = self.jobs.get(name)
        if job is None:
            return original
        response = {k: v for k, v in original.items() if k not in {"FailureReason", "ModelArtifacts"}}
        response["TrainingJobStatus"] = job.status
        response["SecondaryStatus"] = {"InProgress": "Training", "Stopping": "Stopping"}.get(job.status, job.status)
        if job.ended_at is not None:
            seconds = int(job.ended_at - job.created_at)
            response["TrainingTimeInSeconds"] = seconds
            response["BillableTimeInSeconds"] = seconds
        if job.failure_reason:
            response["FailureReason"] = job.failure_reason
        if job.status == "Completed":
            response["ModelArtifacts"] = {"S3ModelArtifacts": f"{job.output_path}{name}/output/model.tar.gz"}
        return response
