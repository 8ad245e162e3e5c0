"""A bar chart's geometry for the dashboard's SVG, drawn on the server: bars for each
day of a span, side by side per series, with a scale and the dates under them. Pure:
the template draws what this computes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

#: The drawing's own units (the SVG scales to its box; text keeps a readable size).
WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 36, 8, 10, 24


@dataclass(frozen=True)
class Bar:
    series: str
    day: date
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (y, value) of each line across
    dates: list[tuple[float, str]]  # (x, label) under the bars
    baseline: float
    left: float
    right: float


def scale_top(peak: int) -> int:
    """The scale's top: 1, 2 or 5 times a power of ten, at least ``peak`` (and 1)."""
    if peak <= 1:
        return 1
    power: int = 10 ** math.floor(math.log10(peak))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= peak)


def bar_chart(days: Sequence[date], series: Mapping[str, Mapping[date, int]]) -> Chart:
    """Bars for ``days`` (oldest first), one per series a day, side by side."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    top = scale_top(max((v for s in series.values() for v in s.values()), default=0))
    slot = plot_width / max(len(days), 1)
    bar_width = slot * 0.8 / max(len(series), 1)
    baseline = TOP + plot_height
    bars = []
    for n, day in enumerate(days):
        for k, (name, values) in enumerate(series.items()):
            value = values.get(day, 0)
            height = plot_height * value / top
            x = LEFT + n * slot + slot * 0.1 + k * bar_width
            bars.append(Bar(name, day, value, x, baseline - height, bar_width, height))
    ticks = [(baseline - plot_height * v / top, v) for v in sorted({0, top // 2, top})]
    every = max(1, round(len(days) / 6))  # about six dates under the chart
    dates = [
        (LEFT + n * slot + slot / 2, f"{day:%b} {day.day}")
        for n, day in enumerate(days)
        if (len(days) - 1 - n) % every == 0
    ]
    return Chart(WIDTH, HEIGHT, bars, ticks, dates, baseline, LEFT, WIDTH - RIGHT)
