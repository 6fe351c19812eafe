"""Forest plots (IntervalChart) and stacked outcome bars (StackedBarChart), drawn with
QPainter in the style of charts.py.

What to draw comes from the report's chart specs (`audit_core.report.sections.probe_charts`)
and where to draw it from `chart_geometry.interval_geometry` / `stacked_bar_geometry`, the
very functions the PDF's interval_drawing.py and stacked_drawing.py scale to points: the
app and the report cannot disagree on a tick, a bound or a count. Row labels that do not
fit the label column are elided with "…" and shown whole in a tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from audit_core.report.sections.chart_geometry import (
    interval_geometry,
    label_column,
    stacked_bar_geometry,
)
from audit_core.report.sections.elements import IntervalChart, StackedBarChart
from desktop.widgets.charts import GRID_MAJOR, INK, MEMBERS, MUTED

FLAGGED = QColor("#C62828")  # as in the PDF
REFERENCE = QColor("#8A94A0")
TONES = {"alert": (FLAGGED, QColor("#FFFFFF")), "main": (MEMBERS, QColor("#FFFFFF")),
         "quiet": (QColor("#D5DBE1"), INK)}
RIGHT, BOTTOM, LEGEND = 14, 38, 22


class _RowCanvas(QWidget):
    """The plot: one row per estimate or cohort under an optional legend line, ticks and
    the axis title below. Subclasses set `labels`, `x_title` and paint the rows."""

    legend_height = 0
    tick_labels: list[str] = []

    def __init__(self, labels: list[str], x_title: str, tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels = labels
        self.x_title = x_title
        self.tooltip = tooltip
        # Fixed: exactly as tall as its rows, measured in the font it is drawn in. The app's
        # style sheet sets that font after construction, so the height is never frozen here
        # (a height frozen in the default font let the rows run into the axis labels).
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def _empty(self, text: str) -> None:
        """Nothing to draw (no row has an estimate): say so where the chart would be."""
        painter = QPainter(self)
        painter.setPen(MUTED)
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, text)
        painter.end()

    def row_height(self) -> int:
        return max(20, QFontMetrics(self.font()).height() + 8)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt)
        return QSize(520, self.legend_height + self.row_height() * max(1, len(self.labels)) + BOTTOM)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt)
        return QSize(300, self.sizeHint().height())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt)
        if event.type() == QEvent.Type.FontChange:
            self.updateGeometry()  # the rows' height follows the font
        super().changeEvent(event)

    def label_width(self) -> float:
        metrics = QFontMetrics(self.font())
        longest = max((metrics.horizontalAdvance(t) for t in self.labels), default=0)
        return label_column(longest, self.width())

    def tick_font(self) -> QFont:
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.9))
        return small

    def right_margin(self) -> float:
        """Room for half the last tick's label, which is centred on the plot's right edge."""
        last = self.tick_labels[-1] if self.tick_labels else ""
        return max(RIGHT, QFontMetrics(self.tick_font()).horizontalAdvance(last) / 2 + 4)

    def plot_rect(self) -> QRectF:
        left = self.label_width()
        return QRectF(left, self.legend_height, max(10.0, self.width() - left - self.right_margin()),
                      self.row_height() * max(1, len(self.labels)))

    def x(self, unit: float) -> float:
        plot = self.plot_rect()
        return plot.left() + unit * plot.width()

    def y(self, unit: float) -> float:
        plot = self.plot_rect()
        return plot.bottom() - unit * plot.height()

    def shown_label(self, text: str) -> str:
        """The label as drawn: elided where the label column is too narrow for it."""
        return QFontMetrics(self.font()).elidedText(text, Qt.TextElideMode.ElideRight,
                                                    int(self.label_width() - 6))

    def elided(self) -> dict[str, str]:
        """The labels drawn shortened, by their full text (each has the full text as a tooltip)."""
        return {t: s for t in self.labels if (s := self.shown_label(t)) != t}

    def row_at(self, y: float) -> int | None:
        index = int((y - self.legend_height) // self.row_height())
        return index if 0 <= index < len(self.labels) and y >= self.legend_height else None

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            row = self.row_at(event.pos().y())
            label = self.labels[row] if row is not None else None
            text = label if label is not None and label in self.elided() else self.tooltip
            QToolTip.showText(event.globalPos(), text, self)
            return True
        return super().event(event)

    def _axis(self, painter: QPainter, ticks) -> None:
        plot = self.plot_rect()
        small = self.tick_font()
        painter.setFont(small)
        for tick in ticks:
            painter.setPen(QPen(GRID_MAJOR, 1))
            painter.drawLine(QPointF(self.x(tick.position), plot.top()), QPointF(self.x(tick.position), plot.bottom()))
            painter.setPen(MUTED)
            painter.drawText(QRectF(self.x(tick.position) - 30, plot.bottom() + 2, 60, 16),
                             Qt.AlignmentFlag.AlignCenter, tick.label)
        painter.setPen(QPen(MUTED, 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.setPen(INK)
        title = QFontMetrics(small).elidedText(self.x_title, Qt.TextElideMode.ElideRight, int(self.width()))
        painter.drawText(QRectF(0, self.height() - 18, self.width(), 16), Qt.AlignmentFlag.AlignCenter, title)
        painter.setFont(self.font())

    def _label(self, painter: QPainter, text: str, y: float) -> None:
        painter.setPen(INK)
        painter.drawText(QRectF(0, y - self.row_height() / 2, self.label_width() - 6, self.row_height()),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self.shown_label(text))


class _IntervalCanvas(_RowCanvas):
    def __init__(self, spec: IntervalChart, parent: QWidget | None = None) -> None:
        self.geometry_ = interval_geometry(spec)
        self.tick_labels = [t.label for t in self.geometry_.ticks] if self.geometry_ is not None else []
        title = self.geometry_.x_title if self.geometry_ is not None else spec.x_label
        super().__init__([r.label for r in spec.rows], title, spec.caption, parent)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        g = self.geometry_
        if g is None:
            self._empty("No estimate to draw")
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._axis(painter, g.ticks)
        plot = self.plot_rect()
        if g.reference is not None:
            painter.setPen(QPen(REFERENCE, 1.5, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(self.x(g.reference), plot.top()), QPointF(self.x(g.reference), plot.bottom()))
        for row in g.rows:
            y = self.y(row.y)
            self._label(painter, row.label, y)
            colour = FLAGGED if row.flagged else MEMBERS
            painter.setPen(QPen(colour, 1.8))
            if row.bar is not None:
                painter.drawLine(QPointF(self.x(row.bar[0]), y), QPointF(self.x(row.bar[1]), y))
            for end in row.caps:
                painter.drawLine(QPointF(self.x(end), y - 4), QPointF(self.x(end), y + 4))
            painter.setPen(QPen(QColor("#FFFFFF"), 0.8))
            painter.setBrush(colour)
            painter.drawRect(QRectF(self.x(row.point) - 4, y - 4, 8, 8))
        painter.end()


class _StackedCanvas(_RowCanvas):
    legend_height = LEGEND

    def __init__(self, spec: StackedBarChart, parent: QWidget | None = None) -> None:
        self.spec = spec
        self.geometry_ = stacked_bar_geometry(spec)
        self.tick_labels = [t.label for t in self.geometry_.ticks] if self.geometry_ is not None else []
        labels = [r.label for r in self.geometry_.rows] if self.geometry_ is not None else [b.label for b in spec.bars]
        super().__init__(labels, spec.x_label, spec.caption, parent)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        g = self.geometry_
        if g is None:
            self._empty("No signal was examined")
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._axis(painter, g.ticks)
        metrics = QFontMetrics(self.font())
        bar = self.row_height() * 0.7
        for row in g.rows:
            y = self.y(row.y)
            self._label(painter, row.label, y)
            for segment in row.segments:
                if segment.count <= 0:
                    continue
                fill, ink = TONES.get(self.spec.tones[segment.part], TONES["main"])
                box = QRectF(QPointF(self.x(segment.x0), y - bar / 2), QPointF(self.x(segment.x1), y + bar / 2))
                painter.setPen(QPen(QColor("#FFFFFF"), 1))
                painter.setBrush(fill)
                painter.drawRect(box)
                if metrics.horizontalAdvance(segment.label) + 4 <= box.width():
                    painter.setPen(ink)
                    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, segment.label)
        x = self.plot_rect().left()
        for name, tone in zip(self.spec.parts, self.spec.tones):
            fill, _ = TONES.get(tone, TONES["main"])
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRect(QRectF(x, 6, 12, 10))
            painter.setPen(INK)
            painter.drawText(QRectF(x + 16, 0, metrics.horizontalAdvance(name) + 4, LEGEND),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
            x += 16 + metrics.horizontalAdvance(name) + 18
        painter.end()


class _Titled(QWidget):
    """The chart's title above it, wrapped (never cut), as in the PDF."""

    def __init__(self, title: str, canvas: _RowCanvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.title = QLabel(title)
        self.title.setWordWrap(True)
        bold = QFont(self.title.font())
        bold.setBold(True)
        self.title.setFont(bold)
        layout.addWidget(self.title)
        self.canvas = canvas
        layout.addWidget(canvas)
        self.setToolTip(canvas.tooltip)


class ForestPlot(_Titled):
    """Estimates with their 95% intervals against the dashed reference line."""

    def __init__(self, spec: IntervalChart, parent: QWidget | None = None) -> None:
        super().__init__(spec.title, _IntervalCanvas(spec), parent)
        self.spec = spec
        self.setAccessibleName(f"Forest plot: {spec.title}")


class OutcomeBars(_Titled):
    """Each cohort's cases split by outcome, end to end on a count axis (T5)."""

    def __init__(self, spec: StackedBarChart, parent: QWidget | None = None) -> None:
        super().__init__(spec.title, _StackedCanvas(spec), parent)
        self.spec = spec
        self.setAccessibleName(f"Bar chart: {spec.title}")
