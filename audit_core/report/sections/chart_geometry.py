"""Chart geometry shared by the desktop app and the PDF: plain data, no drawing library.

The ROC curve and the score distributions are computed here once, in unit coordinates
(x and y in [0, 1], y pointing up), and each front end only scales and strokes them: the
app with QPainter, the report with reportlab. So the app and the PDF can never disagree
on where a point, a tick or a bar sits.

ROC on log-log axes, because privacy lives at low false-positive rates (Carlini et al.,
"Membership inference attacks from first principles", S&P 2022). A rate of zero cannot be
placed on a log axis: it is clipped to the axis floor and sits on the axis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]

DEFAULT_FLOOR = 1e-3
# Sparse curves get a marker per measured point so a reader sees where the data are;
# dense ones would turn into a smear.
MAX_MARKED_POINTS = 30
POINTS_PER_DECADE = 16


@dataclass(frozen=True, slots=True)
class Tick:
    value: float
    position: float  # 0..1 along the axis
    label: str  # empty for minor ticks
    major: bool


def decade_ticks(floor: float) -> list[float]:
    """10^k from the floor to 1: 0.001, 0.01, 0.1, 1."""
    lowest = math.floor(math.log10(floor) + 1e-9)
    return [10.0**k for k in range(lowest, 1)]


def tick_label(value: float) -> str:
    """Plain decimals, as a privacy officer reads them: 0.001 rather than 1e-3."""
    decimals = max(0, -round(math.log10(value)))
    return f"{value:.{decimals}f}"


def clip_rate(value: float, floor: float) -> float:
    return min(1.0, max(floor, value))


@dataclass(frozen=True, slots=True)
class LogAxis:
    """A rate axis from `floor` to 1 on a log scale."""

    floor: float = DEFAULT_FLOOR

    def position(self, rate: float) -> float:
        low = math.log10(self.floor)
        return (math.log10(clip_rate(rate, self.floor)) - low) / -low

    def ticks(self) -> tuple[Tick, ...]:
        """Major ticks at each decade (labelled), minor ones at 2..9 x 10^k."""
        ticks = []
        for decade in decade_ticks(self.floor):
            if decade >= self.floor * (1 - 1e-9):
                ticks.append(Tick(decade, self.position(decade), tick_label(decade), True))
            for step in range(2, 10):
                value = decade * step
                if self.floor < value < 1.0:
                    ticks.append(Tick(value, self.position(value), "", False))
        return tuple(sorted(ticks, key=lambda t: t.value))


def interpolated_curve(fpr: Sequence[float], tpr: Sequence[float], floor: float) -> list[Point]:
    """The ROC curve with points added along each segment, spaced evenly in log FPR.

    Between two measured points a ROC curve is a straight line in linear space (the
    classifier that mixes the two thresholds); on log axes that line is a curve, and
    joining the two points directly would draw an attack that was never measured.
    """
    # Sorted so that an unsorted export still draws a curve, not a scribble.
    pairs = sorted(zip(fpr, tpr))
    curve: list[Point] = pairs[:1]
    for (x0, y0), (x1, y1) in zip(pairs, pairs[1:]):
        start = max(x0, floor)
        if x1 > start:
            decades = math.log10(x1 / start)
            steps = max(1, math.ceil(decades * POINTS_PER_DECADE))
            for step in range(1 if start == x0 else 0, steps):
                x = start * (x1 / start) ** (step / steps)
                curve.append((x, y0 + (x - x0) / (x1 - x0) * (y1 - y0)))
        curve.append((x1, y1))
    return curve


@dataclass(frozen=True, slots=True)
class RocGeometry:
    """A ROC curve placed on log-log unit axes."""

    floor: float
    curve: tuple[Point, ...]  # the polyline, unit coordinates
    markers: tuple[Point, ...]  # the measured points the axes can show
    chance: tuple[Point, Point]  # TPR = FPR: a random guess
    ticks: tuple[Tick, ...]  # the same on both axes
    x_title: str = "False positive rate (non-members wrongly flagged)"
    y_title: str = "True positive rate (members identified)"


def roc_geometry(fpr: Sequence[float], tpr: Sequence[float], floor: float = DEFAULT_FLOOR) -> RocGeometry:
    axis = LogAxis(floor)
    points = interpolated_curve([float(x) for x in fpr], [float(y) for y in tpr], floor)
    curve = tuple((axis.position(x), axis.position(y)) for x, y in points)
    markers: tuple[Point, ...] = ()
    if len(fpr) <= MAX_MARKED_POINTS:
        # A zero on the axis is not a measurement the axis can show.
        markers = tuple((axis.position(x), axis.position(y)) for x, y in zip(fpr, tpr)
                        if x >= floor and y >= floor)
    return RocGeometry(floor=floor, curve=curve, markers=markers,
                       chance=((0.0, 0.0), (1.0, 1.0)), ticks=axis.ticks())


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 x 10^k apart) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def number_label(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 2
    return f"{value:.{decimals}f}"


@dataclass(frozen=True, slots=True)
class Bar:
    x0: float  # unit coordinates
    x1: float
    height: float
    share: float  # the share of the cohort in this bin


@dataclass(frozen=True, slots=True)
class HistogramGeometry:
    """Two score distributions (shares per bin) on common edges, in unit coordinates."""

    members: tuple[Bar, ...]
    non_members: tuple[Bar, ...]
    x_ticks: tuple[Tick, ...]  # score values
    y_ticks: tuple[Tick, ...]  # shares of the cohort
    y_max: float  # the share at the top of the plot
    x_title: str = "Score (higher = more member-like)"
    y_title: str = "Share of records"


def histogram_geometry(edges: Sequence[float], members: Sequence[float],
                       non_members: Sequence[float]) -> HistogramGeometry | None:
    """Bars for both cohorts; None when there is nothing to draw."""
    if len(edges) < 2 or len(members) != len(edges) - 1 or len(non_members) != len(edges) - 1:
        return None
    low, high = float(edges[0]), float(edges[-1])
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return None
    tallest = max([*members, *non_members, 0.0]) or 1.0
    rough = nice_ticks(0.0, tallest, 4)
    y_step = rough[1] - rough[0] if len(rough) > 1 else tallest
    # The top of the plot is the first round share at or above the tallest bar.
    y_max = math.ceil(tallest / y_step - 1e-9) * y_step
    y_ticks_values = [round(i * y_step, 12) for i in range(round(y_max / y_step) + 1)]

    def bars(shares: Sequence[float]) -> tuple[Bar, ...]:
        return tuple(Bar((float(a) - low) / (high - low), (float(b) - low) / (high - low),
                         float(s) / y_max, float(s))
                     for a, b, s in zip(edges, edges[1:], shares))

    x_values = nice_ticks(low, high, 5)
    x_step = x_values[1] - x_values[0] if len(x_values) > 1 else 1.0
    x_ticks = tuple(Tick(v, (v - low) / (high - low), number_label(v, x_step), True)
                    for v in x_values if low - 1e-12 <= v <= high + 1e-12)
    y_ticks = tuple(Tick(v, v / y_max, f"{v:.{max(0, -math.floor(math.log10(y_step * 100)))}%}", True)
                    for v in y_ticks_values if v <= y_max + 1e-12)
    return HistogramGeometry(members=bars(members), non_members=bars(non_members),
                             x_ticks=x_ticks, y_ticks=y_ticks, y_max=y_max)
