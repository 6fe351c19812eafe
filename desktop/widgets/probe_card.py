"""One probe's card on the results screen: its title and verdict, the headline figure, what
it means in plain words, and its charts, drawn from the same chart specs as the PDF."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from audit_core.families import spec_of
from audit_core.report.sections.probe_evidence import histogram_chart, roc_chart
from audit_core.results.result import ProbeResult, plain
from desktop.widgets.charts import RocChart, ScoreHistogram
from desktop.widgets.verdict_badge import VerdictBadge


def plain_sentence(probe: ProbeResult) -> str:
    if probe.verdict.value == "error":
        return f"This probe stopped with an error and gives no evidence either way ({probe.error})."
    # What a verdict means, in one sentence a privacy officer can repeat: the family's own
    # (audit_core/families/), else the probe's first finding.
    spec = spec_of(probe.family)
    sentence = None if spec is None else spec.plain.get(probe.verdict)
    return sentence if sentence is not None else (probe.findings[0] if probe.findings else "")


class ProbeCard(QFrame):
    def __init__(self, probe: ProbeResult, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.probe = probe
        outer = QHBoxLayout(self)
        text_column = QWidget()
        text_column.setMaximumWidth(380)
        text_column.setMinimumWidth(260)
        layout = QVBoxLayout(text_column)
        layout.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(text_column, 2)
        top = QHBoxLayout()
        title = QLabel(probe.title)
        title.setProperty("role", "heading")
        title.setWordWrap(True)
        top.addWidget(title, 1)
        self.badge = VerdictBadge(probe.verdict.value)
        top.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        headline = QLabel(probe.headline.get("text", ""))
        headline.setProperty("role", "headline")
        headline.setToolTip(probe.headline.get("label", ""))  # the text itself names its interval
        layout.addWidget(headline)
        sentence = QLabel(plain_sentence(probe))
        sentence.setWordWrap(True)
        layout.addWidget(sentence)
        if probe.findings:
            detail = QLabel(probe.findings[0])
            detail.setWordWrap(True)
            detail.setProperty("role", "help")
            layout.addWidget(detail)
        layout.addStretch(1)
        # The same chart specs the PDF is built from, fed by the same results.
        data = plain(probe.as_dict())
        charts = QHBoxLayout()
        roc = roc_chart(data, probe.title)
        if roc is not None:
            charts.addWidget(RocChart(roc))
        histogram = histogram_chart(data)
        if histogram is not None:
            charts.addWidget(ScoreHistogram(histogram))
        outer.addLayout(charts, 3)
