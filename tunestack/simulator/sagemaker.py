"""A SageMaker whose training and tuning jobs live through InProgress to Completed, Failed or
Stopped in simulated time, on top of moto (which stores the jobs but reports every one Completed at
once, and has no StopTrainingJob, StopHyperParameterTuningJob or
ListTrainingJobsForHyperParameterTuningJob).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import boto3
from botocore.exceptions import ClientError

from tunestack.simulator import tuning
from tunestack.simulator.endpoints import simulated_endpoints
from tunestack.simulator.registry import simulated_registry
from tunestack.simulator.sagemaker_state import (
    RUNNING,
    TAG_PATTERN,
    SageMakerFaults,
    SimulatedJob,
    SimulatedSageMaker,
    check_tags,
)
from tunestack_runtime.contract import TRAINING_JOB, TUNING_JOB

__all__ = [
    "RUNNING",
    "TAG_PATTERN",
    "SageMakerFaults",
    "SimulatedJob",
    "SimulatedSageMaker",
    "check_tags",
    "simulated_sagemaker",
]


def _upload_artifact(description: dict[str, Any]) -> None:
    """SageMaker writes a completed job's model.tar.gz to its output path once; the simulator
    writes a small stand-in the first time the completed job is described."""
    uri = (description.get("ModelArtifacts") or {}).get("S3ModelArtifacts", "")
    if not uri.endswith(".tar.gz"):
        return
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3 = boto3.client("s3")
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        with contextlib.suppress(ClientError):  # an output bucket the simulation did not create
            s3.put_object(Bucket=bucket, Key=key, Body=b"simulated model artifact")


@contextmanager
def simulated_sagemaker(sim: SimulatedSageMaker) -> Iterator[SimulatedSageMaker]:
    from moto.sagemaker import models, responses
    from moto.sagemaker.exceptions import ResourceInUseException, ValidationError

    backend_cls = models.SageMakerModelBackend
    original_create = backend_cls.create_training_job
    original_describe = backend_cls.describe_training_job
    original_list_tags = backend_cls.list_tags
    original_create_tuning = backend_cls.create_hyper_parameter_tuning_job
    original_describe_tuning = backend_cls.describe_hyper_parameter_tuning_job

    reject = sim.reject

    def create(self: Any, training_job_name: str, **kwargs: Any) -> Any:
        resources = kwargs["resource_config"]
        reject("CreateTrainingJob", (resources["InstanceType"], resources["InstanceCount"], "training job usage"))
        check_tags(kwargs.get("tags"))
        if training_job_name in sim.jobs:
            raise ResourceInUseException(f"Training job names must be unique: {training_job_name} already exists")
        job = original_create(self, training_job_name=training_job_name, **kwargs)
        sim.jobs[training_job_name] = SimulatedJob(
            name=training_job_name,
            arn=job.arn,
            created_at=sim.clock.now,
            output_path=kwargs["output_data_config"]["S3OutputPath"],
            max_runtime=float(kwargs["stopping_condition"]["MaxRuntimeInSeconds"]),
            tags={t["Key"]: t["Value"] for t in kwargs.get("tags") or []},
        )
        sim.created.append((TRAINING_JOB.job_type, training_job_name))
        sim.calls["CreateTrainingJob"] += 1
        return job

    def create_tuning(self: Any, hyper_parameter_tuning_job_name: str, **kwargs: Any) -> Any:
        resources = kwargs["training_job_definition"]["ResourceConfig"]
        usage = (resources["InstanceType"], resources["InstanceCount"], "training job usage")
        reject("CreateHyperParameterTuningJob", usage)
        check_tags(kwargs.get("tags"))
        name = hyper_parameter_tuning_job_name
        if name in sim.tuning_jobs:
            raise ResourceInUseException(f"Hyper parameter tuning job {name} already exists")
        arn = original_create_tuning(self, hyper_parameter_tuning_job_name=name, **kwargs)
        definition = kwargs["training_job_definition"]
        parents = (kwargs.get("warm_start_config") or {}).get("ParentHyperParameterTuningJobs", [])
        generation = 1 + max(
            (sim.tuning_jobs[p["HyperParameterTuningJobName"]].generation for p in parents), default=-1
        )
        limit = float(definition["StoppingCondition"]["MaxRuntimeInSeconds"])
        sim.tuning_jobs[name] = tuning.plan(
            name=name,
            arn=arn,
            now=sim.clock.now,
            config=kwargs["hyper_parameter_tuning_job_config"],
            definition=definition,
            generation=generation,
            trial_seconds=sim.trial_seconds or limit,
            max_runtime=limit,
            vary=sim.trial_seconds is not None and sim.vary_trials,
        )
        sim.tuning_jobs[name].tags = {t["Key"]: t["Value"] for t in kwargs.get("tags") or []}
        sim.created.append((TUNING_JOB.job_type, name))
        sim.calls["CreateHyperParameterTuningJob"] += 1
        return arn

    def describe_tuning(self: Any, hyper_parameter_tuning_job_name: str) -> dict[str, Any]:
        reject("DescribeHyperParameterTuningJob")
        name = hyper_parameter_tuning_job_name
        response = sim.describe_tuning(name, original_describe_tuning(self, name))
        self.hyper_parameter_tuning_jobs[name].hyper_parameter_tuning_job_status = response[
            "HyperParameterTuningJobStatus"
        ]
        sim.calls["DescribeHyperParameterTuningJob"] += 1
        return response

    def stop_tuning(self: Any, name: str) -> None:
        reject("StopHyperParameterTuningJob")
        job = sim.tuning_jobs.get(name)
        if job is None:
            raise ValidationError(f"Requested resource not found: hyper parameter tuning job {name}")
        if job.status != "InProgress":
            raise ValidationError(f"The hyper parameter tuning job {name} is {job.status} and cannot be stopped")
        sim.finish_tuning(name, "Stopped", "Stopped by the user")
        self.hyper_parameter_tuning_jobs[name].hyper_parameter_tuning_job_status = "Stopped"
        sim.calls["StopHyperParameterTuningJob"] += 1

    def list_trials(self: Any, name: str, next_token: str | None, max_results: int | None) -> dict[str, Any]:
        reject("ListTrainingJobsForHyperParameterTuningJob")
        job = sim.tuning_jobs.get(name)
        if job is None:
            raise ValidationError(f"Requested resource not found: hyper parameter tuning job {name}")
        summaries = job.summaries(sim.clock.now)
        start, size = int(next_token or 0), min(int(max_results or 10), 100)
        page: dict[str, Any] = {"TrainingJobSummaries": summaries[start : start + size]}
        if start + size < len(summaries):
            page["NextToken"] = str(start + size)
        sim.calls["ListTrainingJobsForHyperParameterTuningJob"] += 1
        return page

    def describe(self: Any, training_job_name: str) -> dict[str, Any]:
        reject("DescribeTrainingJob")
        found = sim.trial(training_job_name)
        if found is not None:
            response = found[0].describe_trial(found[1], sim.clock.now)
        else:
            response = sim.describe(training_job_name, original_describe(self, training_job_name))
        sim.calls["DescribeTrainingJob"] += 1
        _upload_artifact(response)
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
        reject("ListTags")
        arn = kwargs.get("arn", args[0] if args else "")
        found = sim.trial(arn)
        if found is not None:  # a trial carries its tuning job's tags
            arn = found[0].arn
            kwargs["arn"], args = arn, ()
        result = original_list_tags(self, *args, **kwargs)
        sim.calls["ListTags"] += 1
        return result

    original_search = backend_cls.search

    def search(self: Any, resource: Any = None, search_expression: Any = None) -> Any:
        """moto searches no tuning jobs; the one query tunestack makes ("Auto" warm start: the
        team's tuning jobs by tag, newest first) is answered here, other queries by moto."""
        if resource != "HyperParameterTuningJob":
            return original_search(self, resource=resource, search_expression=search_expression)
        reject("Search")
        wanted = [
            (f["Name"].removeprefix("Tags."), f["Value"])
            for f in (search_expression or {}).get("Filters", [])
            if f["Name"].startswith("Tags.") and f.get("Operator", "Equals") == "Equals"
        ]
        results = []
        for job in reversed(list(self.hyper_parameter_tuning_jobs.values())):
            tags = {t["Key"]: t["Value"] for t in job.tags}
            if all(tags.get(key) == value for key, value in wanted):
                results.append(
                    {
                        "HyperParameterTuningJob": {
                            "HyperParameterTuningJobName": job.hyper_parameter_tuning_job_name,
                            "HyperParameterTuningJobArn": job.arn,
                            "Tags": job.tags,
                        }
                    }
                )
        sim.calls["Search"] += 1
        return {"Results": results[:100]}

    def stop_response(self: Any) -> Any:
        self.sagemaker_backend.stop_training_job(self._get_param("TrainingJobName"))
        return responses.ActionResult({})

    def stop_tuning_response(self: Any) -> Any:
        self.sagemaker_backend.stop_hyper_parameter_tuning_job(self._get_param("HyperParameterTuningJobName"))
        return responses.ActionResult({})

    def list_trials_response(self: Any) -> Any:
        return responses.ActionResult(
            self.sagemaker_backend.list_training_jobs_for_hyper_parameter_tuning_job(
                self._get_param("HyperParameterTuningJobName"),
                self._get_param("NextToken"),
                self._get_param("MaxResults"),
            )
        )

    response_cls = responses.SageMakerResponse
    with (
        mock.patch.object(backend_cls, "create_hyper_parameter_tuning_job", create_tuning),
        mock.patch.object(backend_cls, "describe_hyper_parameter_tuning_job", describe_tuning),
        mock.patch.object(backend_cls, "stop_hyper_parameter_tuning_job", stop_tuning, create=True),
        mock.patch.object(backend_cls, "list_training_jobs_for_hyper_parameter_tuning_job", list_trials, create=True),
        mock.patch.object(response_cls, "stop_hyper_parameter_tuning_job", stop_tuning_response, create=True),
        mock.patch.object(
            response_cls, "list_training_jobs_for_hyper_parameter_tuning_job", list_trials_response, create=True
        ),
        mock.patch.object(backend_cls, "create_training_job", create),
        mock.patch.object(backend_cls, "describe_training_job", describe),
        mock.patch.object(backend_cls, "stop_training_job", stop, create=True),
        mock.patch.object(backend_cls, "list_tags", list_tags),
        mock.patch.object(backend_cls, "search", search),
        mock.patch.object(responses.SageMakerResponse, "stop_training_job", stop_response, create=True),
        simulated_endpoints(sim),
        simulated_registry(sim),
    ):
        yield sim
