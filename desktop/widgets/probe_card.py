"""One probe's card on the results screen: its title and verdict, what the result means for
a patient, the headline figure, the detail, and its charts, drawn from the same chart specs
as the PDF (chart_factory.py).

Text on top across the whole card, charts below: a forest plot needs the card's width for
its labels, and text in a narrow column beside an empty space (a card without charts)
squeezed the headline until it was cut. Every label wraps, so nothing is cut at any width.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from audit_core.families import spec_of
from audit_core.report.sections.clinical_meaning import clinical_meaning
from audit_core.report.sections.template_figures import net_of_template
from audit_core.results.result import ProbeResult, plain
from desktop.widgets.chart_factory import chart_widgets
from desktop.widgets.verdict_badge import VerdictBadge

# Two charts side by side (ROC and histogram) each keep a readable shape; beyond this they
# would only stretch flat.
MAX_SIDE_BY_SIDE_WIDTH = 560


def plain_sentence(probe: ProbeResult) -> str:
    if probe.verdict.value == "error":
        return f"This probe stopped with an error and gives no evidence either way ({probe.error})."
    # What a verdict means for a patient, in one sentence a privacy officer can repeat: the
    # family's own for this verdict (audit_core/families/); else, for a finding, the family's
    # sentence of what was found (as the report's summary words it); for a T2 or T6 pass,
    # the report's reading of its intervals; else the probe's first finding.
    spec = spec_of(probe.family)
    sentence = None if spec is None else spec.plain.get(probe.verdict)
    if sentence is None and spec is not None and probe.verdict.value in ("fail", "warn"):
        sentence = spec.wording.found
    if sentence is None:
        sentence = clinical_meaning(plain(probe.as_dict()), probe.verdict.value)
    return sentence if sentence is not None else (probe.findings[0] if probe.findings else "")


def card_texts(probe: ProbeResult) -> tuple[str, str, str]:
    """What the card says, in order: the meaning for a patient, the headline figure, and
    the first finding unless it repeats the meaning (empty then)."""
    sentence = plain_sentence(probe)
    detail = probe.findings[0] if probe.findings else ""
    return sentence, probe.headline.get("text", ""), "" if detail.strip() == sentence.strip() else detail


def _wrapped(text: str, role: str | None = None) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if role:
        label.setProperty("role", role)
    return label


class ProbeCard(QFrame):
    def __init__(self, probe: ProbeResult, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.probe = probe
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        top = QHBoxLayout()
        title = _wrapped(probe.title, "heading")
        top.addWidget(title, 1)
        self.badge = VerdictBadge(probe.verdict.value)
        top.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        sentence, headline, detail = card_texts(probe)
        self.sentence = _wrapped(sentence)
        layout.addWidget(self.sentence)
        self.headline = _wrapped(headline, "headline")
        self.headline.setToolTip(probe.headline.get("label", ""))  # the text itself names its interval
        layout.addWidget(self.headline)
        # Extraction and identifiers: the figure the verdict reads when template text (a shared
        # header) changed it, beside the raw headline; the report's words (template_figures.py).
        net = net_of_template(plain(probe.as_dict()))
        self.net: QLabel | None = _wrapped(net) if net else None
        if self.net is not None:
            layout.addWidget(self.net)
        self.detail: QLabel | None = None
        if detail:
            self.detail = _wrapped(detail, "help")
            layout.addWidget(self.detail)
        # The same chart specs the PDF is built from, fed by the same results.
        self.charts = chart_widgets(plain(probe.as_dict()), probe.title)
        row = QHBoxLayout()
        row.setSpacing(16)
        for chart in self.charts:
            if len(self.charts) > 1:
                chart.setMaximumWidth(MAX_SIDE_BY_SIDE_WIDTH)
            row.addWidget(chart, 1)
        if len(self.charts) > 1:
            row.addStretch(0)
        layout.addSpacing(4)
        layout.addLayout(row)

    def texts(self) -> list[str]:
        """Every sentence the card shows, in order (the tests check none is shown twice)."""
        labels = [self.sentence, self.headline] + ([self.net] if self.net else []) + \
            ([self.detail] if self.detail else [])
        return [label.text() for label in labels if label.text()]
