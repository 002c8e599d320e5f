"""``tunestack report``: the tuning chart of a leaderboard file, drawn by the same code as the
analysis Lambda (``tunestack_runtime.chart``), so a workstation and the team bucket show one chart.
"""

from __future__ import annotations

from pathlib import Path

# isort: split
from tunestack_runtime.chart import best_so_far, render_png
from tunestack_runtime.leaderboard import Leaderboard

__all__ = ["best_so_far", "load_leaderboard", "render"]


def load_leaderboard(path: Path) -> Leaderboard:
    """A leaderboard JSON file as the analysis step writes it; ValueError if it is not one."""
    try:
        return Leaderboard.from_json(path.read_text())
    except (KeyError, TypeError) as error:
        raise ValueError(f"missing or malformed field {error}") from None


def render(board: Leaderboard, output: Path) -> Path:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(render_png(board))
    return output
