"""Simulated hyperparameter tuning jobs: trials scheduled within the job's limits in simulated time,
with objective values that are deterministic for an input and better with warm start.

A trial's hyperparameters are drawn from the ranges with a generator seeded by the tuning config
(RandomSeed included), later trials and later warm-start generations drawn closer to a hidden
optimum, so a chart shows the best-so-far line climbing and children beating their parents.
Some trials fail, retryably or not, as real ones do.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

#: Simulated time 0, so that summaries carry real-looking timestamps.
EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
#: Every FAIL_EVERY-th trial fails, alternating a retryable and a non-retryable reason.
FAIL_EVERY = 7
_FAILURES = (
    "InternalServerError: We encountered an internal error. Please try again.",
    "AlgorithmError: ExecuteUserScriptError: training diverged (loss is NaN)",
)


def at(seconds: float) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


@dataclass
class Trial:
    name: str
    arn: str
    index: int
    start: float
    end: float
    hyperparameters: dict[str, str]
    objective: float | None
    failure_reason: str | None = None
    stopped_at: float | None = None

    def status(self, now: float) -> str:
        if self.stopped_at is not None and self.stopped_at < self.end:
            return "Stopped"
        if now < self.end:
            return "InProgress"
        return "Failed" if self.failure_reason else "Completed"

    def summary(self, tuning_job: str, now: float, metric: str) -> dict[str, Any] | None:
        if now < self.start:
            return None
        status = self.status(now)
        summary: dict[str, Any] = {
            "TrainingJobName": self.name,
            "TrainingJobArn": self.arn,
            "TuningJobName": tuning_job,
            "CreationTime": at(self.start),
            "TrainingStartTime": at(self.start),
            "TrainingJobStatus": status,
            "TunedHyperParameters": self.hyperparameters,
        }
        if status != "InProgress":
            summary["TrainingEndTime"] = at(min(self.end, self.stopped_at or self.end))
        if status == "Failed":
            summary["FailureReason"] = self.failure_reason
            summary["ObjectiveStatus"] = "Failed"
        elif status == "Completed" and self.objective is not None:
            summary["FinalHyperParameterTuningJobObjectiveMetric"] = {"MetricName": metric, "Value": self.objective}
            summary["ObjectiveStatus"] = "Succeeded"
        else:
            summary["ObjectiveStatus"] = "Pending"
        return summary


@dataclass
class SimulatedTuningJob:
    name: str
    arn: str
    created_at: float
    config: dict[str, Any]
    definition: dict[str, Any]
    generation: int
    trials: list[Trial] = field(default_factory=list)
    status: str = "InProgress"
    ended_at: float | None = None
    failure_reason: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def objective(self) -> dict[str, str]:
        return dict(self.config["HyperParameterTuningJobObjective"])

    @property
    def planned_end(self) -> float:
        return max(t.end for t in self.trials)

    def in_progress_at(self, now: float) -> int:
        return sum(1 for t in self.trials if t.start <= now and t.status(now) == "InProgress")

    def summaries(self, now: float) -> list[dict[str, Any]]:
        metric = self.objective["MetricName"]
        found = (t.summary(self.name, now, metric) for t in self.trials)
        return [s for s in found if s is not None]

    def best(self, now: float) -> dict[str, Any] | None:
        done = [s for s in self.summaries(now) if "FinalHyperParameterTuningJobObjectiveMetric" in s]
        if not done:
            return None
        sign = 1.0 if self.objective["Type"] == "Maximize" else -1.0
        return max(done, key=lambda s: sign * s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])

    def counters(self, now: float) -> dict[str, int]:
        statuses = [s["TrainingJobStatus"] for s in self.summaries(now)]
        failed = [s.get("FailureReason", "") for s in self.summaries(now) if s["TrainingJobStatus"] == "Failed"]
        non_retryable = sum(1 for reason in failed if reason.startswith(("AlgorithmError", "ClientError")))
        return {
            "Completed": statuses.count("Completed"),
            "InProgress": statuses.count("InProgress"),
            "RetryableError": len(failed) - non_retryable,
            "NonRetryableError": non_retryable,
            "Stopped": statuses.count("Stopped"),
        }

    def describe_trial(self, trial: Trial, now: float) -> dict[str, Any]:
        """DescribeTrainingJob of one trial, as SageMaker answers it."""
        status = trial.status(now)
        definition = self.definition
        description: dict[str, Any] = {
            "TrainingJobName": trial.name,
            "TrainingJobArn": trial.arn,
            "TuningJobArn": self.arn,
            "TrainingJobStatus": status,
            "SecondaryStatus": status,
            "HyperParameters": {**definition.get("StaticHyperParameters", {}), **trial.hyperparameters},
            "AlgorithmSpecification": definition["AlgorithmSpecification"],
            "RoleArn": definition["RoleArn"],
            "OutputDataConfig": definition["OutputDataConfig"],
            "ResourceConfig": definition["ResourceConfig"],
            "StoppingCondition": definition["StoppingCondition"],
            "CreationTime": at(trial.start),
            "TrainingStartTime": at(trial.start),
        }
        if status == "Completed":
            output = definition["OutputDataConfig"]["S3OutputPath"]
            description["ModelArtifacts"] = {"S3ModelArtifacts": f"{output}{trial.name}/output/model.tar.gz"}
        if trial.failure_reason and status == "Failed":
            description["FailureReason"] = trial.failure_reason
        return description

    def stop(self, now: float) -> None:
        for trial in self.trials:
            if trial.start > now:
                trial.start = trial.end = now  # never started: dropped from the summaries below
                trial.stopped_at = now
            elif trial.end > now:
                trial.stopped_at = now
        self.trials = [t for t in self.trials if not (t.start == t.end == t.stopped_at)]
        self.status, self.ended_at = "Stopped", now


def plan(
    *,
    name: str,
    arn: str,
    now: float,
    config: dict[str, Any],
    definition: dict[str, Any],
    generation: int,
    trial_seconds: float,
    max_runtime: float,
    vary: bool = True,
) -> SimulatedTuningJob:
    """Schedule every trial: at most MaxParallelTrainingJobs at a time, MaxNumberOfTrainingJobs in
    all, each taking about ``trial_seconds`` (never more than its ``max_runtime``)."""
    limits = config["ResourceLimits"]
    ranges = config["ParameterRanges"]
    total = limits.get("MaxNumberOfTrainingJobs") or math.prod(
        len(r["Values"]) for r in ranges.get("CategoricalParameterRanges", [])
    )
    parallel = limits["MaxParallelTrainingJobs"]
    static = definition.get("StaticHyperParameters", {})
    seed_text = json.dumps({"config": config, "static": static, "generation": generation}, sort_keys=True)
    rng = random.Random(hashlib.sha256(seed_text.encode()).hexdigest())
    optimum = random.Random(json.dumps(ranges, sort_keys=True))
    targets = {r["Name"]: optimum.uniform(0.2, 0.8) for kind in ranges.values() for r in kind}
    slots = [now] * parallel
    job = SimulatedTuningJob(
        name=name, arn=arn, created_at=now, config=config, definition=definition, generation=generation
    )
    for index in range(total):
        # Later trials, and trials of later generations, are drawn closer to the optimum.
        focus = min(0.9, 0.6 * index / max(total - 1, 1) + 0.25 * generation)
        values, positions = _draw(ranges, targets, focus, rng)
        duration = trial_seconds * (rng.uniform(0.75, 1.25) if vary else 1.0)
        duration = min(duration, max_runtime - 60)
        slot = min(range(parallel), key=lambda s: slots[s])
        start = slots[slot]
        slots[slot] = start + duration
        digest = hashlib.sha256(f"{name}-{index}".encode()).hexdigest()[:8]
        failed = index % FAIL_EVERY == FAIL_EVERY - 1
        job.trials.append(
            Trial(
                name=f"{name}-{index + 1:03d}-{digest}",
                arn=arn.replace(":hyper-parameter-tuning-job/", ":training-job/") + f"-{index + 1:03d}-{digest}",
                index=index,
                start=start,
                end=start + duration,
                hyperparameters=values,
                objective=None if failed else _objective(positions, targets, config, generation),
                failure_reason=_FAILURES[(index // FAIL_EVERY) % 2] if failed else None,
            )
        )
    return job


def _draw(
    ranges: dict[str, Any], targets: dict[str, float], focus: float, rng: random.Random
) -> tuple[dict[str, str], dict[str, float]]:
    values: dict[str, str] = {}
    positions: dict[str, float] = {}
    for kind, items in ranges.items():
        for item in items:
            target = targets[item["Name"]]
            u = target + (rng.random() - target) * (1 - focus)
            positions[item["Name"]] = u
            if kind == "CategoricalParameterRanges":
                choices = item["Values"]
                values[item["Name"]] = choices[min(int(u * len(choices)), len(choices) - 1)]
            else:
                low, high = float(item["MinValue"]), float(item["MaxValue"])
                value = low + u * (high - low)
                values[item["Name"]] = str(round(value)) if kind == "IntegerParameterRanges" else f"{value:.6g}"
    return values, positions


def _objective(
    positions: dict[str, float], targets: dict[str, float], config: dict[str, Any], generation: int
) -> float:
    distance = sum((positions[n] - targets[n]) ** 2 for n in positions) / max(len(positions), 1)
    quality = max(0.0, 1.0 - 4.0 * distance) * (0.85 + 0.05 * min(generation, 3))
    if config["HyperParameterTuningJobObjective"]["Type"] == "Maximize":
        return round(0.5 + 0.48 * quality, 5)
    return round(0.2 + 1.0 * (1 - quality), 5)
