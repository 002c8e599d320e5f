"""The simulator's tuning jobs keep SageMaker's limits in simulated time."""

from __future__ import annotations

from typing import Any

import pytest

from tests.simulator.test_tune_scenarios import XGBOOST
from tunestack.simulator import tuning

CONFIG: dict[str, Any] = XGBOOST["HyperParameterTuningJobConfig"]
ARN = "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/t"


def plan(generation: int = 0, trial_seconds: float = 3600.0, **config: Any) -> tuning.SimulatedTuningJob:
    return tuning.plan(
        name="t",
        arn=ARN,
        now=100.0,
        config={**CONFIG, **config},
        definition={"StaticHyperParameters": XGBOOST["StaticHyperParameters"]},
        generation=generation,
        trial_seconds=trial_seconds,
        max_runtime=3600.0,
    )


@pytest.mark.parametrize(("total", "parallel"), [(20, 3), (7, 7), (5, 1), (50, 4)])
def test_trials_respect_the_total_and_the_parallel_limit(total: int, parallel: int) -> None:
    job = plan(ResourceLimits={"MaxNumberOfTrainingJobs": total, "MaxParallelTrainingJobs": parallel})
    assert len(job.trials) == total
    moments = sorted({t.start for t in job.trials} | {t.end - 1 for t in job.trials})
    assert max(job.in_progress_at(m) for m in moments) == min(parallel, total)
    assert all(t.end - t.start <= 3600 - 60 + 1e-6 for t in job.trials)  # never past MaxRuntimeInSeconds


def test_summaries_follow_the_clock() -> None:
    job = plan()
    assert job.summaries(100.0)[0]["TrainingJobStatus"] == "InProgress"
    assert len(job.summaries(100.0)) == 3  # only the first round has started
    done = job.summaries(job.planned_end)
    assert len(done) == 20 and not [s for s in done if s["TrainingJobStatus"] == "InProgress"]
    failed = [s for s in done if s["TrainingJobStatus"] == "Failed"]
    assert len(failed) == 2 and all("FinalHyperParameterTuningJobObjectiveMetric" not in s for s in failed)


def test_objectives_are_deterministic_and_better_in_later_generations() -> None:
    first, again = plan(), plan()
    assert [t.objective for t in first.trials] == [t.objective for t in again.trials]
    best = [plan(generation=g).best(10**9)["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for g in range(3)]
    assert best == sorted(best) and len(set(best)) == 3


def test_a_different_random_seed_draws_other_hyperparameters() -> None:
    assert [t.hyperparameters for t in plan().trials] != [t.hyperparameters for t in plan(RandomSeed=7).trials]


def test_stopping_ends_running_trials_and_drops_unstarted_ones() -> None:
    job = plan()
    job.stop(100.0 + 1800)
    statuses = [s["TrainingJobStatus"] for s in job.summaries(10**9)]
    assert statuses == ["Stopped"] * 3 and job.status == "Stopped"
