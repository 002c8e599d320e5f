"""The tuning chart's PNG, decoded and looked at pixel by pixel."""

from __future__ import annotations

import itertools
import struct
import zlib
from typing import Any

import pytest

from tunestack_runtime import leaderboard
from tunestack_runtime.chart import (
    BEST,
    FAILED,
    HEIGHT,
    JOB_COLOURS,
    TOP,
    WIDTH,
    Canvas,
    glyph,
    nice_ticks,
    render_png,
    tuning_jobs,
)

TOP_PLOT = TOP


def decode(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of a PNG with filter 0 rows, checking every chunk's CRC."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    at, data, size = 8, b"", (0, 0)
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, body = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        assert struct.unpack(">I", png[at + 8 + length : at + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            data += body
        at += 12 + length
    width, height = size
    raw = zlib.decompress(data)
    stride = 1 + 3 * width
    assert len(raw) == height * stride
    return width, height, [raw[y * stride + 1 : (y + 1) * stride] for y in range(height)]


def colours(rows: list[bytes]) -> set[tuple[int, ...]]:
    return {tuple(row[i : i + 3]) for row in rows for i in range(0, len(row), 3)}


def board(generations: dict[int, list[float]], direction: str = "Maximize") -> leaderboard.Leaderboard:
    summaries = [
        (
            generation,
            [
                {
                    "TrainingJobName": f"job-{generation}-{i}",
                    "TrainingJobStatus": "Completed",
                    "TrainingStartTime": f"2026-11-20T0{generation}:00:00+00:00",
                    "TrainingEndTime": f"2026-11-20T0{generation}:{10 + i:02d}:00+00:00",
                    "FinalHyperParameterTuningJobObjectiveMetric": {"Value": value},
                }
                for i, value in enumerate(values)
            ],
        )
        for generation, values in generations.items()
    ]
    return leaderboard.build("tune-1", "validation:auc", direction, summaries)


def test_one_colour_per_generation_and_the_best_in_red() -> None:
    width, height, rows = decode(render_png(board({0: [0.8, 0.9], 1: [0.7, 0.75]})))
    assert (width, height) == (WIDTH, HEIGHT)
    seen = colours(rows)
    assert set(JOB_COLOURS[:2]) <= seen and BEST in seen
    assert JOB_COLOURS[2] not in seen


def test_a_single_generation_shows_only_its_colour() -> None:
    _, _, rows = decode(render_png(board({0: [0.8, 0.9, 0.85]})))
    assert JOB_COLOURS[0] in colours(rows) and JOB_COLOURS[1] not in colours(rows)


def test_a_board_with_no_objective_yet_still_renders() -> None:
    empty = leaderboard.build("tune-1", "validation:auc", "Maximize", [])
    _, _, rows = decode(render_png(empty))
    assert BEST not in colours(rows)


@pytest.mark.parametrize(("low", "high"), [(0.0, 6.2), (0.7731, 0.9098), (-3.0, 250.0), (5.0, 5.0)])
def test_ticks_are_round_and_cover_the_range(low: float, high: float) -> None:
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high and 2 <= len(ticks) <= 12
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1


def failing_board() -> leaderboard.Leaderboard:
    """This job, two parents at generation 1 and a failed trial without an objective."""
    return leaderboard.build("tune-1", "validation:accuracy", "Maximize", failing_board_summaries())


def failing_board_summaries() -> list[tuple[int, list[dict[str, Any]]]]:
    jobs = [
        ("tune-1", 0, [0.8, 0.9]),
        ("parent-a", 1, [0.7]),
        ("parent-b", 1, [0.75]),
    ]
    summaries = [
        (
            generation,
            [
                {
                    "TrainingJobName": f"{tuning}-{i:03d}-abcd1234",
                    "TuningJobName": tuning,
                    "TrainingJobStatus": "Completed",
                    "TrainingStartTime": "2026-11-20T00:00:00+00:00",
                    "TrainingEndTime": f"2026-11-20T0{generation + i}:30:00+00:00",
                    "FinalHyperParameterTuningJobObjectiveMetric": {"Value": value},
                }
                for i, value in enumerate(values)
            ],
        )
        for tuning, generation, values in jobs
    ]
    summaries[0][1].append(
        {
            "TrainingJobName": "tune-1-003-ffff0000",
            "TuningJobName": "tune-1",
            "TrainingJobStatus": "Failed",
            "FailureReason": "AlgorithmError: out of memory",
            "TrainingStartTime": "2026-11-20T00:00:00+00:00",
            "TrainingEndTime": "2026-11-20T02:00:00+00:00",
        }
    )
    return summaries


def test_each_warm_start_parent_has_its_own_colour_and_failures_are_marked() -> None:
    built = failing_board()
    assert tuning_jobs(built) == ["tune-1", "parent-a", "parent-b"]
    _, _, rows = decode(render_png(built))
    seen = colours(rows)
    assert set(JOB_COLOURS[:3]) <= seen and JOB_COLOURS[3] not in seen
    assert FAILED in seen
    assert FAILED not in colours(decode(render_png(board({0: [0.8, 0.9]})))[2])


def inked_left_edge(picture: list[bytes]) -> int:
    """Pixels drawn in the strip left of the tick labels, where the y-axis label stands."""
    return sum(1 for row in picture for x in range(12, 20) if row[3 * x : 3 * x + 3] != b"\xff\xff\xff")


def test_the_y_axis_names_the_metric_along_the_left_edge() -> None:
    short = leaderboard.build("t", "val:a", "Maximize", failing_board_summaries())
    long = leaderboard.build("t", "validation:a-much-longer-metric-name", "Maximize", failing_board_summaries())
    short_ink = inked_left_edge(decode(render_png(short))[2])
    assert 0 < short_ink < inked_left_edge(decode(render_png(long))[2])


def test_names_are_drawn_in_their_own_case() -> None:
    lower, upper = Canvas(60, 10), Canvas(60, 10)
    lower.text(0, 0, "tune-1")
    upper.text(0, 0, "TUNE-1")
    assert lower.pixels != upper.pixels
    assert all(glyph(char) != glyph("?") for char in "abcdefghijklmnopqrstuvwxyz0123456789-:_.")
