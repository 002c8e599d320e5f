"""A SageMaker whose training jobs live through InProgress to Completed, Failed or Stopped in
simulated time, on top of moto (which stores the jobs but reports every one Completed at once and
has no StopTrainingJob).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from tunestack.simulator.clock import SimClock


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


@dataclass
class SageMakerFaults:
    """Rejections SageMaker makes before accepting a call: API name -> error codes, in order."""

    reject: dict[str, list[str]] = field(default_factory=dict)

    def next_rejection(self, api: str) -> str | None:
        queue = self.reject.get(api)
        return queue.pop(0) if queue else None


class SimulatedSageMaker:
    def __init__(self, clock: SimClock, faults: SageMakerFaults) -> None:
        self.clock = clock
        self.faults = faults
        self.jobs: dict[str, SimulatedJob] = {}
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

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


@contextmanager
def simulated_sagemaker(sim: SimulatedSageMaker) -> Iterator[SimulatedSageMaker]:
    from moto.sagemaker import models, responses
    from moto.sagemaker.exceptions import ResourceInUseException, SagemakerClientError, ValidationError

    backend_cls = models.SageMakerModelBackend
    original_create = backend_cls.create_training_job
    original_describe = backend_cls.describe_training_job
    original_list_tags = backend_cls.list_tags

    def reject(api: str) -> None:
        code = sim.faults.next_rejection(api)
        if code:
            rejection = type(code, (SagemakerClientError,), {"code": code})
            raise rejection(f"simulated {code} for {api}")

    def create(self: Any, training_job_name: str, **kwargs: Any) -> Any:
        reject("CreateTrainingJob")
        if training_job_name in sim.jobs:
            raise ResourceInUseException(f"Training job names must be unique: {training_job_name} already exists")
        job = original_create(self, training_job_name=training_job_name, **kwargs)
        sim.jobs[training_job_name] = SimulatedJob(
            name=training_job_name,
            arn=job.arn,
            created_at=sim.clock.now,
            output_path=kwargs["output_data_config"]["S3OutputPath"],
            max_runtime=float(kwargs["stopping_condition"]["MaxRuntimeInSeconds"]),
        )
        sim.calls["CreateTrainingJob"] += 1
        return job

    def describe(self: Any, training_job_name: str) -> dict[str, Any]:
        reject("DescribeTrainingJob")
        response = sim.describe(training_job_name, original_describe(self, training_job_name))
        sim.calls["DescribeTrainingJob"] += 1
        return response

    def stop(self: Any, training_job_name: str) -> None:
        reject("StopTrainingJob")
        job = sim.jobs.get(training_job_name)
        if job is None:
            raise ValidationError(f"Requested resource not found: training job {training_job_name}")
        if job.status != "InProgress":
            raise ValidationError(f"The training job {training_job_name} is {job.status} and cannot be stopped")
        sim.finish(training_job_name, "Stopped", "Stopped by the user")
        sim.calls["StopTrainingJob"] += 1

    def list_tags(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original_list_tags(self, *args, **kwargs)
        sim.calls["ListTags"] += 1
        return result

    def stop_response(self: Any) -> Any:
        self.sagemaker_backend.stop_training_job(self._get_param("TrainingJobName"))
        return responses.ActionResult({})

    with (
        mock.patch.object(backend_cls, "create_training_job", create),
        mock.patch.object(backend_cls, "describe_training_job", describe),
        mock.patch.object(backend_cls, "stop_training_job", stop, create=True),
        mock.patch.object(backend_cls, "list_tags", list_tags),
        mock.patch.object(responses.SageMakerResponse, "stop_training_job", stop_response, create=True),
    ):
        yield sim
