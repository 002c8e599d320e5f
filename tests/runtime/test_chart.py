"""The tuning chart's PNG, decoded and looked at pixel by pixel."""

from __future__ import annotations

import itertools
import struct
import zlib

import pytest
from tunestack_runtime import leaderboard
from tunestack_runtime.chart import BEST, GENERATION_COLOURS, HEIGHT, WIDTH, nice_ticks, render_png


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
    assert set(GENERATION_COLOURS[:2]) <= seen and BEST in seen
    assert GENERATION_COLOURS[2] not in seen


def test_a_single_generation_shows_only_its_colour() -> None:
    _, _, rows = decode(render_png(board({0: [0.8, 0.9, 0.85]})))
    assert GENERATION_COLOURS[0] in colours(rows) and GENERATION_COLOURS[1] not in colours(rows)


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
