"""The tuning chart as a PNG, in plain Python so the analysis Lambda needs no plotting library:
each training job's final objective against its end time, one colour per tuning job (this one and
each warm-start parent), failed jobs marked on the time axis, the best-so-far line in the
objective's direction, the best job ringed and the metric named on the y axis. ``tunestack report``
draws the same chart on a workstation.
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from datetime import datetime

from tunestack_runtime.leaderboard import Leaderboard, Row

WIDTH, HEIGHT = 960, 540
LEFT, RIGHT, TOP, BOTTOM = 90, 30, 70, 60
Colour = tuple[int, int, int]
WHITE, BLACK, GREY, GRID = (255, 255, 255), (30, 30, 30), (110, 110, 110), (228, 228, 228)
BEST = (214, 39, 40)
FAILED = (120, 120, 120)
#: One colour per tuning job: this one first, then each warm-start parent (nearest generation first).
JOB_COLOURS: list[Colour] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (148, 103, 189),
    (140, 86, 75),
    (23, 190, 207),
]

#: A 5x7 font: each glyph is its character and seven base-32 digits, one per row, leftmost pixel
#: the highest of five bits. Upper and lower case, digits and the punctuation of job and metric names.
_FONT_DATA = (
    "0ehjlphe14c4444e2eh1248v3v2421he426aiv225vgu11he668guhhe7v1248888ehhehhe9ehhf12cAehhvhhh"
    "BuhhuhhuCehgggheDsihhhisEvgguggvFvggugggGehgnhhfHhhhvhhhIe44444eJ72222icKhikokihLggggggv"
    "MhrllhhhNhhpljhhOehhhhhePuhhugggQehhhlidRuhhukihSfgge11uTv444444UhhhhhheVhhhhha4Whhhllla"
    "Xhha4ahhYhhha444Zv1248gv 0000000.00000cc,0000c48:0cc0cc0-000v000_000000v(2488842)8422248"
    "/01248g0%op248j3=00v0v00+044v440'c480000?eh12404<248g842>8421248[e88888e]e22222e@eh1dlle"
    "#aavavaa*04lel40"
    # Lower case, as SageMaker names jobs (descenders drawn within the 7 rows).
    "a00e1fhfbggmphhuc00egghed11djhhfe00ehvgef698s888g0fhf1hehggmphhhi40c444ej20622ickggikoki"
    "lc44444em00qllhhn00mphhho00ehhhep0uhugggq0fhf111r00mpgggs00ege1ut88s8896u00hhhjdv00hhha4"
    "w00hhllax00ha4ahy0hhf1hez00v248v"
)
_FONT = {_FONT_DATA[i]: tuple(int(c, 32) for c in _FONT_DATA[i + 1 : i + 8]) for i in range(0, len(_FONT_DATA), 8)}


class Canvas:
    def __init__(self, width: int, height: int, background: Colour = WHITE) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def dot(self, x: int, y: int, colour: Colour) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            at = 3 * (y * self.width + x)
            self.pixels[at : at + 3] = bytes(colour)

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: Colour) -> None:
        for y in range(max(y0, 0), min(y1, self.height)):
            for x in range(max(x0, 0), min(x1, self.width)):
                self.dot(x, y, colour)

    def line(self, x0: int, y0: int, x1: int, y1: int, colour: Colour, width: int = 1) -> None:
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for step in range(steps + 1):
            x = round(x0 + (x1 - x0) * step / steps)
            y = round(y0 + (y1 - y0) * step / steps)
            self.rect(x - width // 2, y - width // 2, x - width // 2 + width, y - width // 2 + width, colour)

    def disc(self, cx: int, cy: int, radius: int, colour: Colour, ring: int = 0) -> None:
        """A filled disc, or a ring ``ring`` pixels thick."""
        for y in range(cy - radius, cy + radius + 1):
            for x in range(cx - radius, cx + radius + 1):
                distance = math.hypot(x - cx, y - cy)
                if distance <= radius and (not ring or distance >= radius - ring):
                    self.dot(x, y, colour)

    def text(self, x: int, y: int, words: str, colour: Colour = BLACK, scale: int = 1) -> int:
        """Draw ``words`` with its top-left at (x, y); returns the x after the last glyph."""
        for char in words:
            for row, bits in enumerate(glyph(char)):
                for column in range(5):
                    if bits & (16 >> column):
                        self.rect(
                            x + column * scale, y + row * scale, x + (column + 1) * scale, y + (row + 1) * scale, colour
                        )
            x += 6 * scale
        return x

    def png(self) -> bytes:
        rows = b"".join(
            b"\x00" + bytes(self.pixels[3 * y * self.width : 3 * (y + 1) * self.width]) for y in range(self.height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
        )

    def vertical_text(self, x: int, y: int, words: str, colour: Colour = BLACK) -> None:
        """Draw ``words`` turned a quarter left, reading upwards from (x, y)."""
        for char in words:
            for row, bits in enumerate(glyph(char)):
                for column in range(5):
                    if bits & (16 >> column):
                        self.dot(x + row, y - column, colour)
            y -= 6


def glyph(char: str) -> tuple[int, ...]:
    return _FONT.get(char) or _FONT.get(char.upper()) or _FONT["?"]


def text_width(words: str, scale: int = 1) -> int:
    return 6 * scale * len(words)


def finished(board: Leaderboard) -> list[tuple[datetime, Row]]:
    """Jobs with a final objective, by end time."""
    points = [
        (datetime.fromisoformat(row.end_time), row)
        for row in board.rows
        if row.objective is not None and row.end_time is not None
    ]
    return sorted(points, key=lambda point: point[0])


def best_so_far(board: Leaderboard) -> list[tuple[datetime, float]]:
    """The running best objective over time (max for Maximize, min for Minimize)."""
    better = max if board.objective_type == "Maximize" else min
    line: list[tuple[datetime, float]] = []
    for when, row in finished(board):
        assert row.objective is not None
        line.append((when, row.objective if not line else better(line[-1][1], row.objective)))
    return line


def nice_ticks(low: float, high: float, count: int = 8) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    return [first + i * step for i in range(math.ceil((high - first) / step) + 1)]


def _label(value: float) -> str:
    return f"{value:.4g}"


def job_of(row: Row, board: Leaderboard) -> str:
    """The tuning job that ran ``row`` (older leaderboards name only its generation)."""
    if row.tuning_job_name:
        return row.tuning_job_name
    return board.tuning_job_name if row.generation == 0 else f"generation {row.generation}"


def tuning_jobs(board: Leaderboard) -> list[str]:
    """This tuning job, then its warm-start parents by generation and name: the legend's order."""
    found = {job_of(row, board): row.generation for row in board.rows}
    found.setdefault(board.tuning_job_name, 0)
    return sorted(found, key=lambda name: (name != board.tuning_job_name, found[name], name))


def colour_of(board: Leaderboard) -> dict[str, Colour]:
    return {name: JOB_COLOURS[i % len(JOB_COLOURS)] for i, name in enumerate(tuning_jobs(board))}


def render_png(board: Leaderboard) -> bytes:
    canvas = Canvas(WIDTH, HEIGHT)
    points = finished(board)
    failures = sorted(
        ((datetime.fromisoformat(row.end_time), row) for row in board.rows if row.status == "Failed" and row.end_time),
        key=lambda failure: failure[0],  # trials failing at the same moment keep their order
    )
    counts = board.status_counts()
    failed = counts["FailedRetryable"] + counts["FailedNonRetryable"]
    canvas.text(LEFT, 14, f"{board.tuning_job_name}: {board.objective_metric} ({board.objective_type})", scale=2)
    canvas.text(
        LEFT,
        38,
        f"{len(board.rows)} training jobs: {counts['Completed']} completed, {counts['InProgress']} in progress, "
        f"{counts['Stopped']} stopped, {failed} failed",
        GREY,
    )
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    if not points:
        canvas.text(x0 + 20, (y0 + y1) // 2, "no training job has a final objective yet", GREY, scale=2)
        return canvas.png()

    times = [when for when, _ in points] + [when for when, _ in failures]
    start = min((datetime.fromisoformat(r.start_time) for r in board.rows if r.start_time), default=min(times))
    hours = [(when - start).total_seconds() / 3600 for when, _ in points]
    values = [float(row.objective or 0.0) for _, row in points]
    x_ticks = nice_ticks(0.0, max((when - start).total_seconds() / 3600 for when in times))
    pad = (max(values) - min(values)) * 0.08 or abs(values[0]) * 0.1 or 1.0
    y_ticks = nice_ticks(min(values) - pad, max(values) + pad)

    def px(hour: float) -> int:
        return round(x0 + (hour - x_ticks[0]) / (x_ticks[-1] - x_ticks[0]) * (x1 - x0))

    def py(value: float) -> int:
        return round(y1 - (value - y_ticks[0]) / (y_ticks[-1] - y_ticks[0]) * (y1 - y0))

    for tick in y_ticks:
        canvas.line(x0, py(tick), x1, py(tick), GRID)
        canvas.text(x0 - 8 - text_width(_label(tick)), py(tick) - 3, _label(tick), GREY)
    for tick in x_ticks:
        canvas.line(px(tick), y0, px(tick), y1, GRID)
        canvas.text(px(tick) - text_width(f"{tick:g}h") // 2, y1 + 8, f"{tick:g}h", GREY)
    canvas.line(x0, y1, x1, y1, BLACK)
    canvas.line(x0, y0, x0, y1, BLACK)
    caption = "training job end time, hours after the first started"
    canvas.text((x0 + x1 - text_width(caption)) // 2, HEIGHT - 26, caption, GREY)
    axis = f"{board.objective_metric} (final value)"
    canvas.vertical_text(12, (y0 + y1 + text_width(axis)) // 2, axis, GREY)

    line = [(px((when - start).total_seconds() / 3600), py(value)) for when, value in best_so_far(board)]
    for (ax, ay), (bx, by) in itertools.pairwise(line):
        canvas.line(ax, ay, bx, ay, BEST, width=2)
        canvas.line(bx, ay, bx, by, BEST, width=2)
    colours = colour_of(board)
    for hour, value, (_, row) in zip(hours, values, points, strict=True):
        canvas.disc(px(hour), py(value), 4, colours[job_of(row, board)])
    for when, _ in failures:  # no objective to plot: an x on the time axis
        fx = px((when - start).total_seconds() / 3600)
        canvas.line(fx - 4, y1 - 10, fx + 4, y1 - 2, FAILED, width=2)
        canvas.line(fx - 4, y1 - 2, fx + 4, y1 - 10, FAILED, width=2)
    best = board.best
    if best is not None and best.end_time and best.objective is not None:
        hour = (datetime.fromisoformat(best.end_time) - start).total_seconds() / 3600
        canvas.disc(px(hour), py(best.objective), 9, BEST, ring=2)

    legend_y = y0 + 8
    for name in tuning_jobs(board):
        mine = sum(1 for _, row in points if job_of(row, board) == name)
        if not mine:
            continue
        role = "this tuning job" if name == board.tuning_job_name else "warm-start parent"
        canvas.disc(x0 + 16, legend_y + 3, 4, colours[name])
        canvas.text(x0 + 28, legend_y, f"{role} {name} ({mine})")
        legend_y += 14
    if failures:
        canvas.line(x0 + 12, legend_y - 1, x0 + 20, legend_y + 7, FAILED, width=2)
        canvas.line(x0 + 12, legend_y + 7, x0 + 20, legend_y - 1, FAILED, width=2)
        canvas.text(x0 + 28, legend_y, f"failed, no objective ({len(failures)})")
        legend_y += 14
    canvas.line(x0 + 10, legend_y + 3, x0 + 22, legend_y + 3, BEST, width=2)
    canvas.text(x0 + 28, legend_y, "best so far")
    if best is not None and best.objective is not None:
        canvas.disc(x0 + 16, legend_y + 17, 6, BEST, ring=2)
        canvas.text(x0 + 28, legend_y + 14, f"best: {best.training_job_name} = {_label(best.objective)}")
    return canvas.png()
