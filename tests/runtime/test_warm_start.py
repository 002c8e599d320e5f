"""Warm-start parent checks and the Auto choice."""

from __future__ import annotations

import dataclasses

import pytest

from tunestack_runtime.tuning_config import WarmStart
from tunestack_runtime.warm_start import TuningRun, check_parents, choose_auto, incompatibility

IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
CURRENT = TuningRun(
    name="churn-3",
    status="InProgress",
    end_time="",
    team="nlp",
    image=IMAGE,
    channels={"train": "s3://b/churn/train/", "validation": "s3://b/churn/validation/"},
    static_hyperparameters={"num_round": "100", "objective": "binary:logistic"},
    objective_metric="validation:auc",
    range_types={"eta": "Continuous", "max_depth": "Integer"},
)


def past(name: str, end: str, **changes: object) -> TuningRun:
    return dataclasses.replace(CURRENT, **{"name": name, "status": "Completed", "end_time": end, **changes})


@pytest.mark.parametrize(
    ("changes", "warm_type", "reason"),
    [
        ({"status": "InProgress"}, "TransferLearning", "it is InProgress; a parent must have ended"),
        ({"status": "Failed"}, "TransferLearning", "it is Failed"),
        ({"objective_metric": "validation:rmse"}, "TransferLearning", "it optimized 'validation:rmse'"),
        ({"range_types": {"eta": "Continuous"}}, "TransferLearning", r"added here: ['max_depth']"),
        (
            {"range_types": {"eta": "Categorical", "max_depth": "Integer"}},
            "TransferLearning",
            "range types of ['eta'] differ",
        ),
        ({"channels": {"train": "s3://b/churn-v2/train/"}}, "IdenticalDataAndAlgorithm", "the training data changed"),
        ({"image": IMAGE.replace("1.7-1", "1.5-1")}, "IdenticalDataAndAlgorithm", "the training image changed"),
        (
            {"static_hyperparameters": {"num_round": "200"}},
            "IdenticalDataAndAlgorithm",
            "static hyperparameters changed",
        ),
    ],
)
def test_each_incompatibility_is_explained(changes: dict, warm_type: str, reason: str) -> None:
    problem = incompatibility(past("churn-1", "2026-11-01T10:00:00", **changes), CURRENT, warm_type)
    assert problem is not None and reason in problem


def test_transfer_learning_tolerates_new_data_and_image() -> None:
    parent = past("churn-1", "2026-11-01", channels={"train": "s3://b/other/"}, image=IMAGE.replace("1.7-1", "1.5-1"))
    assert incompatibility(parent, CURRENT, "TransferLearning") is None


def test_check_parents_names_each_unfit_parent() -> None:
    parents = [past("churn-1", "2026-11-01"), past("churn-2", "2026-11-02", status="Failed")]
    problems = check_parents(
        parents, CURRENT, WarmStart(type="IdenticalDataAndAlgorithm", parents=("churn-1", "churn-2"))
    )
    assert problems == [
        "$.WarmStartConfig.ParentHyperParameterTuningJobs[1] (churn-2): it is Failed; a parent must have ended "
        "(Completed or Stopped)"
    ]


def test_auto_picks_the_five_most_recent_fitting_jobs_identical_when_nothing_changed() -> None:
    # churn-3 is the current job's own name and never its own parent.
    candidates = [past(f"churn-{i}", f"2026-11-{i:02d}") for i in range(1, 8)]
    choice = choose_auto(candidates, CURRENT)
    assert choice.type == "IdenticalDataAndAlgorithm"
    assert choice.parents == ("churn-7", "churn-6", "churn-5", "churn-4", "churn-2")
    assert "same image, data and static hyperparameters" in choice.reason


def test_auto_turns_to_transfer_learning_when_the_data_changed() -> None:
    candidates = [past("churn-1", "2026-11-01", channels={"train": "s3://b/churn-old/"})]
    choice = choose_auto(candidates, CURRENT)
    assert choice.type == "TransferLearning" and choice.parents == ("churn-1",)
    assert "the training data differ" in choice.reason


def test_auto_skips_other_teams_algorithms_and_unfit_jobs_and_says_why() -> None:
    candidates = [
        past("ads-1", "2026-11-05", team="ads"),
        past("img-1", "2026-11-04", image="other-image"),
        past("churn-2", "2026-11-03", status="Failed"),
        past("churn-1", "2026-11-01"),
    ]
    choice = choose_auto(candidates, CURRENT)
    assert choice.parents == ("churn-1",)
    assert choice.skipped == {
        "ads-1": "another team's job",
        "img-1": "another algorithm",
        "churn-2": "it is Failed; a parent must have ended (Completed or Stopped)",
    }


def test_auto_without_fitting_candidates_does_not_warm_start() -> None:
    choice = choose_auto([past("ads-1", "2026-11-05", team="ads")], CURRENT)
    assert choice.type is None and choice.parents == ()
