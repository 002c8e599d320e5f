"""The tuning chart: each training job's final objective against its end time, one colour per
warm-start generation, and the best-so-far line in the objective's direction.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import tunestack.runtime_path  # noqa: F401  (the runtime ships in the Lambda asset)

# isort: split
from tunestack_runtime.leaderboard import Leaderboard, Row

GENERATION_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"]


def _finished(board: Leaderboard) -> list[tuple[datetime, Row]]:
    points = [
        (datetime.fromisoformat(row.end_time), row)
        for row in board.rows
        if row.objective is not None and row.end_time is not None
    ]
    return sorted(points, key=lambda point: point[0])


def load_leaderboard(path: Path) -> Leaderboard:
    """A leaderboard JSON file as the analysis step writes it; ValueError if it is not one."""
    try:
        return Leaderboard.from_json(path.read_text())
    except (KeyError, TypeError) as error:
        raise ValueError(f"missing or malformed field {error}") from None


def best_so_far(board: Leaderboard) -> list[tuple[datetime, float]]:
    """The running best objective over time (max for Maximize, min for Minimize)."""
    better = max if board.objective_type == "Maximize" else min
    line: list[tuple[datetime, float]] = []
    for when, row in _finished(board):
        assert row.objective is not None
        value = row.objective if not line else better(line[-1][1], row.objective)
        line.append((when, value))
    return line


def render(board: Leaderboard, output: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    def x(moments: list[datetime]) -> list[float]:
        return [float(mdates.date2num(moment)) for moment in moments]

    figure, axes = plt.subplots(figsize=(10, 5.5), dpi=100)
    points = _finished(board)
    for generation in sorted({row.generation for _, row in points}):
        mine = [(when, float(row.objective or 0.0)) for when, row in points if row.generation == generation]
        label = "this tuning job" if generation == 0 else f"parent generation {generation}"
        axes.scatter(
            x([w for w, _ in mine]),
            [v for _, v in mine],
            s=28,
            color=GENERATION_COLOURS[generation % len(GENERATION_COLOURS)],
            label=f"{label} ({len(mine)} jobs)",
            zorder=3,
        )
    line = best_so_far(board)
    if line:
        axes.step(
            x([w for w, _ in line]),
            [v for _, v in line],
            where="post",
            color="#d62728",
            linewidth=1.8,
            label="best so far",
            zorder=2,
        )
    best = board.best
    if best is not None and best.end_time and best.objective is not None:
        axes.scatter(
            x([datetime.fromisoformat(best.end_time)]),
            [best.objective],
            marker="*",
            s=220,
            color="#d62728",
            edgecolor="black",
            zorder=4,
            label=f"best: {best.training_job_name} ({best.objective:g})",
        )
    counts = board.status_counts()
    failed = counts["FailedRetryable"] + counts["FailedNonRetryable"]
    axes.set_title(
        f"{board.tuning_job_name}: {board.objective_metric} ({board.objective_type})\n"
        f"{counts['Completed']} completed, {counts['InProgress']} in progress, {counts['Stopped']} stopped, "
        f"{failed} failed",
        fontsize=11,
    )
    axes.set_xlabel("training job end time (UTC)")
    axes.set_ylabel(board.objective_metric)
    axes.xaxis_date()
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M"))
    axes.grid(True, alpha=0.3)
    axes.legend(loc="best", fontsize=9)
    figure.autofmt_xdate()
    figure.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, format="png")
    plt.close(figure)
    return output
