"""The tuning chart and `tunestack report`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.runtime.test_chart import colours, decode
from tunestack.cli import main
from tunestack.cli.report import best_so_far
from tunestack_runtime import leaderboard
from tunestack_runtime.chart import JOB_COLOURS

SAMPLE = ROOT / "examples" / "leaderboard-xgboost.json"


def board(direction: str) -> leaderboard.Leaderboard:
    rows = [
        {
            "TrainingJobName": name,
            "TrainingJobStatus": "Completed",
            "TrainingEndTime": f"2026-11-20T10:0{i}:00+00:00",
            "FinalHyperParameterTuningJobObjectiveMetric": {"Value": value},
        }
        for i, (name, value) in enumerate([("a", 0.5), ("b", 0.7), ("c", 0.6), ("d", 0.4)])
    ]
    return leaderboard.build("t", "m", direction, [(0, rows)])


@pytest.mark.parametrize(
    ("direction", "line"), [("Maximize", [0.5, 0.7, 0.7, 0.7]), ("Minimize", [0.5, 0.5, 0.5, 0.4])]
)
def test_best_so_far_follows_the_objectives_direction(direction: str, line: list[float]) -> None:
    assert [value for _, value in best_so_far(board(direction))] == line


def test_report_renders_the_sample_leaderboard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "chart.png"
    assert main(["report", str(SAMPLE), "-o", str(output)]) == 0
    width, _, rows = decode(output.read_bytes())
    assert width == 960 and set(JOB_COLOURS[:2]) <= colours(rows)  # the sample has a parent generation
    assert "32 training jobs, best xgb-churn-tune-2-020" in capsys.readouterr().out


def test_report_refuses_a_file_that_is_not_a_leaderboard(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"rows": []}')
    assert main(["report", str(bad), "-o", str(tmp_path / "x.png")]) == 1
    assert not (tmp_path / "x.png").exists()
