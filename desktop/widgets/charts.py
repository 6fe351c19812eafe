"""The ROC curve (log-log) and the two score distributions, drawn with QPainter.

All geometry comes from `audit_core.chart_geometry`, the module the PDF uses too: these
widgets only scale unit coordinates to pixels and stroke them.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from audit_core.chart_geometry import HistogramGeometry, RocGeometry, histogram_geometry, roc_geometry

INK = QColor("#1A1A1A")
MUTED = QColor("#5F6B7A")
GRID_MAJOR = QColor("#C9D1DA")
GRID_MINOR = QColor("#EBEFF3")
CHANCE = QColor("#8A94A0")
MEMBERS = QColor("#0B4F8A")  # Okabe-Ito-like, as in the PDF
NON_MEMBERS = QColor("#D55E00")

LEFT, BOTTOM, TOP, RIGHT = 46, 36, 22, 12


class _Chart(QWidget):
    title = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(250, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        return QSize(300, 230)

    def plot_rect(self) -> QRectF:
        return QRectF(LEFT, TOP, max(10, self.width() - LEFT - RIGHT), max(10, self.height() - TOP - BOTTOM))

    def to_pixels(self, x: float, y: float) -> QPointF:
        plot = self.plot_rect()
        return QPointF(plot.left() + x * plot.width(), plot.bottom() - y * plot.height())

    def _frame(self, painter: QPainter, x_title: str, y_title: str) -> None:
        plot = self.plot_rect()
        painter.setPen(QPen(MUTED, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(plot)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)
        painter.setPen(INK)
        painter.drawText(QRectF(plot.left(), self.height() - 16, plot.width(), 16),
                         Qt.AlignmentFlag.AlignCenter, x_title)
        painter.save()
        painter.translate(10, plot.center().y())
        painter.rotate(-90)
        painter.drawText(QRectF(-plot.height() / 2 - 20, -8, plot.height() + 40, 16),
                         Qt.AlignmentFlag.AlignCenter, y_title)
        painter.restore()
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(QRectF(plot.left(), 2, plot.width(), TOP - 4),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title)
        painter.setFont(font)

    def _tick_label(self, painter: QPainter, text: str, x: float | None, y: float | None) -> None:
        painter.setPen(MUTED)
        plot = self.plot_rect()
        if x is not None:
            painter.drawText(QRectF(x - 30, plot.bottom() + 2, 60, 14), Qt.AlignmentFlag.AlignCenter, text)
        if y is not None:
            painter.drawText(QRectF(0, y - 7, LEFT - 4, 14),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)


class RocChart(_Chart):
    """ROC on log-log axes: privacy lives at low false-positive rates."""

    title = "ROC curve (log-log)"

    def __init__(self, fpr: Sequence[float], tpr: Sequence[float], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.geometry_: RocGeometry = roc_geometry(fpr, tpr)
        self.setToolTip("How many members an attacker finds (up) for each share of non-members "
                        "wrongly flagged (right). The dashed line is a random guess.")
        self.setAccessibleName("ROC curve on log-log axes")

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        g = self.geometry_
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.plot_rect(), QColor("#FFFFFF"))
        for tick in g.ticks:
            painter.setPen(QPen(GRID_MAJOR if tick.major else GRID_MINOR, 1))
            painter.drawLine(self.to_pixels(tick.position, 0), self.to_pixels(tick.position, 1))
            painter.drawLine(self.to_pixels(0, tick.position), self.to_pixels(1, tick.position))
        self._frame(painter, "False positive rate", "True positive rate")
        for tick in g.ticks:
            if tick.major:
                self._tick_label(painter, tick.label, self.to_pixels(tick.position, 0).x(), None)
                self._tick_label(painter, tick.label, None, self.to_pixels(0, tick.position).y())
        pen = QPen(CHANCE, 1, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(self.to_pixels(*g.chance[0]), self.to_pixels(*g.chance[1]))
        if g.curve:
            path = QPainterPath(self.to_pixels(*g.curve[0]))
            for point in g.curve[1:]:
                path.lineTo(self.to_pixels(*point))
            painter.setPen(QPen(MEMBERS, 2))
            painter.drawPath(path)
            painter.setBrush(MEMBERS)
            painter.setPen(QPen(QColor("#FFFFFF"), 0.8))
            for point in g.markers:
                painter.drawEllipse(self.to_pixels(*point), 3, 3)
        painter.end()


class ScoreHistogram(_Chart):
    """Members' and non-members' scores: the further apart, the more the model remembers."""

    title = "Scores"

    def __init__(self, edges: Sequence[float], members: Sequence[float], non_members: Sequence[float],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.geometry_: HistogramGeometry | None = histogram_geometry(edges, members, non_members)
        self.setToolTip("Share of members (blue) and non-members (orange) per score; "
                        "higher scores look more like training data.")
        self.setAccessibleName("Score distributions of members and non-members")

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.plot_rect(), QColor("#FFFFFF"))
        g = self.geometry_
        if g is None:
            self._frame(painter, "Score", "Share of records")
            painter.setPen(MUTED)
            painter.drawText(self.plot_rect(), Qt.AlignmentFlag.AlignCenter, "No scores to show")
            painter.end()
            return
        for tick in g.y_ticks:
            painter.setPen(QPen(GRID_MAJOR, 1))
            painter.drawLine(self.to_pixels(0, tick.position), self.to_pixels(1, tick.position))
        for bars, colour in ((g.non_members, NON_MEMBERS), (g.members, MEMBERS)):
            fill = QColor(colour)
            fill.setAlpha(110)
            painter.setBrush(fill)
            painter.setPen(QPen(colour, 1))
            for bar in bars:
                if bar.height <= 0:
                    continue
                top_left = self.to_pixels(bar.x0, bar.height)
                bottom_right = self.to_pixels(bar.x1, 0)
                painter.drawRect(QRectF(top_left, bottom_right))
        self._frame(painter, "Score (higher = more member-like)", "Share of records")
        for tick in g.x_ticks:
            self._tick_label(painter, tick.label, self.to_pixels(tick.position, 0).x(), None)
        for tick in g.y_ticks:
            self._tick_label(painter, tick.label, None, self.to_pixels(0, tick.position).y())
        self._legend(painter)
        painter.end()

    def _legend(self, painter: QPainter) -> None:
        # In the title row, after the title: inside the plot it would hide bars.
        plot = self.plot_rect()
        start = plot.left() + painter.fontMetrics().horizontalAdvance(self.title) + 24
        for column, (name, colour) in enumerate((("Members", MEMBERS), ("Non-members", NON_MEMBERS))):
            x = start + column * 84
            y = 6
            fill = QColor(colour)
            fill.setAlpha(110)
            painter.setBrush(fill)
            painter.setPen(QPen(colour, 1))
            painter.drawRect(QRectF(x, y, 10, 10))
            painter.setPen(INK)
            painter.drawText(QRectF(x + 14, y - 2, 100, 14),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
