"""The tuning leaderboard: direction-aware ranking, generations, status counts, pagination."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from tunestack_runtime import leaderboard


def summary(name: str, value: float | None, status: str = "Completed", tuning: str = "tune-2", **extra: Any) -> dict:
    row = {
        "TrainingJobName": name,
        "TuningJobName": tuning,
        "TrainingJobStatus": status,
        "TunedHyperParameters": {"eta": "0.1", "max_depth": "5"},
        "TrainingStartTime": datetime(2026, 11, 1, 10, tzinfo=UTC),
        "TrainingEndTime": datetime(2026, 11, 1, 11, tzinfo=UTC),
        **extra,
    }
    if value is not None:
        row["FinalHyperParameterTuningJobObjectiveMetric"] = {"MetricName": "validation:auc", "Value": value}
    return row


CURRENT = [
    summary("tune-2-001", 0.81),
    summary("tune-2-002", None, "Failed", FailureReason="AlgorithmError: bad eta"),
    summary("tune-2-003", 0.93),
    summary("tune-2-004", None, "InProgress"),
    summary("tune-2-005", None, "Failed", FailureReason="InternalServerError: try again"),
]
PARENT = [summary("tune-1-001", 0.88, tuning="tune-1"), summary("tune-1-002", 0.70, "Stopped", tuning="tune-1")]


@pytest.mark.parametrize(
    ("direction", "order"),
    [
        ("Maximize", ["tune-2-003", "tune-1-001", "tune-2-001", "tune-1-002"]),
        ("Minimize", ["tune-1-002", "tune-2-001", "tune-1-001", "tune-2-003"]),
    ],
)
def test_rows_are_ranked_in_the_objectives_direction(direction: str, order: list[str]) -> None:
    board = leaderboard.build("tune-2", "validation:auc", direction, [(0, CURRENT), (1, PARENT)])
    ranked = [r.training_job_name for r in board.rows if r.objective is not None]
    assert ranked == order
    assert all(r.objective is None for r in board.rows[len(order) :])  # jobs without a value last
    assert board.best is not None and board.best.training_job_name == order[0]


def test_generations_mark_parent_trials() -> None:
    board = leaderboard.build("tune-2", "validation:auc", "Maximize", [(0, CURRENT), (1, PARENT)])
    assert {r.training_job_name: r.generation for r in board.rows}["tune-1-001"] == 1
    assert {r.generation for r in board.rows} == {0, 1}


def test_status_counts_split_failures_by_whether_a_retry_can_help() -> None:
    board = leaderboard.build("tune-2", "validation:auc", "Maximize", [(0, CURRENT), (1, PARENT)])
    assert board.status_counts() == {
        "Completed": 3,
        "InProgress": 1,
        "Stopped": 1,
        "FailedRetryable": 1,
        "FailedNonRetryable": 1,
    }


def test_no_completed_job_means_no_best() -> None:
    board = leaderboard.build("tune-2", "validation:auc", "Maximize", [(0, [summary("a", None, "InProgress")])])
    assert board.best is None


def test_json_round_trips_and_csv_has_one_line_per_job() -> None:
    board = leaderboard.build("tune-2", "validation:auc", "Maximize", [(0, CURRENT), (1, PARENT)])
    again = leaderboard.Leaderboard.from_json(board.to_json())
    assert again == board
    rows = list(csv.DictReader(io.StringIO(board.to_csv())))
    assert len(rows) == 7 and rows[0]["training_job_name"] == "tune-2-003" and rows[0]["rank"] == "1"
    assert rows[0]["validation:auc"] == "0.93" and rows[0]["max_depth"] == "5"
    assert rows[0]["end_time"] == "2026-11-01T11:00:00+00:00"


class PagingSageMaker:
    """Stands in for SageMaker's list API (not under test): serves summaries 100 at a time."""

    def __init__(self, summaries: list[dict[str, Any]]) -> None:
        self.summaries = summaries
        self.calls: list[dict[str, Any]] = []

    def list_training_jobs_for_hyper_parameter_tuning_job(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        start = int(kwargs.get("NextToken", "0"))
        page = self.summaries[start : start + kwargs["MaxResults"]]
        result: dict[str, Any] = {"TrainingJobSummaries": page}
        if start + len(page) < len(self.summaries):
            result["NextToken"] = str(start + len(page))
        return result


def test_every_page_is_read() -> None:
    api = PagingSageMaker([summary(f"job-{i:03d}", i / 250) for i in range(250)])
    jobs = list(leaderboard.training_jobs(api, "tune-2"))
    assert len(jobs) == 250 and len(api.calls) == 3
    assert api.calls[1]["NextToken"] == "100"
