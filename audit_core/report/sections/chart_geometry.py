"""Chart geometry shared by the desktop app and the PDF: plain data, no drawing library.

The ROC curve, the score distributions, the forest plots and the stacked outcome bars are
computed here once, in unit coordinates
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

from audit_core.results.figures import format_count

from .elements import IntervalChart, StackedBarChart

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


def nice_ticks(low: float, high: float, count: int = 5, *, enclose: bool = False) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 x 10^k apart): inside [low, high], or with
    `enclose` from the round value at or below `low` to the one at or above `high`, so an
    axis that ends on its outer ticks shows every value (a forest plot's intervals)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [low] if math.isfinite(low) else ([0.0] if enclose else [])
    if enclose and high - low < 1e-12:
        low, high = low - 0.5, high + 0.5  # one value: a unit-wide axis centred on it
    if high <= low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    if enclose:
        value = math.floor(low / step + 1e-9) * step
        ticks: list[float] = []
        while not ticks or ticks[-1] < high - 1e-12:
            ticks.append(round(value, 10))
            value += step
        return ticks
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


# Forest plots (IntervalChart) and stacked outcome bars (StackedBarChart): one row per
# estimate or cohort, rows spread evenly from the top, values along x.

# A row label may take at most this share of the chart's width; a longer one is elided
# (the PDF) or elided with its full text in a tooltip (the app).
LABEL_SHARE = 0.45


def label_column(longest: float, width: float) -> float:
    """The width of the row labels' column, in the front end's units: the longest label
    plus a gap, but never so much that the plot is squeezed."""
    return min(LABEL_SHARE * width, longest + 8)


def row_centre(index: int, rows: int) -> float:
    """Unit y of row `index`'s centre, the first row at the top (y points up)."""
    return 1.0 - (index + 0.5) / max(1, rows)


def signed_label(value: float, ticks: Sequence[float]) -> str:
    """A tick value with as few decimals as show every tick exactly (0.25 needs two, 0.2
    one), a true minus sign, and a plain 0."""
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    decimals = 0
    while decimals < 6 and abs(round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6:
        decimals += 1
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text.replace("-", "\u2212")


@dataclass(frozen=True, slots=True)
class IntervalRow:
    label: str
    y: float  # unit coordinates
    point: float
    bar: tuple[float, float] | None  # the stroke: the interval, or a one-sided bound to the estimate
    caps: tuple[float, ...]  # a short tick at each bound
    flagged: bool


@dataclass(frozen=True, slots=True)
class IntervalGeometry:
    """A forest plot in unit coordinates: x from the first tick to the last."""

    low: float  # the values at x = 0 and x = 1
    high: float
    ticks: tuple[Tick, ...]
    rows: tuple[IntervalRow, ...]
    reference: float | None  # unit x of the dashed line
    x_title: str


def interval_geometry(chart: IntervalChart) -> IntervalGeometry | None:
    """Where every estimate, bound and tick of a forest plot sits; None when nothing has a
    value. The axis spans every interval and the reference line, ending on round ticks."""
    values = [v for row in chart.rows for v in (row.value, row.low, row.high)
              if v is not None and math.isfinite(v)]
    if chart.reference is not None and math.isfinite(chart.reference):
        values.append(chart.reference)
    if not values:
        return None
    tick_values = nice_ticks(min(values), max(values), enclose=True)
    low, high = tick_values[0], tick_values[-1]

    def x(value: float) -> float:
        return (value - low) / (high - low)

    rows = []
    for index, row in enumerate(chart.rows):
        ends = [e for e in (row.low, row.high) if e is not None]
        # A one-sided bound (no upper end) is drawn from the bound to the estimate.
        bar = None if not ends else (x(ends[0]), x(ends[1] if len(ends) == 2 else row.value))
        rows.append(IntervalRow(row.label, row_centre(index, len(chart.rows)), x(row.value), bar,
                                tuple(x(e) for e in ends), row.flagged))
    ticks = tuple(Tick(v, x(v), signed_label(v, tick_values), True) for v in tick_values)
    reference = None if chart.reference is None else x(chart.reference)
    title = chart.x_label + (f" (dashed: {chart.reference_label})" if chart.reference_label else "")
    return IntervalGeometry(low=low, high=high, ticks=ticks, rows=tuple(rows), reference=reference,
                            x_title=title)


@dataclass(frozen=True, slots=True)
class Segment:
    x0: float  # unit coordinates
    x1: float
    count: int
    part: int  # the index into the chart's parts (its name, its tone)
    label: str  # the count as printed, empty when zero


@dataclass(frozen=True, slots=True)
class StackedRow:
    label: str  # the cohort, with its total
    y: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class StackedGeometry:
    rows: tuple[StackedRow, ...]
    ticks: tuple[Tick, ...]
    maximum: int  # the count at x = 1
    x_title: str


def stacked_bar_geometry(chart: StackedBarChart) -> StackedGeometry | None:
    """Each cohort's counts end to end along a common count axis; None when every count is
    zero. Counts, not shares: with a handful of patients a share would hide how few there
    are."""
    totals = [sum(bar.counts) for bar in chart.bars]
    if not totals or max(totals) <= 0:
        return None
    top = max(totals)
    values = [v for v in nice_ticks(0.0, float(top), min(5, top + 1), enclose=True) if v == int(v)]
    if len(values) < 2:  # a step below one would ask for half a patient
        values = [float(v) for v in range(top + 1)]
    maximum = int(values[-1])
    rows = []
    for index, bar in enumerate(chart.bars):
        segments, start = [], 0
        for part, count in enumerate(bar.counts):
            segments.append(Segment(start / maximum, (start + count) / maximum, count, part,
                                    format_count(count) if count else ""))
            start += count
        rows.append(StackedRow(f"{bar.label} ({format_count(start)})",
                               row_centre(index, len(chart.bars)), tuple(segments)))
    ticks = tuple(Tick(v, v / maximum, format_count(int(v)), True) for v in values)
    return StackedGeometry(rows=tuple(rows), ticks=ticks, maximum=maximum, x_title=chart.x_label)
