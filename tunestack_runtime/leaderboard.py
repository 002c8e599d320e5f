"""The leaderboard of a tuning job: every training job, best first, with status counts.

Rows come from ``ListTrainingJobsForHyperParameterTuningJob`` (paginated), for the tuning job and,
with warm start, its parents, each marked by generation (0 = this job, 1 = its parents, ...).
Sorting respects the objective's direction; jobs without a final objective value come last.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

#: Failure reasons SageMaker marks as the job's own fault: running it again cannot succeed.
_NON_RETRYABLE_PREFIXES = ("ClientError", "AlgorithmError", "ValidationError")
PAGE_SIZE = 100


@dataclass(frozen=True)
class Row:
    training_job_name: str
    tuning_job_name: str
    generation: int
    status: str
    objective: float | None
    hyperparameters: dict[str, str] = field(default_factory=dict)
    start_time: str | None = None
    end_time: str | None = None
    failure_reason: str | None = None

    @property
    def status_class(self) -> str:
        if self.status != "Failed":
            return self.status
        reason = self.failure_reason or ""
        return "FailedNonRetryable" if reason.startswith(_NON_RETRYABLE_PREFIXES) else "FailedRetryable"


@dataclass(frozen=True)
class Leaderboard:
    tuning_job_name: str
    objective_metric: str
    objective_type: str  # "Maximize" | "Minimize"
    rows: tuple[Row, ...]

    @property
    def best(self) -> Row | None:
        return self.rows[0] if self.rows and self.rows[0].objective is not None else None

    def status_counts(self) -> dict[str, int]:
        counts = Counter(row.status_class for row in self.rows)
        keys = ("Completed", "InProgress", "Stopped", "FailedRetryable", "FailedNonRetryable")
        return {key: counts.get(key, 0) for key in keys}

    def to_json(self) -> str:
        return json.dumps(
            {
                "TuningJobName": self.tuning_job_name,
                "Objective": {"MetricName": self.objective_metric, "Type": self.objective_type},
                "StatusCounts": self.status_counts(),
                "Best": asdict(self.best) if self.best else None,
                "Rows": [asdict(row) for row in self.rows],
            },
            indent=2,
        )

    def to_csv(self) -> str:
        names = sorted({name for row in self.rows for name in row.hyperparameters})
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [
                "rank",
                "training_job_name",
                "tuning_job_name",
                "generation",
                "status",
                self.objective_metric,
                "start_time",
                "end_time",
                "failure_reason",
                *names,
            ]
        )
        for rank, row in enumerate(self.rows, 1):
            writer.writerow(
                [
                    rank,
                    row.training_job_name,
                    row.tuning_job_name,
                    row.generation,
                    row.status,
                    "" if row.objective is None else row.objective,
                    row.start_time or "",
                    row.end_time or "",
                    row.failure_reason or "",
                    *(row.hyperparameters.get(n, "") for n in names),
                ]
            )
        return buffer.getvalue()

    @classmethod
    def from_json(cls, text: str) -> Leaderboard:
        document = json.loads(text)
        return cls(
            tuning_job_name=document["TuningJobName"],
            objective_metric=document["Objective"]["MetricName"],
            objective_type=document["Objective"]["Type"],
            rows=tuple(Row(**row) for row in document["Rows"]),
        )


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def row_from_summary(summary: dict[str, Any], generation: int) -> Row:
    metric = summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    value = metric.get("Value")
    return Row(
        training_job_name=summary["TrainingJobName"],
        tuning_job_name=summary.get("TuningJobName", ""),
        generation=generation,
        status=summary["TrainingJobStatus"],
        objective=float(value) if value is not None else None,
        hyperparameters={k: str(v) for k, v in (summary.get("TunedHyperParameters") or {}).items()},
        start_time=_iso(summary.get("TrainingStartTime")),
        end_time=_iso(summary.get("TrainingEndTime")),
        failure_reason=summary.get("FailureReason"),
    )


def training_jobs(sagemaker: Any, tuning_job_name: str) -> Iterator[dict[str, Any]]:
    """Every training job of a tuning job, following NextToken."""
    kwargs: dict[str, Any] = {"HyperParameterTuningJobName": tuning_job_name, "MaxResults": PAGE_SIZE}
    while True:
        page = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(**kwargs)
        yield from page.get("TrainingJobSummaries", [])
        token = page.get("NextToken")
        if not token:
            return
        kwargs["NextToken"] = token


def build(
    tuning_job_name: str,
    objective_metric: str,
    objective_type: str,
    generations: Iterable[tuple[int, Iterable[dict[str, Any]]]],
) -> Leaderboard:
    """Rows of every generation, best first for the objective's direction."""
    rows = [row_from_summary(s, generation) for generation, summaries in generations for s in summaries]
    sign = -1.0 if objective_type == "Maximize" else 1.0
    rows.sort(key=lambda r: (r.objective is None, sign * (r.objective or 0.0), r.training_job_name))
    return Leaderboard(
        tuning_job_name=tuning_job_name,
        objective_metric=objective_metric,
        objective_type=objective_type,
        rows=tuple(rows),
    )
